//! What the recorder tells about a recording, live or finished.

use std::fmt;

use makara_config::Id;

/// Where a recording is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Its writer is recording what the sinks are given.
    Recording,
    /// Its writer runs, but what the sinks are given is let go; the
    /// duration does not grow.
    Paused,
    /// Its files are complete and will not change: an asset.
    Finished(FinishReason),
}

impl State {
    /// Recording or paused: a writer still owns the files.
    pub fn is_live(self) -> bool {
        !matches!(self, State::Finished(_))
    }
}

/// Why a recording finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// Its owner stopped it.
    Stopped,
    /// The data disk filled up (a write failed for want of space, or free
    /// space fell below [`Limits::keep_free_bytes`](crate::Limits)).
    DiskFull,
    /// makarad stopped, or died, while it recorded; it was finalised at
    /// shutdown or at the next start.
    Interrupted,
    /// Writing or syncing a track file failed for another reason.
    WriteError,
}

impl FinishReason {
    /// The word the metadata file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stopped => "stopped",
            FinishReason::DiskFull => "disk-full",
            FinishReason::Interrupted => "interrupted",
            FinishReason::WriteError => "write-error",
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FinishReason::Stopped => "stopped by its owner",
            FinishReason::DiskFull => "the data disk is full",
            FinishReason::Interrupted => "interrupted by a restart",
            FinishReason::WriteError => "a track file could not be written",
        })
    }
}

/// One track: the recording of one source, in `track-<n>.ts`.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The source (output) it records.
    pub source: Id,
    /// Bytes in its file (while live: accepted for it so far).
    pub bytes: u64,
    /// Seconds of stream in its file, pauses excluded.
    pub duration_secs: f64,
}

/// A recording as the catalog knows it: live ones too (with
/// [`State::Recording`] or [`State::Paused`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Also its directory's name under the recorder's root.
    pub id: Id,
    pub title: String,
    pub description: String,
    /// The group (HMP session) it was recorded for.
    pub group: Id,
    /// Who started it; may be empty.
    pub creator: String,
    /// Unix seconds.
    pub created: u64,
    /// Unix seconds: the last change of state, title or description.
    pub modified: u64,
    pub state: State,
    /// What went wrong, for a recording that did not finish by a stop:
    /// the error with the file it concerns.
    pub detail: Option<String>,
    /// Seconds recorded, pauses excluded: the longest of its tracks.
    pub duration_secs: f64,
    /// Packets let go because the writer's queue was full.
    pub dropped_packets: u64,
    pub tracks: Vec<Track>,
}

impl Asset {
    /// The bytes of all its track files.
    pub fn size_bytes(&self) -> u64 {
        self.tracks.iter().map(|t| t.bytes).sum()
    }

    pub fn is_live(&self) -> bool {
        self.state.is_live()
    }
}

/// What [`Recorder::start`](crate::Recorder::start) records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecording {
    pub title: String,
    pub description: String,
    pub group: Id,
    pub creator: String,
    /// One track per source, in this order: track `n` records
    /// `sources[n]`.
    pub sources: Vec<Id>,
}

/// A change of title and/or description; `None` keeps the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetEdit {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// What the channels of [`Recorder::subscribe`](crate::Recorder::subscribe)
/// hear when a recording finishes, whatever the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub id: Id,
    pub reason: FinishReason,
    pub detail: Option<String>,
    pub duration_secs: f64,
}
