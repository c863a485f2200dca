//! Presets ("configurations" in Kraken's words): named snapshots of the
//! resources, one of which may load at boot.

use std::time::{SystemTime, UNIX_EPOCH};

use makara_config::Id;

use crate::command::{Kind, Reply};
use crate::document::{PersistError, Preset};
use crate::error::{CreateError, DeleteError, UpdateError};
use crate::supervisor::Supervisor;

impl Supervisor {
    pub(crate) fn save_preset(&mut self, name: String) -> Result<Reply, CreateError> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(makara_config::Invalid::Missing { field: "name" }.into());
        }
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
        self.commit(|d| d.presets.push(preset))
            .map_err(CreateError::Storage)?;
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
        if let Some(make_default) = make_default {
            self.commit(|d| {
                if make_default {
                    d.default_preset = Some(id.clone());
                } else if d.default_preset.as_ref() == Some(id) {
                    d.default_preset = None;
                }
            })
            .map_err(UpdateError::Storage)?;
        }
        if activate {
            self.activate(id).map_err(UpdateError::Storage)?;
        }
        Ok(Reply::Updated(id.clone()))
    }

    /// Stops every stream, makes the preset the current configuration and
    /// starts its auto_start streams. A stream that fails to start keeps its
    /// reason for its GET; activation itself still succeeds.
    pub(crate) fn activate(&mut self, id: &Id) -> Result<(), PersistError> {
        let Some(preset) = self.doc.presets.iter().find(|p| &p.id == id).cloned() else {
            return Ok(());
        };
        self.halt_all();
        self.last_errors.clear();
        let auto: Vec<Id> = preset
            .resources
            .streams
            .iter()
            .filter(|(_, s)| s.auto_start)
            .map(|(id, _)| id.clone())
            .collect();
        self.commit(|d| {
            d.current = preset.resources;
            d.running = auto.clone();
        })?;
        tracing::info!(preset = %preset.name, "configuration loaded");
        for stream in auto {
            if let Err(e) = self.launch(&stream) {
                tracing::warn!(stream = %stream, error = %e, "stream did not start");
            }
        }
        Ok(())
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

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
