//! Creating, editing, starting and stopping streams.

use makara_config::{Id, StreamConfig, StreamMode};

use crate::command::{Kind, Reply};
use crate::engine::{EngineError, StreamPlan};
use crate::error::{CommandError, CreateError, StartError, StopError, UpdateError};
use crate::events::EventKind;
use crate::supervisor::Supervisor;
use crate::views::StreamState;

impl Supervisor {
    pub(crate) fn create_stream(
        &mut self,
        config: StreamConfig,
        start: bool,
    ) -> Result<Reply, CommandError> {
        if let Some((field, kind, id)) = self.resources().dangling(&config) {
            return Err(CreateError::UnknownReference { field, kind, id }.into());
        }
        let id = Id::new_random();
        let new_id = id.clone();
        self.commit_within_limits(|d| d.current.streams.insert(new_id, config))
            .map_err(CreateError::from)?;
        if start {
            // The stream exists whatever happens next; a failed start is
            // recorded on it and shown by its GET.
            if let Err(e) = self.start_stream(&id) {
                tracing::warn!(stream = %id, error = %e, "new stream did not start");
                // An engine failure is recorded already; a storage one not.
                self.last_errors
                    .entry(id.clone())
                    .or_insert_with(|| e.to_string());
            }
        }
        Ok(Reply::Created(id))
    }

    pub(crate) fn replace_stream(
        &mut self,
        id: Id,
        config: StreamConfig,
    ) -> Result<Reply, CommandError> {
        if !self.resources().streams.contains(&id) {
            return Err(UpdateError::NotFound {
                kind: Kind::Stream,
                id,
            }
            .into());
        }
        if self.stream_state(&id) != StreamState::Stopped {
            return Err(UpdateError::Running(self.stream_name(&id)).into());
        }
        if let Some((field, kind, rid)) = self.resources().dangling(&config) {
            return Err(UpdateError::UnknownReference {
                field,
                kind,
                id: rid,
            }
            .into());
        }
        self.commit_within_limits(|d| {
            d.current.streams.replace(&id, config);
        })
        .map_err(UpdateError::from)?;
        Ok(Reply::Updated(id))
    }

    /// Starts a stream and remembers that it should run.
    pub(crate) fn start_stream(&mut self, id: &Id) -> Result<Reply, StartError> {
        if !self.resources().streams.contains(id) {
            return Err(StartError::NotFound(id.clone()));
        }
        let launched = self.stream_state(id) == StreamState::Stopped;
        if launched {
            self.launch(id)?;
        }
        let already = self.doc.running.contains(id);
        if !already {
            let result = self.commit(|d| d.running.push(id.clone()));
            if let Err(e) = result {
                // Not durable, so not acknowledged: undo the start, but
                // leave alone a stream that was running before.
                if launched {
                    self.engine.stop(id);
                }
                return Err(StartError::Storage(e));
            }
        }
        Ok(Reply::Updated(id.clone()))
    }

    /// Starts the engine on a stream without touching the running set.
    pub(crate) fn launch(&mut self, id: &Id) -> Result<(), StartError> {
        let plan = self.plan(id)?;
        self.check_running(id)?;
        match self.engine.start(&plan) {
            Ok(()) => {
                self.last_errors.remove(id);
                tracing::info!(stream = %id, name = %plan.stream.name, "stream started");
                let events = &self.shared.events;
                events.record(EventKind::StreamStarted, Some(id), &plan.stream.name, "");
                Ok(())
            }
            Err(e) => {
                self.last_errors.insert(id.clone(), e.to_string());
                let events = &self.shared.events;
                let name = &plan.stream.name;
                events.record(EventKind::StreamFailed, Some(id), name, e.to_string());
                Err(match e {
                    EngineError::Unavailable(why) => StartError::EngineUnavailable(why),
                    EngineError::Failed(why) => StartError::Engine(why),
                })
            }
        }
    }

    pub(crate) fn stop_stream(&mut self, id: &Id) -> Result<Reply, StopError> {
        if !self.resources().streams.contains(id) {
            return Err(StopError::NotFound(id.clone()));
        }
        // Durable first: a stop that cannot be saved changes nothing.
        if self.doc.running.contains(id) {
            self.commit(|d| d.running.retain(|r| r != id))
                .map_err(StopError::Storage)?;
        }
        let name = self.stream_name(id);
        self.stop_engine_stream(id, &name);
        Ok(Reply::Updated(id.clone()))
    }

    /// Stops the engine on a stream; a stream that ran gets its event.
    pub(crate) fn stop_engine_stream(&mut self, id: &Id, name: &str) {
        let ran = self.stream_state(id) != StreamState::Stopped;
        self.engine.stop(id);
        if ran {
            tracing::info!(stream = %id, "stream stopped");
            let events = &self.shared.events;
            events.record(EventKind::StreamStopped, Some(id), name, "");
        }
    }

    /// Stops every stream the engine runs, leaving the running set alone:
    /// used at shutdown, so the streams come back at the next start.
    pub(crate) fn halt_all(&mut self) {
        let ids: Vec<Id> = self
            .resources()
            .streams
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        self.shared.recordings.shut_down(&self.engine);
        for id in ids {
            self.engine.stop(&id);
        }
    }

    /// Resolves a stream's references into everything the engine needs.
    fn plan(&self, id: &Id) -> Result<StreamPlan, StartError> {
        let r = self.resources();
        let stream = r
            .streams
            .get(id)
            .ok_or_else(|| StartError::NotFound(id.clone()))?
            .clone();
        if let Some((field, kind, id)) = r.dangling(&stream) {
            return Err(StartError::Dangling { field, kind, id });
        }
        // `dangling` found every reference, so these lookups succeed.
        let output = |o: &Id| r.outputs.get(o).cloned();
        let stream = without_disabled_outputs(stream, |o| output(o).is_some_and(|o| o.enabled));
        Ok(StreamPlan {
            id: id.clone(),
            input: r
                .inputs
                .get(&stream.input)
                .cloned()
                .ok_or_else(|| StartError::NotFound(id.clone()))?,
            transcoder: stream
                .transcoder
                .as_ref()
                .and_then(|t| r.transcoders.get(t).cloned()),
            outputs: stream.outputs.iter().filter_map(output).collect(),
            passthru: stream.passthru.as_ref().and_then(output),
            stream,
        })
    }

    /// At boot: activate the default preset, or else restart what ran before
    /// and the auto_start streams.
    pub(crate) fn boot(&mut self) {
        if let Some(preset) = self.doc.default_preset.clone() {
            tracing::info!(preset = %preset, "loading the default configuration");
            self.boot_preset(&preset);
            return;
        }
        let wanted: Vec<Id> = self
            .resources()
            .streams
            .iter()
            .filter(|(id, s)| s.auto_start || self.doc.running.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in wanted {
            if let Err(e) = self.launch(&id) {
                tracing::warn!(stream = %id, error = %e, "stream did not start at boot");
            }
        }
    }
}

/// The stream as it runs: a disabled output stays in its stream's
/// configuration but is not started, and a passthru stream whose passthru
/// output is disabled runs as a transcoder stream.
fn without_disabled_outputs(
    mut stream: StreamConfig,
    enabled: impl Fn(&Id) -> bool,
) -> StreamConfig {
    stream.outputs.retain(|o| enabled(o));
    if stream.passthru.as_ref().is_some_and(|p| !enabled(p)) {
        stream.passthru = None;
        if stream.mode == StreamMode::Passthru {
            stream.mode = StreamMode::Transcoder;
        }
    }
    stream
}
