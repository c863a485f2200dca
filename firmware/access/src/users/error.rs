//! What can go wrong with the users, one enum per operation. A failed
//! change leaves the stored users as they were.

use std::path::PathBuf;

use makara_store::{LoadError, LockError, SaveError};
use thiserror::Error;

use super::device::DeviceKeyError;
use super::password::{HashError, StoredHashError};
use super::role::UnknownRole;
use super::rules::{PasswordError, UsernameError};
use super::MAX_USERS;

/// Why the users file could not be read or written.
#[derive(Debug, Error)]
pub enum UserStoreError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Save(#[from] SaveError),
    // The checksums held, so these mean a bug or a hand edit, not a torn
    // write; refusing is safer than guessing who may log in.
    #[error("the users document in {} is not UTF-8", dir.display())]
    NotUtf8 { dir: PathBuf },
    #[error("the users document in {} is not valid", dir.display())]
    Parse {
        dir: PathBuf,
        source: toml::de::Error,
    },
    #[error("the users document in {} has format version {version}; this firmware reads version 1", dir.display())]
    UnsupportedVersion { dir: PathBuf, version: u32 },
    #[error("the users document in {} holds {count} users; at most {MAX_USERS} are allowed", dir.display())]
    TooMany { dir: PathBuf, count: usize },
    #[error("the users document in {} is not valid at user {}", dir.display(), index + 1)]
    Entry {
        dir: PathBuf,
        /// From 0; the message counts from 1.
        index: usize,
        #[source]
        problem: EntryProblem,
    },
    #[error("cannot encode the users document")]
    Encode(#[source] toml::ser::Error),
}

/// What is wrong with one user in the users file.
#[derive(Debug, Error)]
pub enum EntryProblem {
    #[error(transparent)]
    Username(UsernameError),
    #[error(transparent)]
    Role(UnknownRole),
    #[error(transparent)]
    Hash(StoredHashError),
    #[error("username '{0}' is there twice (names may not differ only in case)")]
    Duplicate(String),
    #[error("the sealed device-login password is not base64 of a sealed text")]
    DeviceSecret,
}

/// Why [`UserStore::add`](super::UserStore::add) failed.
#[derive(Debug, Error)]
pub enum AddUserError {
    #[error(transparent)]
    Username(#[from] UsernameError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("user '{existing}' already exists (usernames may not differ only in case)")]
    Exists { existing: String },
    #[error("there are already {MAX_USERS} users, the most allowed; remove one first")]
    Full,
    #[error("cannot generate the user's id")]
    Random(#[source] rand::Error),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    DeviceKey(#[from] DeviceKeyError),
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

/// Why [`UserStore::set_password`](super::UserStore::set_password) failed.
#[derive(Debug, Error)]
pub enum SetPasswordError {
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("no user '{0}'")]
    NoSuchUser(String),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    DeviceKey(#[from] DeviceKeyError),
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

/// Why [`UserStore::set_device_login`](super::UserStore::set_device_login)
/// failed.
#[derive(Debug, Error)]
pub enum SetDeviceLoginError {
    #[error("no user '{0}'")]
    NoSuchUser(String),
    /// Turning a device login on keeps the password the user has: it must
    /// be given, and right.
    #[error("that is not the password of user '{0}' (a device login keeps the user's password; to change it use makarad user passwd)")]
    WrongPassword(String),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    DeviceKey(#[from] DeviceKeyError),
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

/// Why [`UserStore::set_role`](super::UserStore::set_role) failed.
#[derive(Debug, Error)]
pub enum SetRoleError {
    #[error("no user '{0}'")]
    NoSuchUser(String),
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

/// Why [`UserStore::remove`](super::UserStore::remove) failed.
#[derive(Debug, Error)]
pub enum RemoveUserError {
    #[error("no user '{0}'")]
    NoSuchUser(String),
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

/// Why a login was refused.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// Unknown user or wrong password: deliberately the same.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many password checks were queued; nothing was checked.
    #[error(transparent)]
    Busy(HashError),
    /// The stored hash could not be checked (a fault, not a refusal).
    #[error(transparent)]
    Hash(HashError),
    /// The device-login key is missing or does not open the user's sealed
    /// password (a fault, not a refusal).
    #[error(transparent)]
    DeviceKey(std::sync::Arc<DeviceKeyError>),
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

impl From<HashError> for VerifyError {
    fn from(e: HashError) -> VerifyError {
        match e {
            HashError::Busy => VerifyError::Busy(e),
            other => VerifyError::Hash(other),
        }
    }
}
