//! Local recordings of transport streams, and the finished ones (assets).
//!
//! A [`Recorder`] owns one root directory on the data disk (the
//! appliance's is `DATA_DIR/recordings`). Each recording is a directory
//! named by its id:
//!
//! ```text
//! <root>/recorder.lock           the recorder's lock (one process records here)
//! <root>/<id>/recording.toml     metadata: title, description, group, creator,
//!                                created/modified, state and why it finished,
//!                                duration, dropped packets, per track its
//!                                source, bytes and duration
//! <root>/<id>/track-<n>.ts       track n: the transport stream of sources[n]
//! <root>/<id>/reserved-space     while live: space set aside for the metadata
//! ```
//!
//! [`Recorder::start`] gives a [`Recording`]; its [`TrackSink`]s take the
//! media pipeline's packets without ever blocking, through a bounded
//! queue, to one writer thread per recording (`writer`). Each track file
//! starts at a clean point (PAT, PMT, keyframe; `gate`). The metadata is
//! replaced crash-safely (temporary file, fsync, rename, fsync of the
//! directory) on every change and at checkpoints.
//!
//! A recording ends on [`Recording::stop`], on a full disk or a failed
//! write, or when the recorder shuts down; its owner learns why from its
//! state ([`Asset::state`], polled) or at once from
//! [`Recorder::subscribe`]. A crash leaves it recording; [`recover()`]
//! (run by [`Recorder::open`]) finalises it at the next start.
//!
//! No HTTP, no JSON: the API turns [`Asset`]s into its own words.

#![forbid(unsafe_code)]

mod asset;
mod error;
mod fsio;
mod gate;
pub mod limits;
mod live;
mod meta;
mod program;
mod record;
mod recorder;
mod recording;
mod recover;
mod scan;
mod timeline;
mod writer;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use asset::{Asset, AssetEdit, FinishReason, Finished, NewRecording, State, Track};
pub use error::{
    ControlError, DeleteError, OpenError, RecoverError, StartError, StopError, TooLong, TrackError,
    UpdateError,
};
pub use limits::Limits;
pub use meta::{track_file_name, META_FILE};
pub use recorder::Recorder;
pub use recording::{Recording, TrackSink};
pub use recover::{recover, Problem, Recovery};
