//! The pipeline as the supervisor's engine.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use makara_capture::DeviceError;
use makara_config::Id;
use makara_engine::{Engine, EngineError, StreamPlan, StreamState, StreamStats};

use crate::codecs::Codecs;
use crate::keeper;
use crate::setup::Setup;
use crate::shared::Shared;

/// Runs every started stream on its own threads.
#[derive(Debug)]
pub struct Pipeline {
    codecs: Arc<Codecs>,
    streams: HashMap<Id, Running>,
}

#[derive(Debug)]
struct Running {
    shared: Arc<Shared>,
    keeper: JoinHandle<()>,
}

impl Pipeline {
    pub fn new(codecs: Codecs) -> Pipeline {
        Pipeline {
            codecs: Arc::new(codecs),
            streams: HashMap::new(),
        }
    }
}

impl Engine for Pipeline {
    /// Refuses what this engine cannot do, opens the encoders and outputs
    /// (so configuration errors fail the start now), then hands them and
    /// the stream to its keeper thread.
    fn start(&mut self, plan: &StreamPlan) -> Result<(), EngineError> {
        if self.streams.contains_key(&plan.id) {
            return Ok(());
        }
        let setup = Setup::from_plan(plan).map_err(|e| EngineError::Unavailable(e.to_string()))?;
        let first = keeper::Stages::open(&setup, &self.codecs).map_err(|e| match e {
            // Retrying cannot make a port or mode appear.
            keeper::StageError::Capture(
                DeviceError::NoPort { .. } | DeviceError::NoMode { .. },
            ) => EngineError::Unavailable(e.to_string()),
            _ => EngineError::Failed(e.to_string()),
        })?;
        let shared = Arc::new(Shared::new());
        let codecs = Arc::clone(&self.codecs);
        let keeper_shared = Arc::clone(&shared);
        let keeper = thread::Builder::new()
            .name(format!("stream {}", plan.stream.name))
            .spawn(move || keeper::keep(setup, codecs, keeper_shared, first))
            .map_err(|e| EngineError::Failed(format!("the stream thread could not start: {e}")))?;
        self.streams
            .insert(plan.id.clone(), Running { shared, keeper });
        Ok(())
    }

    /// Every thread of the stream checks the stop flag at least every 50 ms,
    /// so this returns well within a second.
    fn stop(&mut self, id: &Id) {
        if let Some(running) = self.streams.remove(id) {
            running.shared.stop.store(true, Ordering::Relaxed);
            if running.keeper.join().is_err() {
                tracing::error!(stream = %id, "the stream's keeper panicked");
            }
        }
    }

    fn state(&self, id: &Id) -> Option<StreamState> {
        self.streams.get(id).map(|r| r.shared.state())
    }

    fn stats(&self, id: &Id) -> Option<(StreamStats, Option<String>)> {
        self.streams
            .get(id)
            .map(|r| (r.shared.stats(), r.shared.problem()))
    }

    fn capture_ports(&self) -> Vec<makara_media::CapturePort> {
        self.codecs.devices.ports()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let ids: Vec<Id> = self.streams.keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
    }
}
