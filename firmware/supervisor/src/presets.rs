//! Presets ("configurations" in the Kraken API): named snapshots of the
//! resources, one of which may load at boot.

use std::time::{SystemTime, UNIX_EPOCH};

use makara_config::Id;

use crate::command::{Kind, Reply};
use crate::document::{Document, Preset};
use crate::error::{CreateError, DeleteError, UpdateError};
use crate::supervisor::Supervisor;

impl Supervisor {
    pub(crate) fn save_preset(&mut self, name: String) -> Result<Reply, CreateError> {
        let name = makara_config::preset_name(&name)?;
        if self.doc.presets.iter().any(|p| p.name == name) {
            return Err(CreateError::DuplicateName(name));
        }
        let preset = Preset {
            id: Id::new_random(),
            name,
            created_unix: now_unix(),
            resources: self.doc.current.clone(),
        };
        let id = preset.id.clone();
        self.commit_within_limits(|d| d.presets.push(preset))?;
        Ok(Reply::Created(id))
    }

    pub(crate) fn update_preset(
        &mut self,
        id: &Id,
        activate: bool,
        make_default: Option<bool>,
    ) -> Result<Reply, UpdateError> {
        if !self.doc.presets.iter().any(|p| &p.id == id) {
            return Err(UpdateError::NotFound {
                kind: Kind::Preset,
                id: id.clone(),
            });
        }
        if !activate && make_default.is_none() {
            return Err(UpdateError::NothingToDo);
        }
        let preset = if activate { self.preset(id) } else { None };
        let old = self.stream_ids();
        // One commit for both, so a failed save changes neither. Loading a
        // preset can grow the document: the preset becomes current, and
        // stays a preset.
        self.commit_within_limits(|d| {
            match make_default {
                Some(true) => d.default_preset = Some(id.clone()),
                Some(false) if d.default_preset.as_ref() == Some(id) => d.default_preset = None,
                _ => {}
            }
            if let Some(p) = &preset {
                load(d, p);
            }
        })
        .map_err(UpdateError::from)?;
        if let Some(p) = preset {
            self.switch_streams(&old, &p);
        }
        Ok(Reply::Updated(id.clone()))
    }

    /// At boot: makes the default preset current and starts its auto_start
    /// streams. A disk that refuses the write does not keep the appliance
    /// from running its default configuration.
    pub(crate) fn boot_preset(&mut self, id: &Id) {
        let Some(preset) = self.preset(id) else {
            tracing::error!(preset = %id, "the default configuration no longer exists");
            return;
        };
        if let Err(e) = self.commit(|d| load(d, &preset)) {
            tracing::error!(error = %e, "the default configuration could not be saved as current; running it anyway");
            self.apply_unsaved(|d| load(d, &preset));
        }
        self.switch_streams(&[], &preset);
    }

    fn preset(&self, id: &Id) -> Option<Preset> {
        self.doc.presets.iter().find(|p| &p.id == id).cloned()
    }

    /// The current streams, with their names (for their events once
    /// another configuration replaced them).
    fn stream_ids(&self) -> Vec<(Id, String)> {
        let streams = self.resources().streams.iter();
        streams
            .map(|(id, s)| (id.clone(), s.name.clone()))
            .collect()
    }

    /// After a preset became current: stops the streams of the previous
    /// configuration and starts the preset's auto_start streams. A stream
    /// that fails to start keeps its reason for its GET.
    fn switch_streams(&mut self, old: &[(Id, String)], preset: &Preset) {
        for (stream, name) in old {
            self.stop_engine_stream(stream, name);
        }
        self.last_errors.clear();
        tracing::info!(preset = %preset.name, "configuration loaded");
        for stream in auto_start(preset) {
            if let Err(e) = self.launch(&stream) {
                tracing::warn!(stream = %stream, error = %e, "stream did not start");
            }
        }
    }

    pub(crate) fn delete_preset(&mut self, id: &Id) -> Result<Reply, DeleteError> {
        if !self.doc.presets.iter().any(|p| &p.id == id) {
            return Err(DeleteError::NotFound {
                kind: Kind::Preset,
                id: id.clone(),
            });
        }
        self.commit(|d| {
            d.presets.retain(|p| &p.id != id);
            if d.default_preset.as_ref() == Some(id) {
                d.default_preset = None;
            }
        })
        .map_err(DeleteError::Storage)?;
        Ok(Reply::Deleted)
    }
}

/// Makes the preset the current configuration, with its auto_start streams
/// as the running set.
/// Groups keep only the outputs the preset has (a preset saved with the
/// same outputs keeps its ids, so groups of them survive a round trip).
fn load(d: &mut Document, preset: &Preset) {
    d.current = preset.resources.clone();
    d.running = auto_start(preset);
    let outputs = &d.current.outputs;
    for group in &mut d.groups {
        group.outputs.retain(|o| outputs.contains(o));
    }
}

fn auto_start(preset: &Preset) -> Vec<Id> {
    let streams = preset.resources.streams.iter();
    streams
        .filter(|(_, s)| s.auto_start)
        .map(|(id, _)| id.clone())
        .collect()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
