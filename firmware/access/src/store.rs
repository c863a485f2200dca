//! The access state on disk, shared by the server and the CLI.

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use makara_store::{DirLock, Fingerprint, Slots};

use crate::{file, AccessError, AccessState, Credentials};

/// The document's name: files `access.a`, `access.b` and `access.lock`.
const NAME: &str = "access";

/// The access state in a data directory.
///
/// Reading needs no lock. Every change takes the directory's `access`
/// writer lock around load-modify-save, so two CLI commands (or threads)
/// never lose each other's update, and re-reads the state under the lock,
/// so it never works from a stale copy. Slot files are `0o600`: they hold
/// secrets.
#[derive(Debug, Clone)]
pub struct AccessStore {
    dir: PathBuf,
    slots: Slots,
}

impl AccessStore {
    /// The access state in `data_dir`. Touches nothing on disk; the
    /// directory is created by the first change.
    pub fn open(data_dir: &Path) -> AccessStore {
        AccessStore {
            dir: data_dir.to_path_buf(),
            slots: Slots::new(data_dir, NAME),
        }
    }

    /// The current state; a fresh data directory gives the default (API
    /// disabled, no keys). If the newest copy was corrupt the previous one
    /// is returned, which is the documented recovery of `makara-store`.
    pub fn load(&self) -> Result<AccessState, AccessError> {
        match self.slots.load()? {
            None => Ok(AccessState::default()),
            Some(loaded) => file::decode(&loaded.payload, &self.dir),
        }
    }

    /// Creates a new key pair and enables the API.
    pub fn create_key(&self) -> Result<Credentials, AccessError> {
        self.modify(|state| {
            let creds = loop {
                let creds = Credentials::generate().map_err(AccessError::Random)?;
                // 128 random bits do not collide, but a duplicate key would
                // make `secret_for` ambiguous; checking costs nothing.
                if state.secret_for(&creds.consumer_key).is_none() {
                    break creds;
                }
            };
            state.keys.push(creds.clone());
            state.enabled = true;
            Ok((creds, true))
        })
    }

    /// Removes the key `consumer_key`; `false` if there was no such key.
    /// The API stays enabled even when no key is left.
    pub fn revoke(&self, consumer_key: &str) -> Result<bool, AccessError> {
        self.modify(|state| {
            let before = state.keys.len();
            state.keys.retain(|c| c.consumer_key != consumer_key);
            let removed = state.keys.len() != before;
            Ok((removed, removed))
        })
    }

    /// Switches the API on or off, keeping the keys.
    pub fn set_enabled(&self, enabled: bool) -> Result<(), AccessError> {
        self.modify(|state| {
            let changed = state.enabled != enabled;
            state.enabled = enabled;
            Ok(((), changed))
        })
    }

    /// Changes whenever another process (or instance) changes the state.
    /// Take it before [`load`](Self::load), and load again when a later
    /// fingerprint differs.
    pub fn fingerprint(&self) -> Fingerprint {
        self.slots.fingerprint()
    }

    /// Runs `change` on the current state under the writer lock, and saves
    /// the result if `change` reports that it changed anything (saves wear
    /// flash, and a no-op needs no durability).
    fn modify<T>(
        &self,
        change: impl FnOnce(&mut AccessState) -> Result<(T, bool), AccessError>,
    ) -> Result<T, AccessError> {
        let _lock = DirLock::acquire(&self.dir, NAME)?;
        let mut state = self.load()?;
        let (result, changed) = change(&mut state)?;
        if changed {
            let payload = file::encode(&state)?;
            // A handle of our own: `save` needs `&mut`, and the lock
            // already serializes writers.
            self.slots.clone().save(&payload)?;
        }
        Ok(result)
    }
}
