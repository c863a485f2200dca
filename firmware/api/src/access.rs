//! The API's view of the credentials and the on/off switch, kept fresh while
//! `makarad api-key …` and `makarad api …` change them from another process.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use makara_access::{AccessError, AccessState, AccessStore};
use makara_store::Fingerprint;

/// How often the access file is checked for changes. The contract allows a
/// second between a CLI change and the server seeing it.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct AccessWatch {
    store: AccessStore,
    state: RwLock<Arc<AccessState>>,
    seen: Mutex<Fingerprint>,
}

impl AccessWatch {
    /// Loads the current credentials.
    pub fn open(store: AccessStore) -> Result<AccessWatch, AccessError> {
        let seen = store.fingerprint();
        let state = store.load()?;
        Ok(AccessWatch {
            store,
            state: RwLock::new(Arc::new(state)),
            seen: Mutex::new(seen),
        })
    }

    /// The credentials as last read.
    pub fn current(&self) -> Arc<AccessState> {
        match self.state.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the file if it changed. A file that cannot be read leaves
    /// the last good credentials in force.
    pub fn refresh(&self) {
        let now = self.store.fingerprint();
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if *seen == now {
            return;
        }
        match self.store.load() {
            Ok(state) => {
                tracing::info!(
                    enabled = state.enabled,
                    keys = state.keys.len(),
                    "API access settings changed"
                );
                *seen = now;
                let mut slot = match self.state.write() {
                    Ok(s) => s,
                    Err(poisoned) => poisoned.into_inner(),
                };
                *slot = Arc::new(state);
            }
            Err(e) => {
                tracing::error!(error = %e, "API access settings could not be read; keeping the previous ones")
            }
        }
    }

    /// Polls for changes until the runtime shuts down.
    pub fn spawn_poller(self: &Arc<Self>) {
        let watch = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            loop {
                tick.tick().await;
                let w = Arc::clone(&watch);
                // File reads block; keep them off the async workers.
                let _ = tokio::task::spawn_blocking(move || w.refresh()).await;
            }
        });
    }
}
