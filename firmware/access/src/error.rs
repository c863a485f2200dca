//! What can go wrong reading or changing the access state.

use std::path::PathBuf;

use makara_store::{LoadError, LockError, SaveError};
use thiserror::Error;

/// Why an [`AccessStore`](crate::AccessStore) operation failed. A failed
/// change leaves the stored state as it was.
#[derive(Debug, Error)]
pub enum AccessError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Save(#[from] SaveError),
    // The checksums held, so these mean a bug or a hand edit, not a torn
    // write; refusing is safer than guessing at secrets.
    #[error("the access document in {} is not UTF-8", dir.display())]
    NotUtf8 { dir: PathBuf },
    #[error("the access document in {} is not valid", dir.display())]
    Parse {
        dir: PathBuf,
        source: toml::de::Error,
    },
    #[error("the access document in {} has format version {version}; this firmware reads version 1", dir.display())]
    UnsupportedVersion { dir: PathBuf, version: u32 },
    #[error("cannot encode the access document")]
    Encode(#[source] toml::ser::Error),
    #[error("cannot generate random credentials")]
    Random(#[source] rand::Error),
}
