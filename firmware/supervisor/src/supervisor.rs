//! The supervisor's state and the dispatch of commands.

use std::collections::HashMap;
use std::sync::Arc;

use makara_config::{Id, Invalid, TranscoderConfig};

use crate::command::{Command, Kind, Reply};
use crate::document::{Document, Persist, PersistError};
use crate::error::{CommandError, CreateError, DeleteError, UpdateError};
use crate::report::Reading;
use crate::resources::Resources;
use crate::shared::{Shared, SharedEngine, Snapshot};
use crate::views::StreamState;

/// Owns the configuration, its store and the engine. Lives on the
/// supervisor thread; see [`crate::Handle`].
pub struct Supervisor {
    /// The configuration as the commands see it: what was last saved, plus
    /// the changes of a group not yet saved (see [`Supervisor::commit`]).
    pub(crate) doc: Document,
    /// What was last saved (or, at boot, loaded): what reads are shown and
    /// what a group whose save failed returns to.
    committed: Arc<Document>,
    store: Box<dyn Persist>,
    pub(crate) engine: SharedEngine,
    /// Why each stream's last start failed; cleared by a good start.
    pub(crate) last_errors: HashMap<Id, String>,
    pub(crate) shared: Arc<Shared>,
    /// While a group runs: its changes are saved together at its end, and
    /// `last_errors` as it was before, in case that save fails.
    group: Option<CommitGroup>,
    /// `doc` changed since `committed` was last made from it.
    unpublished: bool,
    /// What the board can carry (`limits.rs`).
    pub(crate) board: crate::limits::BoardLimits,
}

struct CommitGroup {
    last_errors: HashMap<Id, String>,
    changed: bool,
}

impl Supervisor {
    pub(crate) fn new(
        doc: Document,
        store: Box<dyn Persist>,
        shared: Arc<Shared>,
        board: crate::limits::BoardLimits,
    ) -> Supervisor {
        Supervisor {
            board,
            committed: Arc::new(doc.clone()),
            doc,
            store,
            engine: shared.engine.clone(),
            last_errors: HashMap::new(),
            shared,
            group: None,
            unpublished: false,
        }
    }

