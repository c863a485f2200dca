//! The users as read at one instant, and checking a login against them.

use std::fmt;

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
}

/// A user and the hash of their password, kept inside this module.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) user: User,
    /// An argon2id PHC string.
    pub(crate) hash: String,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("user", &self.user)
            .field("hash", &"<redacted>")
            .finish()
    }
}

/// Every user at one instant, in order of creation: what
/// [`UserStore::load`](super::UserStore::load) read, or what a
/// [`UserWatch`](super::UserWatch) holds. `Debug` leaves the hashes out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDirectory {
    entries: Vec<Entry>,
    generation: u64,
}

impl UserDirectory {
    pub(crate) fn new(entries: Vec<Entry>, generation: u64) -> UserDirectory {
        UserDirectory {
            entries,
            generation,
        }
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
