//! The errors of recordings, assets, sources and thumbnails: one enum per
//! operation, in the supervisor's words. A recorder that could not be
//! opened is [`CommandError::RecorderUnavailable`](crate::CommandError)
//! for all of them.

use makara_config::{Id, Invalid};
use makara_recorder::FinishReason;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StartRecordingError {
    #[error("no group with id {0}")]
    GroupNotFound(Id),
    /// The group has no outputs at all.
    #[error("group '{0}' has no outputs to record; add one first")]
    NoOutputs(String),
    /// Outputs were named, and none of them is in the group.
    #[error("none of the outputs asked for is in group '{0}'")]
    NoneInGroup(String),
    #[error("{max} recordings are running already, the most at once; stop one first")]
    TooMany { max: usize },
    /// Less free space on the data disk than a recording needs to start;
    /// the message names the disk and both amounts.
    #[error("{0}")]
    NoSpace(String),
    /// The media engine cannot copy an output's stream (a build without
    /// a media pipeline); nothing was left on disk.
    #[error("the outputs cannot be recorded: {0}")]
    Tap(String),
    /// The recording's files or its writer could not be made.
    #[error("the recording could not be started: {0}")]
    Failed(String),
}

/// Why a live recording could not be shown, paused or resumed.
#[derive(Debug, Error)]
pub enum RecordingError {
    /// No recording has this id.
    #[error("no recording with id {0}")]
    NotFound(Id),
    /// The recording has finished: it is an asset now.
    #[error("recording {id} has finished ({reason})")]
    Finished { id: Id, reason: FinishReason },
    /// Its metadata could not be saved; it is as it was.
    #[error("{0}")]
    Save(String),
}

#[derive(Debug, Error)]
pub enum StopRecordingError {
    #[error("no recording with id {0}")]
    NotFound(Id),
    #[error("recording {id} has finished already ({reason})")]
    Finished { id: Id, reason: FinishReason },
    /// The disk is slow: the recording was told to stop and finishes on
    /// its own; its asset says so once it has.
    #[error("{0}")]
    Slow(String),
}

#[derive(Debug, Error)]
pub enum AssetLookupError {
    #[error("no recording with id {0}")]
    NotFound(Id),
}

#[derive(Debug, Error)]
pub enum UpdateAssetError {
    #[error("no recording with id {0}")]
    NotFound(Id),
    /// A title or description too long (`Invalid::TooLong`).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The metadata could not be saved; nothing changed.
    #[error("{0}")]
    Save(String),
}

#[derive(Debug, Error)]
pub enum DeleteAssetError {
    #[error("no recording with id {0}")]
    NotFound(Id),
    #[error("recording {0} is still recording; stop it first")]
    Live(Id),
    /// It is gone from the list, but some of its files could not be
    /// removed (the next start removes them).
    #[error("{0}")]
    Remove(String),
}

#[derive(Debug, Error)]
pub enum TrackFileError {
    #[error("no recording with id {0}")]
    NotFound(Id),
    #[error("recording {id} has {tracks} tracks; there is no track {track}")]
    NoTrack { id: Id, track: usize, tracks: usize },
    /// Its files are still growing.
    #[error("recording {0} is still recording; its files are complete once it stops")]
    Live(Id),
}

#[derive(Debug, Error)]
pub enum SourceLookupError {
    #[error("no output with id {0}")]
    NotFound(Id),
}

#[derive(Debug, Error)]
pub enum ThumbnailError {
    #[error("no output with id {0}")]
    OutputNotFound(Id),
    /// No stream is configured to send to the output.
    #[error("no stream sends to output '{0}'")]
    NoStream(String),
    /// Streams send to it, but none runs.
    #[error("stream '{stream}', which sends to output '{output}', is not running")]
    NotRunning { output: String, stream: String },
    /// The stream runs but has no picture yet (just started, or its
    /// source gives none); the engine's words.
    #[error("no picture yet: {0}")]
    NoPicture(String),
    /// This engine cannot make pictures (a build without a media
    /// pipeline); the engine's words.
    #[error("{0}")]
    Unavailable(String),
}

/// An error with every cause behind it, for messages: the recorder's
/// errors name the file, their `io::Error` source says what happened.
pub(crate) fn full_message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
