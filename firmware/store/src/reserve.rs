//! Space set aside in the data directory so that a full disk stays
//! recoverable.
//!
//! A save writes a whole new copy before the old one is released, so on a
//! full disk even a save that makes the document smaller (deleting
//! something, revoking a key) finds no block for its temporary file. The
//! reserve is a plain file of [`RESERVE_BYTES`] in the data directory that
//! nobody reads. A save that hits a full disk and does not grow its
//! document deletes it and tries once more (see
//! [`Slots::save`](crate::Slots::save)); [`ensure_reserve`] puts it back
//! once there is room again.
//!
//! Why a reserve rather than writing the smaller document in place over the
//! older slot: the save keeps the same write-temporary, fsync, rename,
//! fsync-directory sequence as every other save, so at every instant two
//! complete copies (or one and an ignored temporary file) exist and the
//! crash-safety argument is unchanged; it works when only one slot file
//! exists yet (the first key in `access.a`); and it works on file systems
//! where overwriting a block allocates a new one (copy-on-write).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fsutil;

/// The reserve's file name in the data directory.
pub const RESERVE_FILE: &str = "reserved-space";

/// The reserve's size: room for a document of this size to be saved on a
/// full disk. The configuration of a fully used appliance is tens of KiB.
pub const RESERVE_BYTES: u64 = 256 * 1024;

/// Why the reserve could not be put back. Nothing else changed: a partly
/// written reserve is removed again.
#[derive(Debug, Error)]
#[error("cannot set aside {RESERVE_BYTES} bytes in {}", path.display())]
pub struct ReserveError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl ReserveError {
    /// Whether the disk had no room for it (the usual reason).
    pub fn is_no_space(&self) -> bool {
        is_no_space(&self.source)
    }
}

/// Makes sure `dir` holds a full reserve; returns whether one had to be
/// written. Written to a temporary file first, so a failure (a full disk)
/// leaves no partial reserve taking the space a save needs.
pub fn ensure_reserve(dir: &Path) -> Result<bool, ReserveError> {
    let path = dir.join(RESERVE_FILE);
    if fs::metadata(&path).is_ok_and(|m| m.len() >= RESERVE_BYTES) {
        return Ok(false);
    }
    let tmp = dir.join(format!("{RESERVE_FILE}.tmp"));
    let error = |source| ReserveError {
        path: path.clone(),
        source,
    };
    if let Err(e) = write_zeros(&tmp) {
        let _ = fs::remove_file(&tmp);
        return Err(error(e));
    }
    if let Err(e) = fs::rename(&tmp, &path) {
        let _ = fs::remove_file(&tmp);
        return Err(error(e));
    }
    fsutil::sync_dir(dir).map_err(error)?;
    Ok(true)
}

/// Deletes the reserve, freeing its blocks at once; false if there was
/// none. A crash before the directory is synced may bring it back, which
/// is harmless: the save that needed the room is then not acknowledged.
pub(crate) fn release(dir: &Path) -> bool {
    fs::remove_file(dir.join(RESERVE_FILE)).is_ok()
}

/// Whether an I/O error means the file system (or the user's quota) is full.
pub(crate) fn is_no_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// Real zeros, not a sparse `set_len`: a hole reserves nothing.
fn write_zeros(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    let block = [0u8; 64 * 1024];
    let mut left = RESERVE_BYTES;
    while left > 0 {
        let n = left.min(block.len() as u64);
        file.write_all(&block[..n as usize])?;
        left -= n;
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn ensure_writes_a_full_allocated_reserve_once() {
        let dir = TestDir::new("store-reserve");
        assert!(ensure_reserve(dir.path()).expect("reserve"));
        let meta = fs::metadata(dir.path().join(RESERVE_FILE)).expect("meta");
        assert_eq!(meta.len(), RESERVE_BYTES);
        // Blocks are really allocated (512-byte units), not a hole.
        assert!(meta.blocks() * 512 >= RESERVE_BYTES, "{}", meta.blocks());
        assert!(!ensure_reserve(dir.path()).expect("again"));
        assert!(!dir.path().join(format!("{RESERVE_FILE}.tmp")).exists());
    }

    #[test]
    fn a_short_reserve_is_rewritten_and_a_released_one_restored() {
        let dir = TestDir::new("store-reserve-short");
        dir.write(RESERVE_FILE, b"short");
        assert!(ensure_reserve(dir.path()).expect("reserve"));
        assert!(release(dir.path()));
        assert!(!release(dir.path()), "nothing left to release");
        assert!(ensure_reserve(dir.path()).expect("restore"));
        let len = fs::metadata(dir.path().join(RESERVE_FILE))
            .expect("meta")
            .len();
        assert_eq!(len, RESERVE_BYTES);
    }
}
