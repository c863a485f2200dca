//! The users on disk, shared by the server and the CLI.

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use makara_store::{DirLock, Fingerprint, Slots};
use rand::rngs::OsRng;
use rand::RngCore;

use std::sync::Arc;

use super::device::{DeviceKey, DeviceKeyError};
use super::directory::{Entry, KeyState, UserDirectory};
use super::error::{
    AddUserError, RemoveUserError, SetDeviceLoginError, SetPasswordError, SetRoleError,
    UserStoreError, VerifyError,
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
    ///
    /// When a user has a device login the device key is read too; a key
    /// that cannot be read does not fail the load (logins with the
    /// password's hash go on), it fails each device login with its reason
    /// ([`UserDirectory::device_password`]).
    pub fn load(&self) -> Result<UserDirectory, UserStoreError> {
        let users = match self.slots.load()? {
            None => return Ok(UserDirectory::default()),
            Some(loaded) => file::decode(&loaded.payload, loaded.generation, &self.dir)?,
        };
        if !users.any_device_login() {
            return Ok(users);
        }
        let key = match DeviceKey::read(&self.dir) {
            Ok(Some(key)) => KeyState::Loaded(key),
            Ok(None) => KeyState::Failed(Arc::new(DeviceKeyError::Missing {
                path: self.dir.join(super::device::KEY_FILE),
            })),
            Err(e) => KeyState::Failed(Arc::new(e)),
        };
        Ok(users.with_key(key))
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
        self.add_with_device_login(username, role, password, false)
    }

    /// [`add`](Self::add), and with `device_login` the password is also
    /// kept sealed for the device protocols ([`super::device`]), making the
    /// device key first if there is none.
    pub fn add_with_device_login(
        &self,
        username: &str,
        role: Role,
        password: &str,
        device_login: bool,
    ) -> Result<User, AddUserError> {
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
            let device_secret = match device_login {
                true => Some(DeviceKey::read_or_create(&self.dir)?.seal(&id, password)?),
                false => None,
            };
            let user = User {
                id,
                username: username.to_owned(),
                role,
                created_unix: now_unix(),
                password_version: 1,
                device_login,
            };
            users.entries_mut().push(Entry {
                user: user.clone(),
                hash,
                device_secret,
            });
            Ok((user, true))
        })
    }

    /// Gives the user named exactly `username` a new password (without
    /// asking for the old one: this is the administrator's tool), and
    /// counts up its [`User::password_version`]. A user with a device
    /// login keeps it, with the new password sealed (and a new device key
    /// made if it was lost).
    pub fn set_password(&self, username: &str, password: &str) -> Result<User, SetPasswordError> {
        rules::check_password(password)?;
        let hash = password::hash(password)?;
        self.modify(|users| {
            let i = users
                .position(username)
                .ok_or_else(|| SetPasswordError::NoSuchUser(username.to_owned()))?;
            let entry = &mut users.entries_mut()[i];
            if entry.device_secret.is_some() {
                let key = DeviceKey::read_or_create(&self.dir)?;
                entry.device_secret = Some(key.seal(&entry.user.id, password)?);
            }
            entry.hash = hash;
            entry.user.password_version += 1;
            Ok((entry.user.clone(), true))
        })
    }

    /// Turns the device login of the user named exactly `username` on
    /// (`Some(password)`: the user's current password, checked against
    /// its hash, then kept sealed) or off (`None`: the sealed password is
    /// forgotten). The password itself does not change, nor
    /// [`User::password_version`], so login sessions go on.
    pub fn set_device_login(
        &self,
        username: &str,
        password: Option<&str>,
    ) -> Result<User, SetDeviceLoginError> {
        self.modify(|users| {
            let i = users
                .position(username)
                .ok_or_else(|| SetDeviceLoginError::NoSuchUser(username.to_owned()))?;
            let entry = &mut users.entries_mut()[i];
            let sealed = match password {
                None => None,
                Some(password) => {
                    // Under the lock, so the hash checked is the one kept.
                    if !password::matches(password, &entry.hash)? {
                        return Err(SetDeviceLoginError::WrongPassword(username.to_owned()));
                    }
                    let key = DeviceKey::read_or_create(&self.dir)?;
                    Some(key.seal(&entry.user.id, password)?)
                }
            };
            // Turning on again seals afresh: that mends a lost key.
            let changed = sealed.is_some() || entry.device_secret.is_some();
            entry.user.device_login = sealed.is_some();
            entry.device_secret = sealed;
            Ok((entry.user.clone(), changed))
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
