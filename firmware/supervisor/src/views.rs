//! What the supervisor reports about its resources.

use makara_config::{Id, InputConfig, OutputConfig, OutputType, StreamConfig, TranscoderConfig};
use makara_media::OutputReport;

pub use makara_engine::{StreamState, StreamStats};

/// The state of an input, output or transcoder: the most active of the
/// streams using it, or `Unset` when none does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceState {
    Unset,
    Stream(StreamState),
}

#[derive(Debug, Clone)]
pub struct InputView {
    pub id: Id,
    pub config: InputConfig,
    pub state: ResourceState,
    /// Why the input is not delivering, as a running stream that reads it
    /// reports (its input report's error); `None` while none does.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OutputView {
    pub id: Id,
    pub config: OutputConfig,
    pub state: ResourceState,
    /// Why the output does not deliver (an SRT output without a peer, an
    /// RTMP push failing), as the first running stream that sends to it
    /// reports it; `None` while none does.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TranscoderView {
    pub id: Id,
    pub config: TranscoderConfig,
    pub state: ResourceState,
}

/// A stream with the names of the resources it references, so that a GET
/// can show them without more round trips.
#[derive(Debug, Clone)]
pub struct StreamView {
    pub id: Id,
    pub config: StreamConfig,
    pub state: StreamState,
    /// Why the last start failed, or why the running stream is waiting.
    pub last_error: Option<String>,
    /// Counters, while the stream runs and the engine keeps them.
    pub stats: Option<StreamStats>,
    pub input_name: String,
    pub transcoder_name: Option<String>,
    pub output_names: Vec<String>,
    pub passthru_name: Option<String>,
    /// Every output of the stream (passthru last), with the engine's
    /// report on it: all from the one snapshot the view was read from.
    pub output_reports: Vec<StreamOutputView>,
}

/// One output of a stream, and how it fares.
#[derive(Debug, Clone)]
pub struct StreamOutputView {
    pub id: Id,
    pub name: String,
    pub output_type: OutputType,
    /// The engine's report while the stream runs and sends to the output
    /// (a disabled output has none).
    pub report: Option<OutputReport>,
}

#[derive(Debug, Clone)]
pub struct PresetView {
    pub id: Id,
    pub name: String,
    pub is_default: bool,
    pub created_unix: u64,
    pub inputs: usize,
    pub outputs: usize,
    pub transcoders: usize,
    pub streams: usize,
}

#[derive(Debug, Clone)]
pub struct SystemView {
    pub version: String,
    pub hostname: String,
    /// The V4L2 capture ports.
    pub capture: CaptureView,
    /// The DeckLink ports, numbered apart from `capture`.
    pub decklink: CaptureView,
    /// The data disk, when its file system could be asked.
    pub storage: Option<StorageView>,
    pub capacity: CapacityView,
}

/// The encoding capacity `makarad bench capacity` measured last.
#[derive(Debug, Clone, PartialEq)]
pub enum CapacityView {
    NotMeasured,
    Measured(crate::EncoderCapacity),
    /// The record is there but could not be read: why.
    Unreadable(String),
}

/// The disk holding the data directory (the configuration and the keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageView {
    pub total_bytes: u64,
    pub available_bytes: u64,
    /// Fewer bytes are available than the supervisor's low-space
    /// threshold: new resources may soon fail to save.
    pub low: bool,
}

/// One family of capture hardware (V4L2 or DeckLink): when the supervisor
/// started, and every port of the family.
#[derive(Debug, Clone)]
pub struct CaptureView {
    pub start_time: std::time::SystemTime,
    /// Seconds the supervisor has run: a heartbeat that keeps counting.
    pub keep_alive_counter: u64,
    pub ports: Vec<makara_media::CapturePort>,
}

#[derive(Debug, Clone)]
pub struct ServerView {
    pub id: String,
    pub nics: Vec<NicView>,
}

#[derive(Debug, Clone)]
pub struct NicView {
    pub name: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub up: bool,
    pub addresses: Vec<String>,
}

/// A group of outputs recorded together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub id: Id,
    pub title: String,
    pub description: String,
    /// Stored and shown; nothing else follows from it.
    pub active: bool,
    /// Stored and shown; nothing else follows from it.
    pub sync_record: bool,
    pub created_unix: u64,
    pub modified_unix: u64,
    /// Output ids, in the order they were added (a recording's tracks
    /// follow it).
    pub outputs: Vec<Id>,
    /// A recording of the group is live (recording or paused).
    pub recording: bool,
}

/// An output seen as a source of transport stream: what sends to it and
/// whether it is on air.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub output: OutputView,
    /// The stream that sends to it: the first running one, else the first
    /// configured one; `None` when no stream sends to it.
    pub stream: Option<SourceStream>,
    /// That stream is `Active`: packets go out and its input delivers.
    pub active: bool,
    /// The stream's measured output rate in bits per second (its average
    /// since it started); 0 while it does not run.
    pub bitrate_bps: u64,
}

/// The stream behind a [`SourceView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStream {
    pub id: Id,
    pub name: String,
    pub state: StreamState,
}
