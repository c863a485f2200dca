//! The appliance's supervisor: it owns the configuration (inputs, outputs,
//! transcoders, streams, presets), keeps it on disk, and starts and stops
//! streams through the media engine.
//!
//! The API talks to it only through [`Command`] and [`Reply`], sent over a
//! channel by a [`Handle`]. The supervisor runs on its own thread, so
//! commands are carried out one at a time, in order, and every change is on
//! disk before its reply is sent.

#![forbid(unsafe_code)]

mod command;
mod document;
mod engine;
mod error;
mod handle;
mod limits;
mod presets;
mod report;
mod resources;
mod streams;
mod summary;
mod supervisor;
#[cfg(test)]
mod tests;
mod views;

pub use command::{Command, Kind, Reply};
pub use document::{OpenError, PersistError};
pub use engine::{Engine, EngineError, NoMediaEngine, StreamPlan, StreamStats};
pub use error::{
    CommandError, CreateError, DeleteError, LimitError, LookupError, StartError, StopError,
    UpdateError,
};
pub use handle::{Handle, StartupError};
pub use limits::{
    max_count, MAX_DOCUMENT_BYTES, MAX_INPUTS, MAX_OUTPUTS, MAX_PRESETS, MAX_STREAMS,
    MAX_TRANSCODERS,
};
pub use makara_media::{CaptureMode, CapturePort, PortKind, RunningCapture};
pub use summary::{saved_summary, SavedPreset, SavedStream, SavedSummary};
pub use views::{
    CaptureView, InputView, NicView, OutputView, PresetView, ResourceState, ServerView,
    StreamState, StreamView, SystemView, TranscoderView,
};
