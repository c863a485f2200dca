//! The port between the supervisor and the media pipeline: what a stream
//! needs to run ([`StreamPlan`]), the [`Engine`] that runs it, and what it
//! reports back ([`StreamState`], [`StreamStats`]).
//!
//! Level 2, so that the supervisor (which uses an engine) and the pipeline
//! (which is one) both depend on it and not on each other.

#![forbid(unsafe_code)]

use std::sync::Arc;

use makara_config::{EncoderType, Id, InputConfig, OutputConfig, StreamConfig, TranscoderConfig};
use makara_media::{CapturePort, InputReport, OutputReport};
use thiserror::Error;

/// Receives a copy of the transport stream an output sends (a local
/// recording of it, say).
pub trait TsTap: Send + Sync {
    /// Whole 188-byte packets, in order, as they are handed to the output.
    /// Called on the media path: it must not block, and it must not fail
    /// the stream (a tap that cannot keep up drops and counts).
    fn packets(&self, ts: &[u8]);
}

/// Names one attached tap, to take it off again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TapId(pub u64);

/// A still picture of what a stream is capturing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// A baseline JPEG (JFIF).
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Everything a stream needs to run, resolved from its references.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    pub id: Id,
    pub stream: StreamConfig,
    pub input: InputConfig,
    pub transcoder: Option<TranscoderConfig>,
    pub outputs: Vec<OutputConfig>,
    pub passthru: Option<OutputConfig>,
}

/// The state of a stream, as the supervisor reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StreamState {
    Stopped,
    /// Started, but no packet has gone out yet, or the engine is retrying
    /// after a failure.
    Waiting,
    Active,
}

/// What a running stream reports in its GET.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamStats {
    pub input_fps: f64,
    pub output_kbps: f64,
    pub frames_encoded: u64,
    pub frames_dropped: u64,
    pub encode_latency_ms: f64,
    pub uptime_secs: u64,
    /// Bytes copied between capture and encoder input (a scaler or format
    /// converter); 0 when the encoder reads the capture buffers directly.
    pub bytes_copied: u64,
    /// A network input's counters; `None` for capture sources.
    pub input: Option<InputReport>,
    /// Times a run of the stream failed and the engine started it again,
    /// since the stream started. Counted, so that a failure that is over
    /// before anyone looks is still seen.
    pub failures: u64,
    /// Every output's report, in the stream's order (passthru last), each
    /// under its output's name.
    pub outputs: Vec<OutputReport>,
}

#[derive(Debug, Error)]
pub enum EngineError {
    /// This engine can never run the stream (missing feature, missing
    /// hardware); retrying will not help.
    #[error("{0}")]
    Unavailable(String),
    /// The stream failed to start this time.
    #[error("{0}")]
    Failed(String),
}

/// Runs streams. The supervisor calls it from its own thread only.
pub trait Engine: Send {
    /// Starts the stream described by `plan`. Returns once the pipeline is
    /// set up; the stream is then `Waiting` until its first packet is out.
    fn start(&mut self, plan: &StreamPlan) -> Result<(), EngineError>;
    /// Stops the stream and releases what it holds. Unknown ids are ignored.
    fn stop(&mut self, id: &Id);
    /// The state of a started stream, or `None` for one it does not run.
    fn state(&self, id: &Id) -> Option<StreamState>;
    /// Counters of a started stream, and why it is waiting if it is
    /// retrying. Engines without statistics report nothing.
    fn stats(&self, _id: &Id) -> Option<(StreamStats, Option<String>)> {
        None
    }
    /// Whether this engine can encode on `encoder` (a transcoder's
    /// encoderType); `Err` names the device or driver that is missing.
    /// Software encoding is always there; engines without hardware say so.
    fn encoder_available(&self, encoder: EncoderType) -> Result<(), String> {
        match encoder {
            EncoderType::Unset => Ok(()),
            _ => Err("this engine encodes in software only".into()),
        }
    }
    /// The capture ports this engine can capture from, with their modes.
    fn capture_ports(&self) -> Vec<CapturePort> {
        Vec::new()
    }
    /// The DeckLink ports this engine can capture from, with their display
    /// modes: a family of its own, numbered from 0 apart from
    /// [`Engine::capture_ports`]. None by default.
    fn decklink_ports(&self) -> Vec<CapturePort> {
        Vec::new()
    }
    /// Attaches `tap` to the output `output`: from now on, whichever
    /// running stream sends to that output also hands the tap its packets,
    /// across stops, starts and the engine's own restarts of the stream,
    /// until [`Engine::untap`]. A tap on an output no stream sends to yet
    /// is kept and gets nothing until one does.
    fn tap(&mut self, _output: &Id, _tap: Arc<dyn TsTap>) -> Result<TapId, EngineError> {
        Err(EngineError::Unavailable(
            "this engine cannot copy an output's stream".into(),
        ))
    }
    /// Takes a tap off. Unknown ids are ignored.
    fn untap(&mut self, _tap: TapId) {}
    /// A picture of what the started stream `id` is capturing now, at most
    /// `max_width` pixels wide (aspect kept). `Failed` while the stream has
    /// no picture yet; `Unavailable` from an engine that cannot make one.
    fn thumbnail(&self, _id: &Id, _max_width: u32) -> Result<Thumbnail, EngineError> {
        Err(EngineError::Unavailable(
            "this engine cannot make a thumbnail".into(),
        ))
    }
}

/// The engine of a build without a media pipeline (the API's and the
/// supervisor's tests): every start fails, saying why, so that no client is
/// told a stream runs when it does not. `makarad` runs `makara-pipeline`.
#[derive(Debug, Default)]
pub struct NoMediaEngine;

impl Engine for NoMediaEngine {
    fn start(&mut self, _plan: &StreamPlan) -> Result<(), EngineError> {
        Err(EngineError::Unavailable(
            "this build has no media engine, so streams cannot run".into(),
        ))
    }

    fn stop(&mut self, _id: &Id) {}

    fn state(&self, _id: &Id) -> Option<StreamState> {
        None
    }
}
