//! One error enum per operation, in the supervisor's words. The API maps
//! each variant to an HTTP status and an error code of its protocol in
//! exactly one place.

use makara_config::{Id, Invalid};
use thiserror::Error;

use crate::command::Kind;
use crate::document::PersistError;
use crate::recording_error::{
    AssetLookupError, DeleteAssetError, RecordingError, SourceLookupError, StartRecordingError,
    StopRecordingError, ThumbnailError, TrackFileError, UpdateAssetError,
};

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
    #[error(transparent)]
    GroupLookup(#[from] GroupLookupError),
    #[error(transparent)]
    CreateGroup(#[from] CreateGroupError),
    #[error(transparent)]
    UpdateGroup(#[from] UpdateGroupError),
    #[error(transparent)]
    DeleteGroup(#[from] DeleteGroupError),
    #[error(transparent)]
    AddGroupOutput(#[from] AddGroupOutputError),
    #[error(transparent)]
    RemoveGroupOutput(#[from] RemoveGroupOutputError),
    #[error(transparent)]
    SourceLookup(#[from] SourceLookupError),
    #[error(transparent)]
    StartRecording(#[from] StartRecordingError),
    /// Getting, pausing or resuming a live recording.
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error(transparent)]
    StopRecording(#[from] StopRecordingError),
    #[error(transparent)]
    AssetLookup(#[from] AssetLookupError),
    #[error(transparent)]
    UpdateAsset(#[from] UpdateAssetError),
    #[error(transparent)]
    DeleteAsset(#[from] DeleteAssetError),
    #[error(transparent)]
    TrackFile(#[from] TrackFileError),
    #[error(transparent)]
    Thumbnail(#[from] ThumbnailError),
    /// The recorder could not be opened at boot (the reason says why), so
    /// no command on recordings or assets can work.
    #[error("recordings are unavailable: {0}")]
    RecorderUnavailable(String),
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
    /// A transcoder's or test pattern's picture larger than the board's
    /// largest (`BoardLimits`).
    #[error("{kind} '{name}': {width}x{height} is larger than this board's largest picture, {max_width}x{max_height}")]
    Picture {
        kind: Kind,
        name: String,
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
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
    /// An output that a live recording records.
    #[error(
        "output {output} is being recorded by recording {recording}; stop the recording first"
    )]
    Recorded { output: Id, recording: Id },
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
    /// The board's count of streams running at once is reached.
    #[error("at most {max} streams run at once on this board; stop one first")]
    TooMany { max: usize },
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

// -- groups ----------------------------------------------------------------

#[derive(Debug, Error)]
pub enum GroupLookupError {
    #[error("no group with id {0}")]
    NotFound(Id),
}

#[derive(Debug, Error)]
pub enum CreateGroupError {
    /// A title or description out of its range (the field is named).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("groups: at most {max} groups are kept; delete one first")]
    TooMany { max: usize },
    #[error("the saved configuration would take {size} bytes, more than its limit of {max} bytes; delete unused resources, presets or groups first")]
    TooLarge { size: usize, max: usize },
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum UpdateGroupError {
    #[error("no group with id {0}")]
    NotFound(Id),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the saved configuration would take {size} bytes, more than its limit of {max} bytes; delete unused resources, presets or groups first")]
    TooLarge { size: usize, max: usize },
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum DeleteGroupError {
    #[error("no group with id {0}")]
    NotFound(Id),
    #[error("group '{group}' is being recorded (recording {recording}); stop the recording first")]
    Recording { group: String, recording: Id },
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum AddGroupOutputError {
    #[error("no group with id {0}")]
    GroupNotFound(Id),
    #[error("no output with id {0}")]
    OutputNotFound(Id),
    #[error("output {output} is in group '{group}' already")]
    AlreadyInGroup { group: String, output: Id },
    #[error("group '{group}' has {max} outputs, the most a group may have")]
    TooManyOutputs { group: String, max: usize },
    #[error("group '{group}' is being recorded (recording {recording}); stop the recording first")]
    Recording { group: String, recording: Id },
    #[error("the saved configuration would take {size} bytes, more than its limit of {max} bytes; delete unused resources, presets or groups first")]
    TooLarge { size: usize, max: usize },
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

#[derive(Debug, Error)]
pub enum RemoveGroupOutputError {
    #[error("no group with id {0}")]
    GroupNotFound(Id),
    #[error("output {output} is not in group '{group}'")]
    NotInGroup { group: String, output: Id },
    #[error("group '{group}' is being recorded (recording {recording}); stop the recording first")]
    Recording { group: String, recording: Id },
    #[error("the configuration could not be saved: {0}")]
    Storage(#[source] PersistError),
}

/// Why a change to the groups was not saved: the document would be too
/// large, or the store failed. Callers turn it into their operation's
/// error.
#[derive(Debug)]
pub(crate) enum GroupSaveError {
    TooLarge { size: usize, max: usize },
    Storage(PersistError),
}

impl From<GroupSaveError> for CreateGroupError {
    fn from(e: GroupSaveError) -> CreateGroupError {
        match e {
            GroupSaveError::TooLarge { size, max } => CreateGroupError::TooLarge { size, max },
            GroupSaveError::Storage(e) => CreateGroupError::Storage(e),
        }
    }
}

impl From<GroupSaveError> for UpdateGroupError {
    fn from(e: GroupSaveError) -> UpdateGroupError {
        match e {
            GroupSaveError::TooLarge { size, max } => UpdateGroupError::TooLarge { size, max },
            GroupSaveError::Storage(e) => UpdateGroupError::Storage(e),
        }
    }
}

impl From<GroupSaveError> for AddGroupOutputError {
    fn from(e: GroupSaveError) -> AddGroupOutputError {
        match e {
            GroupSaveError::TooLarge { size, max } => AddGroupOutputError::TooLarge { size, max },
            GroupSaveError::Storage(e) => AddGroupOutputError::Storage(e),
        }
    }
}
