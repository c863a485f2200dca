//! The supervisor's state and the dispatch of commands.

use std::collections::HashMap;

use makara_config::Id;

use crate::command::{Command, Kind, Reply};
use crate::document::{Document, PersistError, Store};
use crate::engine::Engine;
use crate::error::{CommandError, CreateError, DeleteError, LookupError, UpdateError};
use crate::resources::Resources;
use crate::views::StreamState;

/// Owns the configuration, its store and the engine. Lives on the
/// supervisor thread; see [`crate::Handle`].
pub struct Supervisor {
    pub(crate) doc: Document,
    store: Store,
    pub(crate) engine: Box<dyn Engine>,
    /// Why each stream's last start failed; cleared by a good start.
    pub(crate) last_errors: HashMap<Id, String>,
    /// When this supervisor started, for the system report.
    started: std::time::SystemTime,
}

impl Supervisor {
    pub fn new(doc: Document, store: Store, engine: Box<dyn Engine>) -> Supervisor {
        Supervisor {
            doc,
            store,
            engine,
            last_errors: HashMap::new(),
            started: std::time::SystemTime::now(),
        }
    }

    /// Carries out one command.
    pub fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        match command {
            Command::List(kind) => Ok(self.list(kind)),
            Command::Get(kind, id) => Ok(self.get(kind, &id)?),
            Command::CreateInput(c) => Ok(self.create(|r, id| r.inputs.insert(id, c))?),
            Command::CreateOutput(c) => Ok(self.create(|r, id| r.outputs.insert(id, c))?),
            Command::CreateTranscoder(c) => Ok(self.create(|r, id| r.transcoders.insert(id, c))?),
            Command::CreateStream { config, start } => self.create_stream(config, start),
            Command::ReplaceInput(id, c) => {
                self.replace(Kind::Input, id, |r, id| r.inputs.replace(id, c))
            }
            Command::ReplaceOutput(id, c) => {
                self.replace(Kind::Output, id, |r, id| r.outputs.replace(id, c))
            }
            Command::ReplaceTranscoder(id, c) => {
                self.replace(Kind::Transcoder, id, |r, id| r.transcoders.replace(id, c))
            }
            Command::ReplaceStream(id, c) => self.replace_stream(id, c),
            Command::Delete(Kind::Preset, id) => Ok(self.delete_preset(&id)?),
            Command::Delete(kind, id) => Ok(self.delete(kind, &id)?),
            Command::StartStream(id) => Ok(self.start_stream(&id)?),
            Command::StopStream(id) => Ok(self.stop_stream(&id)?),
            Command::SavePreset { name } => Ok(self.save_preset(name)?),
            Command::UpdatePreset {
                id,
                activate,
                make_default,
            } => Ok(self.update_preset(&id, activate, make_default)?),
            Command::System => Ok(Reply::System(crate::report::system(
                self.engine.as_ref(),
                self.started,
            ))),
            Command::Server => Ok(Reply::Server(crate::report::server())),
        }
    }

    /// Applies `change` to a copy of the document and makes it durable; only
    /// then does the copy become the state. A failed save changes nothing.
    pub(crate) fn commit(
        &mut self,
        change: impl FnOnce(&mut Document),
    ) -> Result<(), PersistError> {
        let mut next = self.doc.clone();
        change(&mut next);
        self.store.save(&next)?;
        self.doc = next;
        Ok(())
    }

    /// Applies `change` in memory only. For boot alone, when the disk refuses
    /// writes but the appliance must still run its configuration.
    pub(crate) fn apply_unsaved(&mut self, change: impl FnOnce(&mut Document)) {
        change(&mut self.doc);
    }

    pub(crate) fn resources(&self) -> &Resources {
        &self.doc.current
    }

    pub(crate) fn stream_state(&self, id: &Id) -> StreamState {
        self.engine.state(id).unwrap_or(StreamState::Stopped)
    }

    /// The first running stream among those that use a resource.
    fn running_user(&self, kind: Kind, id: &Id) -> Option<String> {
        self.resources()
            .users(kind, id)
            .find(|(sid, _)| self.stream_state(sid) != StreamState::Stopped)
            .map(|(_, s)| s.name.clone())
    }

    fn create(&mut self, insert: impl FnOnce(&mut Resources, Id)) -> Result<Reply, CreateError> {
        let id = Id::new_random();
        let new_id = id.clone();
        self.commit_within_limits(|d| insert(&mut d.current, new_id))?;
        Ok(Reply::Created(id))
    }

    fn replace(
        &mut self,
        kind: Kind,
        id: Id,
        replace: impl FnOnce(&mut Resources, &Id) -> bool,
    ) -> Result<Reply, CommandError> {
        if !self.resources().exists(kind, &id) {
            return Err(UpdateError::NotFound { kind, id }.into());
        }
        if let Some(stream) = self.running_user(kind, &id) {
            return Err(UpdateError::InUse { kind, id, stream }.into());
        }
        self.commit_within_limits(|d| {
            replace(&mut d.current, &id);
        })
        .map_err(UpdateError::from)?;
        Ok(Reply::Updated(id))
    }

    fn delete(&mut self, kind: Kind, id: &Id) -> Result<Reply, DeleteError> {
        if !self.resources().exists(kind, id) {
            return Err(DeleteError::NotFound {
                kind,
                id: id.clone(),
            });
        }
        if kind == Kind::Stream {
            if self.stream_state(id) != StreamState::Stopped {
                let name = self.stream_name(id);
                return Err(DeleteError::Running(name));
            }
        } else if let Some((_, user)) = self.resources().users(kind, id).next() {
            return Err(DeleteError::InUse {
                kind,
                id: id.clone(),
                stream: user.name.clone(),
            });
        }
        self.commit(|d| {
            let r = &mut d.current;
            match kind {
                Kind::Input => r.inputs.remove(id),
                Kind::Output => r.outputs.remove(id),
                Kind::Transcoder => r.transcoders.remove(id),
                Kind::Stream => r.streams.remove(id),
                Kind::Preset => false,
            };
            d.running.retain(|r| r != id);
        })
        .map_err(DeleteError::Storage)?;
        self.last_errors.remove(id);
        Ok(Reply::Deleted)
    }

    pub(crate) fn stream_name(&self, id: &Id) -> String {
        self.resources()
            .streams
            .get(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    fn list(&self, kind: Kind) -> Reply {
        match kind {
            Kind::Input => Reply::Inputs(self.input_views()),
            Kind::Output => Reply::Outputs(self.output_views()),
            Kind::Transcoder => Reply::Transcoders(self.transcoder_views()),
            Kind::Stream => Reply::Streams(self.stream_views()),
            Kind::Preset => Reply::Presets(self.preset_views()),
        }
    }

    fn get(&self, kind: Kind, id: &Id) -> Result<Reply, LookupError> {
        let not_found = || LookupError::NotFound {
            kind,
            id: id.clone(),
        };
        let reply = match kind {
            Kind::Input => Reply::Input(self.input_view(id).ok_or_else(not_found)?),
            Kind::Output => Reply::Output(self.output_view(id).ok_or_else(not_found)?),
            Kind::Transcoder => Reply::Transcoder(self.transcoder_view(id).ok_or_else(not_found)?),
            Kind::Stream => Reply::Stream(self.stream_view(id).ok_or_else(not_found)?),
            Kind::Preset => Reply::Preset(self.preset_view(id).ok_or_else(not_found)?),
        };
        Ok(reply)
    }
}
