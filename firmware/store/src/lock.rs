//! The writers' lock on a document.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::{fsutil, name};

/// An exclusive advisory lock on `<dir>/<name>.lock`, released on drop.
///
/// Writers hold it around load-modify-save so that two processes (or two
/// threads) editing the same document never lose each other's update.
/// Readers do not need it. The lock is an `flock(2)` on an open file, so it
/// also excludes other handles within the same process, and the kernel
/// drops it if the holder dies, so a crash never leaves a stale lock. The
/// lock file itself is never removed: deleting it would let a later writer
/// lock a fresh inode while an earlier one still holds the old.
#[derive(Debug)]
pub struct DirLock {
    // Held only for its lock; closing it releases the lock.
    _file: File,
    path: PathBuf,
}

/// Why a [`DirLock`] could not be taken.
#[derive(Debug, Error)]
pub enum LockError {
    #[error("cannot create directory {}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot open lock file {}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("{} is held by another writer (is another makarad command editing this data directory?)", path.display())]
    Held { path: PathBuf },
    #[error("cannot lock {}", path.display())]
    Lock { path: PathBuf, source: io::Error },
}

impl DirLock {
    /// Takes the lock, waiting as long as another writer holds it.
    /// Creates `dir` if it does not exist yet.
    ///
    /// # Panics
    /// If `name` is not made of `[A-Za-z0-9_-]`.
    pub fn acquire(dir: &Path, name: &str) -> Result<DirLock, LockError> {
        let (file, path) = open(dir, name)?;
        match file.lock() {
            Ok(()) => Ok(DirLock { _file: file, path }),
            Err(source) => Err(LockError::Lock { path, source }),
        }
    }

    /// Takes the lock if it is free, or fails at once with
    /// [`LockError::Held`]. Creates `dir` if it does not exist yet.
    ///
    /// # Panics
    /// If `name` is not made of `[A-Za-z0-9_-]`.
    pub fn try_acquire(dir: &Path, name: &str) -> Result<DirLock, LockError> {
        let (file, path) = open(dir, name)?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held { path }),
            Err(TryLockError::Error(source)) => Err(LockError::Lock { path, source }),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(dir: &Path, name: &str) -> Result<(File, PathBuf), LockError> {
    name::check(name);
    fsutil::ensure_dir(dir).map_err(|(path, source)| LockError::CreateDir { path, source })?;
    let path = dir.join(format!("{name}.lock"));
    // Never truncated and never written: its contents do not matter.
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path);
    match opened {
        Ok(file) => Ok((file, path)),
        Err(source) => Err(LockError::Open { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn second_try_acquire_fails_while_held() {
        let dir = TestDir::new("store-lock-twice");
        let first = DirLock::try_acquire(dir.path(), "doc").expect("first");
        let second = DirLock::try_acquire(dir.path(), "doc");
        assert!(
            matches!(second, Err(LockError::Held { ref path }) if path == first.path()),
            "{second:?}"
        );
        let message = second.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("doc.lock"), "{message}");
        drop(first);
        DirLock::try_acquire(dir.path(), "doc").expect("free again after drop");
    }

    #[test]
    fn different_names_do_not_conflict() {
        let dir = TestDir::new("store-lock-names");
        let _a = DirLock::try_acquire(dir.path(), "one").expect("one");
        let _b = DirLock::try_acquire(dir.path(), "two").expect("two");
    }

    #[test]
    fn acquire_waits_for_the_holder() {
        let dir = TestDir::new("store-lock-wait");
        let held = DirLock::acquire(dir.path(), "doc").expect("first");
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            DirLock::acquire(&path, "doc").map(|_| started.elapsed())
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(held);
        let waited = waiter.join().expect("thread").expect("second");
        assert!(
            waited >= std::time::Duration::from_millis(150),
            "{waited:?}"
        );
    }

    #[test]
    fn creates_missing_directory() {
        let dir = TestDir::new("store-lock-mkdir");
        let nested = dir.path().join("x/y");
        let lock = DirLock::try_acquire(&nested, "doc").expect("lock");
        assert!(lock.path().starts_with(&nested));
    }
}