    /// Carries out one command.
    pub fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        match command {
            Command::CreateInput(c) => Ok(self.create(|r, id| r.inputs.insert(id, c))?),
            Command::CreateOutput(c) => Ok(self.create(|r, id| r.outputs.insert(id, c))?),
            Command::CreateTranscoder(c) => {
                self.encoder_available(&c).map_err(CreateError::from)?;
                Ok(self.create(|r, id| r.transcoders.insert(id, c))?)
            }
            Command::CreateStream { config, start } => self.create_stream(config, start),
            Command::ReplaceInput(id, c) => {
                self.replace(Kind::Input, id, |r, id| r.inputs.replace(id, c))
            }
            Command::ReplaceOutput(id, c) => {
                self.replace(Kind::Output, id, |r, id| r.outputs.replace(id, c))
            }
            Command::ReplaceTranscoder(id, c) => {
                self.encoder_available(&c).map_err(UpdateError::from)?;
                self.replace(Kind::Transcoder, id, |r, id| r.transcoders.replace(id, c))
            }
            Command::ReplaceStream(id, c) => self.replace_stream(id, c),
            Command::Delete(Kind::Preset, id) => Ok(self.delete_preset(&id)?),
            Command::Delete(kind, id) => Ok(self.delete(kind, &id)?),
            Command::StartStream(id) => Ok(self.start_stream(&id)?),
            Command::StopStream(id) => Ok(self.stop_stream(&id)?),
            Command::Ping => Ok(Reply::Pong),
            Command::Hang(how_long) => {
                tracing::warn!(
                    seconds = how_long.as_secs(),
                    "the supervisor hangs on purpose"
                );
                std::thread::sleep(how_long);
                Ok(Reply::Pong)
            }
            Command::SavePreset { name } => Ok(self.save_preset(name)?),
            Command::UpdatePreset {
                id,
                activate,
                make_default,
            } => Ok(self.update_preset(&id, activate, make_default)?),
            Command::CreateGroup(request) => self.create_group(request),
            Command::UpdateGroup(id, edit) => self.update_group(&id, edit),
            Command::DeleteGroup(id) => Ok(self.delete_group(&id)?),
            Command::AddGroupOutput { group, output } => {
                Ok(self.add_group_output(&group, &output)?)
            }
            Command::RemoveGroupOutput { group, output } => {
                Ok(self.remove_group_output(&group, &output)?)
            }
            Command::StartRecording {
                group,
                outputs,
                creator,
            } => self.start_recording(&group, outputs, creator),
            Command::List(_)
            | Command::Get(..)
            | Command::ListGroups
            | Command::GetGroup(_)
            | Command::ListSources
            | Command::GetSource(_)
            | Command::Thumbnail { .. } => self
                .read(|r| r.answer(&command))
                .unwrap_or(Err(CommandError::Panicked)),
            Command::System
            | Command::Server
            | Command::ListRecordings
            | Command::GetRecording(_)
            | Command::PauseRecording(_)
            | Command::ResumeRecording(_)
            | Command::StopRecording(_)
            | Command::ListAssets
            | Command::GetAsset(_)
            | Command::UpdateAsset(..)
            | Command::DeleteAsset(_)
            | Command::AssetTrackFile { .. }
            | Command::ListEvents
            | Command::RecordLockout { .. } => self
                .shared
                .at_once(&command)
                .unwrap_or(Err(CommandError::Panicked)),
        }
    }

    /// A read of the supervisor's own state, for reads that reach its
    /// thread (those sent before boot was over).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Reading) -> T) -> T {
        let engine = self.engine.lock();
        f(&Reading {
            doc: &self.doc,
            last_errors: &self.last_errors,
            engine: engine.as_ref(),
            recordings: &self.shared.recordings,
        })
    }

    /// Applies `change` to a copy of the document and makes it durable; only
    /// then does the copy become the state. A failed save changes nothing.
    ///
    /// Inside a group the copy becomes the state at once and is saved with
    /// the group's other changes at its end, before any of them is
    /// acknowledged ([`Supervisor::end_group`]).
    pub(crate) fn commit(
        &mut self,
        change: impl FnOnce(&mut Document),
    ) -> Result<(), PersistError> {
        let mut next = self.doc.clone();
        change(&mut next);
        match &mut self.group {
            Some(group) => group.changed = true,
            None => self.save(&next)?,
        }
        self.doc = next;
        self.unpublished = true;
        Ok(())
    }

    /// Saves through the store, then looks at the disk's free space (which
    /// logs when it becomes low), whether the save worked or not.
    fn save(&mut self, doc: &Document) -> Result<(), PersistError> {
        let saved = self.store.save(doc);
        self.shared.disk.check();
        saved
    }

    /// Starts a group: the changes of the commands run until
    /// [`Supervisor::end_group`] are saved once, together.
    pub(crate) fn begin_group(&mut self) {
        self.group = Some(CommitGroup {
            last_errors: self.last_errors.clone(),
            changed: false,
        });
    }

    /// Saves the group's changes. If that fails, nothing of the group
    /// remains, in memory or on disk, and the caller must not acknowledge
    /// any of its commands.
    pub(crate) fn end_group(&mut self) -> Result<(), PersistError> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        if !group.changed {
            return Ok(());
        }
        let doc = std::mem::take(&mut self.doc);
        let saved = self.save(&doc);
        match saved {
            Ok(()) => self.doc = doc,
            Err(_) => {
                self.doc = (*self.committed).clone();
                self.last_errors = group.last_errors;
            }
        }
        saved
    }

    /// What reads see from now on: the state as saved. Called after each
    /// command or group, before replying, and never inside a group.
    pub(crate) fn publish(&mut self) {
        debug_assert!(self.group.is_none(), "publishing unsaved changes");
        if std::mem::take(&mut self.unpublished) {
            self.committed = Arc::new(self.doc.clone());
        }
        self.shared.publish(Snapshot {
            doc: Arc::clone(&self.committed),
            last_errors: self.last_errors.clone(),
        });
    }

    /// Applies `change` in memory only. For boot alone, when the disk refuses
    /// writes but the appliance must still run its configuration.
    pub(crate) fn apply_unsaved(&mut self, change: impl FnOnce(&mut Document)) {
        change(&mut self.doc);
        self.unpublished = true;
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

    /// A transcoder that encodes on hardware is saved only where that
    /// hardware is: the engine names what is missing.
    fn encoder_available(&self, transcoder: &TranscoderConfig) -> Result<(), Invalid> {
        let encoder = transcoder.encoder_type;
        self.engine
            .lock()
            .encoder_available(encoder)
            .map_err(|reason| Invalid::BadValue {
                field: "encoderType",
                reason,
            })
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
        if kind == Kind::Output {
            if let Some(recording) = self.shared.recordings.live_of_output(id) {
                return Err(DeleteError::Recorded {
                    output: id.clone(),
                    recording,
                });
            }
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
            // A deleted output leaves every group it was in.
            for group in d.groups.iter_mut().filter(|g| g.outputs.contains(id)) {
                group.outputs.retain(|o| o != id);
                group.modified_unix = crate::groups::now_unix();
            }
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
}
