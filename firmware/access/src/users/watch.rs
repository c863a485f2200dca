//! The users as a running server sees them, kept fresh while `makarad
//! user …` changes them from another process.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use makara_store::Fingerprint;

use super::error::{UserStoreError, VerifyError};
use super::{User, UserDirectory, UserStore};

/// How often a server should call [`UserWatch::refresh`]: the access keys'
/// period, so a CLI change is seen within a second.
pub const USERS_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The users last read, and re-reading them when the file changed.
///
/// No thread of its own: the server calls [`refresh`](Self::refresh) every
/// [`USERS_POLL_INTERVAL`] (off its async workers: it reads files), and
/// [`current`](Self::current) or [`verify`](Self::verify) whenever it needs
/// the users. A refresh that fails keeps the last users read.
#[derive(Debug)]
pub struct UserWatch {
    store: UserStore,
    current: RwLock<Arc<UserDirectory>>,
    seen: Mutex<Fingerprint>,
}

impl UserWatch {
    /// Reads the users now.
    pub fn open(store: UserStore) -> Result<UserWatch, UserStoreError> {
        let seen = store.fingerprint();
        let users = store.load()?;
        Ok(UserWatch {
            store,
            current: RwLock::new(Arc::new(users)),
            seen: Mutex::new(seen),
        })
    }

    /// The users as last read.
    pub fn current(&self) -> Arc<UserDirectory> {
        match self.current.read() {
            Ok(users) => Arc::clone(&users),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the users if the file changed since the last read: `true`
    /// if it did. On an error the last users read stay in force (and the
    /// next call tries again); the caller logs it.
    pub fn refresh(&self) -> Result<bool, UserStoreError> {
        let now = self.store.fingerprint();
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if *seen == now {
            return Ok(false);
        }
        let users = self.store.load()?;
        *seen = now;
        let mut current = match self.current.write() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        *current = Arc::new(users);
        Ok(true)
    }

    /// Checks a login against the users as last read; see
    /// [`UserDirectory::verify`].
    pub fn verify(&self, username: &str, password: &str) -> Result<User, VerifyError> {
        self.current().verify(username, password)
    }
}
