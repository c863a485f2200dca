//! One error type per operation. Messages say what (which recording,
//! which file) and why; the `io::Error` behind one is its `source()`.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use makara_config::Id;
use thiserror::Error;

/// A text field longer than its limit.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field} is {len} characters long, at most {max} are allowed")]
pub struct TooLong {
    pub field: &'static str,
    pub len: usize,
    pub max: usize,
}

/// Why [`Recorder::open`](crate::Recorder::open) failed.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot create the recordings directory {}", path.display())]
    CreateRoot { path: PathBuf, source: io::Error },
    #[error("cannot lock the recordings directory (is another makarad recording into it?)")]
    Lock(#[from] makara_store::LockError),
    #[error(transparent)]
    Recover(#[from] RecoverError),
}

/// Why [`recover`](crate::recover()) could not look at the recordings at
/// all. A problem with one recording does not fail it: it is reported in
/// [`Recovery::problems`](crate::Recovery) and the others are recovered.
#[derive(Debug, Error)]
pub enum RecoverError {
    #[error("cannot lock the recordings directory (is another makarad recording into it?)")]
    Lock(#[from] makara_store::LockError),
    #[error("cannot list the recordings directory {}", path.display())]
    ReadRoot { path: PathBuf, source: io::Error },
}

/// Why a recording did not start. Nothing was left on disk.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("a recording needs at least one source")]
    NoSources,
    #[error("a recording may have at most {max} sources, {count} were given")]
    TooManySources { count: usize, max: usize },
    #[error(transparent)]
    TooLong(#[from] TooLong),
    #[error("{max} recordings are running already, the most at once; stop one first")]
    TooManyRecordings { max: usize },
    #[error(
        "only {available} bytes are free on the disk holding {}; a recording needs at least {needed}",
        path.display()
    )]
    LowSpace {
        path: PathBuf,
        available: u64,
        needed: u64,
    },
    #[error("cannot tell the free space of the disk holding {}", path.display())]
    Space { path: PathBuf, source: io::Error },
    #[error("cannot create {}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot start a writer thread for recording {id}")]
    Thread { id: Id, source: io::Error },
}

/// Why a pause or resume was refused. The recording is as it was.
#[derive(Debug, Error)]
pub enum ControlError {
    #[error("recording {id} has finished ({reason})")]
    Finished { id: Id, reason: crate::FinishReason },
    #[error("cannot save the metadata of recording {id} in {}", path.display())]
    Save {
        id: Id,
        path: PathBuf,
        source: io::Error,
    },
}

/// Why [`Recording::stop`](crate::Recording::stop) did not return the
/// finished asset.
#[derive(Debug, Error)]
pub enum StopError {
    #[error("recording {id} has finished already ({reason})")]
    Finished { id: Id, reason: crate::FinishReason },
    #[error("recording {id} is still being finalised after {waited:?}; it finishes on its own")]
    Slow { id: Id, waited: Duration },
}

/// Why [`Recorder::update`](crate::Recorder::update) failed. Nothing
/// changed.
#[derive(Debug, Error)]
pub enum UpdateError {
    #[error("no recording {id}")]
    NotFound { id: Id },
    #[error(transparent)]
    TooLong(#[from] TooLong),
    #[error("cannot save the metadata of recording {id} in {}", path.display())]
    Save {
        id: Id,
        path: PathBuf,
        source: io::Error,
    },
}

/// Why [`Recorder::delete`](crate::Recorder::delete) failed.
#[derive(Debug, Error)]
pub enum DeleteError {
    #[error("no recording {id}")]
    NotFound { id: Id },
    #[error("recording {id} is still recording; stop it first")]
    Live { id: Id },
    /// The recording is gone from the catalog, but some of its files may
    /// be left (in a directory the next start removes).
    #[error("cannot remove {}", path.display())]
    Remove { path: PathBuf, source: io::Error },
}

/// Why [`Recorder::track_path`](crate::Recorder::track_path) has no file
/// to give.
#[derive(Debug, Error)]
pub enum TrackError {
    #[error("no recording {id}")]
    NotFound { id: Id },
    #[error("recording {id} has {tracks} tracks; there is no track {track}")]
    NoTrack { id: Id, track: usize, tracks: usize },
    #[error("recording {id} is still recording; its files are complete once it stops")]
    Live { id: Id },
}
