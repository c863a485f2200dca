//! The appliance's supervisor: it owns the configuration (inputs, outputs,
//! transcoders, streams, presets), keeps it on disk, and starts and stops
//! streams through the media engine.
//!
//! The API talks to it only through [`Command`] and [`Reply`], by a
//! [`Handle`]. Changes go over a channel to the supervisor thread, which
//! carries them out in order; those that queued up while it saved are saved
//! together (group commit), and every change is on disk before its reply is
//! sent. Reads are answered on the caller's thread from the state as last
//! saved, so they never wait for the disk.

#![forbid(unsafe_code)]

mod capacity;
mod command;
mod disk;
mod document;
mod engine;
mod error;
mod events;
mod group;
mod groups;
mod handle;
mod limits;
mod presets;
mod recording_error;
mod recordings;
mod report;
mod resources;
mod shared;
mod sources;
mod streams;
mod summary;
mod supervisor;
#[cfg(test)]
mod tests;
mod views;
mod watch;

pub use capacity::{CapacityError, CodecCapacity, EncoderCapacity, Measured};
pub use command::{Command, Kind, Reply};
pub use document::{OpenError, PersistError};
pub use engine::{Engine, EngineError, NoMediaEngine, StreamPlan, StreamStats};
pub use error::{
    AddGroupOutputError, CommandError, CreateError, CreateGroupError, DeleteError,
    DeleteGroupError, GroupLookupError, LimitError, LookupError, RemoveGroupOutputError,
    StartError, StopError, UpdateError, UpdateGroupError,
};
pub use events::{EventKind, EventView};
pub use groups::{GroupEdit, GroupRequest};
pub use handle::{Handle, StartupError};
pub use limits::{
    max_count, BoardLimits, MAX_DOCUMENT_BYTES, MAX_EVENTS, MAX_GROUPS,
    MAX_GROUP_DESCRIPTION_CHARS, MAX_GROUP_OUTPUTS, MAX_GROUP_TITLE_CHARS, MAX_INPUTS, MAX_OUTPUTS,
    MAX_PRESETS, MAX_STREAMS, MAX_TRANSCODERS,
};
pub use makara_engine::Thumbnail;
pub use makara_media::{
    CaptureMode, CapturePort, InputReport, OutputHealth, OutputReport, PortKind, RunningCapture,
    SrtLinkStats,
};
pub use makara_recorder::{
    Asset, AssetEdit, FinishReason, Recorder, Recovery, State as RecordingState, Track,
};
pub use recording_error::{
    AssetLookupError, DeleteAssetError, RecordingError, SourceLookupError, StartRecordingError,
    StopRecordingError, ThumbnailError, TrackFileError, UpdateAssetError,
};
pub use recordings::LocalRecorder;
pub use summary::{saved_summary, SavedPreset, SavedStream, SavedSummary};
pub use views::{
    CapacityView, CaptureView, GroupView, InputView, NicView, OutputView, PresetView,
    ResourceState, ServerView, SourceStream, SourceView, StorageView, StreamOutputView,
    StreamState, StreamView, SystemView, TranscoderView,
};
