//! The users on disk, shared by the server and the CLI.

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use makara_store::{DirLock, Fingerprint, Slots};
use rand::rngs::OsRng;
use rand::RngCore;

use super::directory::{Entry, UserDirectory};
use super::error::{
    AddUserError, RemoveUserError, SetPasswordError, SetRoleError, UserStoreError, VerifyError,
};
use super::{file, password, rules, Role, User, MAX_USERS};

/// The document's name: files `users.a`, `users.b` and `users.lock`.
const NAME: &str = "users";

/// The users of a data directory.
///
/// Reading needs no lock. Every change takes the directory's `users`
/// writer lock around load-modify-save and re-reads the users under it, so
/// two `makarad user` commands never lose each other's change. Passwords
/// are hashed before the lock is taken. Slot files are `0o600`.
#[derive(Debug, Clone)]
pub struct UserStore {
    dir: PathBuf,
    slots: Slots,
}

impl UserStore {
    /// The users in `data_dir`. Touches nothing on disk; the directory is
    /// created by the first change.
    pub fn open(data_dir: &Path) -> UserStore {
        UserStore {
            dir: data_dir.to_path_buf(),
            slots: Slots::new(data_dir, NAME),
        }
    }

    /// The users now; a fresh data directory has none. If the newest copy
    /// was torn the previous one is read (`makara-store`'s recovery).
    pub fn load(&self) -> Result<UserDirectory, UserStoreError> {
        match self.slots.load()? {
            None => Ok(UserDirectory::default()),
            Some(loaded) => file::decode(&loaded.payload, loaded.generation, &self.dir),
        }
    }

    /// The users now, in order of creation.
    pub fn list(&self) -> Result<Vec<User>, UserStoreError> {
        Ok(self.load()?.users().cloned().collect())
    }

    /// Adds a user. Refuses a name taken already (ignoring case), a name or
    /// password against the rules ([`check_username`](super::check_username),
    /// [`check_password`](super::check_password)), and a user beyond
    /// [`MAX_USERS`].
    pub fn add(&self, username: &str, role: Role, password: &str) -> Result<User, AddUserError> {
        rules::check_username(username)?;
        rules::check_password(password)?;
        let hash = password::hash(password)?;
        let id = new_id().map_err(AddUserError::Random)?;
        self.modify(|users| {
            if let Some(existing) = users.clash(username) {
                return Err(AddUserError::Exists {
                    existing: existing.username.clone(),
                });
            }
            if users.len() >= MAX_USERS {
                return Err(AddUserError::Full);
            }
            let user = User {
                id,
                username: username.to_owned(),
                role,
                created_unix: now_unix(),
                password_version: 1,
            };
            users.entries_mut().push(Entry {
                user: user.clone(),
                hash,
            });
            Ok((user, true))
        })
    }

    /// Gives the user named exactly `username` a new password (without
    /// asking for the old one: this is the administrator's tool), and
    /// counts up its [`User::password_version`].
    pub fn set_password(&self, username: &str, password: &str) -> Result<User, SetPasswordError> {
        rules::check_password(password)?;
        let hash = password::hash(password)?;
        self.modify(|users| {
            let i = users
                .position(username)
                .ok_or_else(|| SetPasswordError::NoSuchUser(username.to_owned()))?;
            let entry = &mut users.entries_mut()[i];
            entry.hash = hash;
            entry.user.password_version += 1;
            Ok((entry.user.clone(), true))
        })
    }

    /// Gives the user named exactly `username` the role `role`; saves
    /// nothing when it has that role already.
    pub fn set_role(&self, username: &str, role: Role) -> Result<User, SetRoleError> {
        self.modify(|users| {
            let i = users
                .position(username)
                .ok_or_else(|| SetRoleError::NoSuchUser(username.to_owned()))?;
            let user = &mut users.entries_mut()[i].user;
            let changed = user.role != role;
            user.role = role;
            Ok((user.clone(), changed))
        })
    }

    /// Removes the user named exactly `username` and returns who it was.
    pub fn remove(&self, username: &str) -> Result<User, RemoveUserError> {
        self.modify(|users| {
            let i = users
                .position(username)
                .ok_or_else(|| RemoveUserError::NoSuchUser(username.to_owned()))?;
            Ok((users.entries_mut().remove(i).user, true))
        })
    }

    /// Reads the users and checks a login against them; see
    /// [`UserDirectory::verify`].
    pub fn verify(&self, username: &str, password: &str) -> Result<User, VerifyError> {
        self.load()?.verify(username, password)
    }

    /// Changes whenever another process (or instance) changes the users.
    /// Take it before [`load`](Self::load), and load again when a later
    /// fingerprint differs ([`UserWatch`](super::UserWatch) does).
    pub fn fingerprint(&self) -> Fingerprint {
        self.slots.fingerprint()
    }

    /// Runs `change` on the current users under the writer lock, and saves
    /// the result if `change` reports that it changed anything.
    fn modify<T, E: From<UserStoreError>>(
        &self,
        change: impl FnOnce(&mut UserDirectory) -> Result<(T, bool), E>,
    ) -> Result<T, E> {
        let _lock = DirLock::acquire(&self.dir, NAME).map_err(UserStoreError::from)?;
        let mut users = self.load()?;
        let (result, changed) = change(&mut users)?;
        if changed {
            let payload = file::encode(users.entries())?;
            // A handle of our own: `save` needs `&mut`, and the lock
            // already serializes writers.
            self.slots
                .clone()
                .save(&payload)
                .map_err(UserStoreError::from)?;
        }
        Ok(result)
    }
}

/// A random (version 4) UUID from the operating system's random source.
fn new_id() -> Result<String, rand::Error> {
    let mut bytes = [0u8; 16];
    OsRng.try_fill_bytes(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

fn now_unix() -> u64 {
    // A clock before 1970 is broken; the time is informational only.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
