//! The users as read at one instant, and checking a login against them.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::device::{DeviceKey, DeviceKeyError};
use super::error::VerifyError;
use super::password::{self, DUMMY_HASH};
use super::rules::PASSWORD_MAX_BYTES;
use super::Role;

/// A user as the rest of the firmware sees it: never the password or its
/// hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// A random UUID, made when the user is added: a user removed and added
    /// again under the same name is another user.
    pub id: String,
    pub username: String,
    pub role: Role,
    /// When the user was added, in seconds since the Unix epoch.
    pub created_unix: u64,
    /// 1 when added, one more at each password change: a login session
    /// made under an older version should end.
    pub password_version: u64,
    /// Whether the user may log in to the device protocols that need the
    /// password itself (ONVIF's PasswordDigest, RTSP Digest): the password
    /// is kept sealed beside its hash ([`super::device`]).
    pub device_login: bool,
}

/// A user and the hash of their password, kept inside this module.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) user: User,
    /// An argon2id PHC string.
    pub(crate) hash: String,
    /// The password sealed with the device key, for a device login
    /// (`user.device_login` says whether there is one).
    pub(crate) device_secret: Option<String>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("user", &self.user)
            .field("hash", &"<redacted>")
            .field(
                "device_secret",
                &self.device_secret.as_ref().map(|_| "<sealed>"),
            )
            .finish()
    }
}

/// The key that opens the sealed passwords, as read with the users.
#[derive(Clone, Debug, Default)]
pub(crate) enum KeyState {
    /// No user has a device login, so the key was not read.
    #[default]
    NotNeeded,
    Loaded(DeviceKey),
    Failed(Arc<DeviceKeyError>),
}

/// Every user at one instant, in order of creation: what
/// [`UserStore::load`](super::UserStore::load) read, or what a
/// [`UserWatch`](super::UserWatch) holds. `Debug` leaves the hashes, the
/// sealed passwords and their key out.
#[derive(Clone, Debug, Default)]
pub struct UserDirectory {
    entries: Vec<Entry>,
    generation: u64,
    key: KeyState,
}

/// Two directories are equal when they hold the same users: the key they
/// read is not compared.
impl PartialEq for UserDirectory {
    fn eq(&self, other: &UserDirectory) -> bool {
        self.entries == other.entries && self.generation == other.generation
    }
}

impl Eq for UserDirectory {}

/// What an unknown user's digest is checked against, so that answering
/// one costs what a wrong password costs.
const DUMMY_DEVICE_PASSWORD: &str = "no user has this device password";

impl UserDirectory {
    pub(crate) fn new(entries: Vec<Entry>, generation: u64) -> UserDirectory {
        UserDirectory {
            entries,
            generation,
            key: KeyState::NotNeeded,
        }
    }

    pub(crate) fn with_key(mut self, key: KeyState) -> UserDirectory {
        self.key = key;
        self
    }

    /// Whether any user has a device login (and so the key is needed).
    pub(crate) fn any_device_login(&self) -> bool {
        self.entries.iter().any(|e| e.device_secret.is_some())
    }

    /// The users, in order of creation.
    pub fn users(&self) -> impl ExactSizeIterator<Item = &User> {
        self.entries.iter().map(|e| &e.user)
    }

    /// The user named exactly `username`.
    pub fn get(&self, username: &str) -> Option<&User> {
        self.entry(username).map(|e| &e.user)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counts the saves of the users file: 0 before the first, then one
    /// more with each change. Two directories read from one data directory
    /// with the same generation hold the same users.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The user whose name is exactly `username` and whose password is
    /// `password`.
    ///
    /// Every refusal is the same [`VerifyError::InvalidCredentials`], and
    /// costs the same: an unknown user's password is checked against a
    /// hash of a password no one knows. Only a password longer than any
    /// that can be set is refused without hashing, which tells nothing
    /// about the user. Blocks for one hash (~20 ms), or up to 2 s more
    /// when other checks hold every turn ([`VerifyError::Busy`]).
    pub fn verify(&self, username: &str, password: &str) -> Result<User, VerifyError> {
        if password.len() > PASSWORD_MAX_BYTES {
            return Err(VerifyError::InvalidCredentials);
        }
        let entry = self.entry(username);
        let hash = entry.map_or(DUMMY_HASH, |e| e.hash.as_str());
        let matched = password::matches(password, hash)?;
        match entry {
            Some(e) if matched => Ok(e.user.clone()),
            _ => Err(VerifyError::InvalidCredentials),
        }
    }

    /// The password of the user named exactly `username`, if that user has
    /// a device login; `Ok(None)` for an unknown user or one without.
    /// An `Err` is a fault the operator must mend (the key is missing or
    /// does not open the sealed password), not a refusal.
    ///
    /// For the device protocols' digests (RTSP Digest: MD5 over the
    /// password and the request); prefer [`verify_digest`](Self::verify_digest),
    /// which keeps the password inside.
    pub fn device_password(
        &self,
        username: &str,
    ) -> Result<Option<Zeroizing<String>>, Arc<DeviceKeyError>> {
        let Some((user, sealed)) = self
            .entry(username)
            .and_then(|e| Some((&e.user, e.device_secret.as_deref()?)))
        else {
            return Ok(None);
        };
        let key = match &self.key {
            KeyState::Loaded(key) => key,
            KeyState::Failed(e) => return Err(Arc::clone(e)),
            // Not reachable: a directory with a sealed password reads its
            // key when loaded. Said as a missing key rather than a panic.
            KeyState::NotNeeded => {
                return Err(Arc::new(DeviceKeyError::Missing {
                    path: super::device::KEY_FILE.into(),
                }))
            }
        };
        match key.open(&user.id, sealed) {
            Some(password) => Ok(Some(password)),
            None => Err(Arc::new(DeviceKeyError::Unseal {
                username: username.to_owned(),
                path: key.path().to_path_buf(),
            })),
        }
    }

    /// The user named exactly `username`, if that user has a device login
    /// and `check` accepts its password (`check` computes the client's
    /// digest from it and compares). An unknown user, one without a device
    /// login, and a digest that does not match are all
    /// [`VerifyError::InvalidCredentials`]; `check` runs in every case, on
    /// a password no one has when there is no user, so the time taken
    /// tells little. A key that is missing or does not open the sealed
    /// password is [`VerifyError::DeviceKey`].
    pub fn verify_digest(
        &self,
        username: &str,
        check: impl FnOnce(&str) -> bool,
    ) -> Result<User, VerifyError> {
        match self.device_password(username) {
            Ok(Some(password)) => match self.get(username) {
                Some(user) if check(&password) => Ok(user.clone()),
                _ => Err(VerifyError::InvalidCredentials),
            },
            Ok(None) => {
                check(DUMMY_DEVICE_PASSWORD);
                Err(VerifyError::InvalidCredentials)
            }
            Err(e) => Err(VerifyError::DeviceKey(e)),
        }
    }

    pub(crate) fn entry(&self, username: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.user.username == username)
    }

    /// The user whose name equals `username` ignoring ASCII case: the one
    /// a new user of that name would be confused with.
    pub(crate) fn clash(&self, username: &str) -> Option<&User> {
        self.users()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub(crate) fn position(&self, username: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.user.username == username)
    }

    pub(crate) fn entries_mut(&mut self) -> &mut Vec<Entry> {
        &mut self.entries
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    #[cfg(test)]
    pub(crate) fn hash_of(&self, username: &str) -> Option<&str> {
        self.entry(username).map(|e| e.hash.as_str())
    }
}
