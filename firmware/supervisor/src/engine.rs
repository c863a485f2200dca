//! The supervisor's port to the media pipeline.

use makara_config::{Id, InputConfig, OutputConfig, StreamConfig, TranscoderConfig};
use thiserror::Error;

use crate::views::StreamState;

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
}

/// The engine of a build without a media pipeline: every start fails,
/// saying why, so that no client is told a stream runs when it does not.
#[derive(Debug, Default)]
pub struct NoMediaEngine;

impl Engine for NoMediaEngine {
    fn start(&mut self, _plan: &StreamPlan) -> Result<(), EngineError> {
        Err(EngineError::Unavailable(
            "Service provider for this API is unavailable: this firmware build has no media engine yet, so streams cannot run".into(),
        ))
    }

    fn stop(&mut self, _id: &Id) {}

    fn state(&self, _id: &Id) -> Option<StreamState> {
        None
    }
}
