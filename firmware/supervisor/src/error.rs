//! One error enum per operation, in the supervisor's words. The API maps
//! each variant to an HTTP status and an error code of its protocol in
//! exactly one place.

use makara_config::{Id, Invalid};
use thiserror::Error;

use crate::command::Kind;
use crate::document::PersistError;

/// Any command's failure.
#[derive(Debug, Error)]
pub enum CommandError {
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error(transparent)]
    Create(#[from] CreateError),
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    Delete(#[from] DeleteError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Stop(#[from] StopError),
    /// The command hit a bug and was abandoned; the supervisor carries on.
    #[error("the command failed unexpectedly; see the appliance log")]
    Panicked,
    /// The supervisor thread has gone; nothing can be done.
    #[error("the supervisor is not running")]
    Gone,
}

#[derive(Debug, Error)]
pub enum LookupError {
    #[error("no {kind} with id {id}")]
    NotFound { kind: Kind, id: Id },
}

#[derive(Debug, Error)]
pub enum CreateError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{field}: no {kind} with id {id}")]
    UnknownReference {
        field: &'static str,
        kind: Kind,
        id: Id,
    },
    #[error("name: a preset named '{0}' already exists")]
    DuplicateName(String),
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum UpdateError {
    #[error("no {kind} with id {id}")]
    NotFound { kind: Kind, id: Id },
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{field}: no {kind} with id {id}")]
    UnknownReference {
        field: &'static str,
        kind: Kind,
        id: Id,
    },
    #[error("{kind} {id} is in use by running stream '{stream}'; stop the stream first")]
    InUse { kind: Kind, id: Id, stream: String },
    #[error("stream '{0}' is running; stop it first")]
    Running(String),
    #[error("nothing to do: neither activating the preset nor changing the default was asked")]
    NothingToDo,
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

/// A limit of the configuration as a whole that a change would break
/// (`limits.rs`). Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LimitError {
    #[error("{kind}s: at most {max} {kind}s are kept; delete one first")]
    TooMany { kind: Kind, max: usize },
    #[error("the saved configuration, presets included, would take {size} bytes, more than its limit of {max} bytes; delete unused resources or presets first")]
    TooLarge { size: usize, max: usize },
}

/// Why a change that may grow the configuration was not made: a limit, or
/// the store. Callers turn it into their operation's error.
#[derive(Debug, Error)]
pub(crate) enum GrowthError {
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error(transparent)]
    Storage(#[from] PersistError),
}

impl From<GrowthError> for CreateError {
    fn from(e: GrowthError) -> CreateError {
        match e {
            GrowthError::Limit(e) => CreateError::Limit(e),
            GrowthError::Storage(e) => CreateError::Storage(e),
        }
    }
}

impl From<GrowthError> for UpdateError {
    fn from(e: GrowthError) -> UpdateError {
        match e {
            GrowthError::Limit(e) => UpdateError::Limit(e),
            GrowthError::Storage(e) => UpdateError::Storage(e),
        }
    }
}

#[derive(Debug, Error)]
pub enum DeleteError {
    #[error("no {kind} with id {id}")]
    NotFound { kind: Kind, id: Id },
    #[error("{kind} {id} is used by stream '{stream}'; edit or delete the stream first")]
    InUse { kind: Kind, id: Id, stream: String },
    #[error("stream '{0}' is running; stop it first")]
    Running(String),
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum StartError {
    #[error("no stream with id {0}")]
    NotFound(Id),
    /// The stream's configuration refers to something that no longer exists.
    #[error("{field}: no {kind} with id {id}")]
    Dangling {
        field: &'static str,
        kind: Kind,
        id: Id,
    },
    /// No media engine can run streams in this build.
    #[error("{0}")]
    EngineUnavailable(String),
    #[error("the stream could not be started: {0}")]
    Engine(String),
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum StopError {
    #[error("no stream with id {0}")]
    NotFound(Id),
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}
