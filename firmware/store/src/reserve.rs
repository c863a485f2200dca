//! Space set aside in the data directory so that a full disk stays
//! recoverable.
//!
//! A save writes a whole new copy before the old one is released, so on a
//! full disk even a save that makes the document smaller (deleting
//! something, revoking a key) finds no block for its temporary file. The
//! reserve is a plain file of zeros in the data directory that nobody
//! reads, with room for two saves of the document ([`reserve_size`], at
//! least [`RESERVE_BYTES`]). A save that hits a full disk and does not grow its
//! document shortens it by what the save needs and tries once more (see
//! [`Slots::save`](crate::Slots::save)), so one reserve lasts for many
//! such saves; [`ensure_reserve`] fills it up again once there is room.
//!
//! Why a reserve rather than writing the smaller document in place over the
//! older slot: the save keeps the same write-temporary, fsync, rename,
//! fsync-directory sequence as every other save, so at every instant two
//! complete copies (or one and an ignored temporary file) exist and the
//! crash-safety argument is unchanged; it works when only one slot file
//! exists yet (the first key in `access.a`); and it works on file systems
//! where overwriting a block allocates a new one (copy-on-write).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fsutil;

/// The reserve's file name in the data directory.
pub const RESERVE_FILE: &str = "reserved-space";

/// The reserve's smallest size: room for a document of about this size to
/// be saved on a full disk. The configuration of a busy appliance is tens
/// of KiB; a larger document gets a larger reserve ([`reserve_size`]).
pub const RESERVE_BYTES: u64 = 256 * 1024;

/// The reserve kept for a document of `document_bytes`: room for two saves
/// of it, in whole pages, and at least [`RESERVE_BYTES`].
pub fn reserve_size(document_bytes: u64) -> u64 {
    let two_saves = document_bytes.saturating_add(4096).saturating_mul(2);
    two_saves
        .div_ceil(4096)
        .saturating_mul(4096)
        .max(RESERVE_BYTES)
}

/// Why the reserve could not be filled up. Nothing else changed: the
/// reserve is as long as it was before.
#[derive(Debug, Error)]
#[error("cannot set aside {size} bytes in {}", path.display())]
pub struct ReserveError {
    pub path: PathBuf,
    pub size: u64,
    #[source]
    pub source: io::Error,
}

impl ReserveError {
    /// Whether the disk had no room for it (the usual reason).
    pub fn is_no_space(&self) -> bool {
        is_no_space(&self.source)
    }
}

/// Makes sure `dir` holds a full reserve for a document of
/// `document_bytes` ([`reserve_size`]); returns whether it had to be made
/// or filled up. It is filled only while at least as much again stays
/// free, and on failure it is cut back to what it was, so that filling it
/// never takes the room a save (ours or another process's) needs.
pub fn ensure_reserve(dir: &Path, document_bytes: u64) -> Result<bool, ReserveError> {
    let path = dir.join(RESERVE_FILE);
    let size = reserve_size(document_bytes);
    let had = fs::metadata(&path).map_or(0, |m| m.len());
    if had >= size {
        return Ok(false);
    }
    let error = |source| ReserveError {
        path: path.clone(),
        size,
        source,
    };
    let available = crate::space(dir).map_err(error)?.available_bytes;
    if available / 2 < size - had {
        return Err(error(io::ErrorKind::StorageFull.into()));
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(error)?;
    if let Err(e) = append_zeros(&mut file, had, size) {
        let _ = file.set_len(had);
        return Err(error(e));
    }
    if had == 0 {
        fsutil::sync_dir(dir).map_err(error)?;
    }
    Ok(true)
}

/// Frees at least `bytes` of the reserve (all of it if it is shorter);
/// false if there was nothing left to free. Truncating gives the blocks
/// back at once. Not synced: after a crash the reserve may be longer again,
/// which is harmless (the save that needed the room was not acknowledged).
pub(crate) fn take(dir: &Path, bytes: u64) -> bool {
    let path = dir.join(RESERVE_FILE);
    let Ok(file) = OpenOptions::new().write(true).open(&path) else {
        return false;
    };
    let len = file.metadata().map_or(0, |m| m.len());
    if len == 0 {
        return false;
    }
    // Whole pages: a file system frees blocks, not bytes.
    let bytes = bytes.div_ceil(4096).saturating_mul(4096);
    file.set_len(len.saturating_sub(bytes)).is_ok()
}

/// Whether an I/O error means the file system (or the user's quota) is full.
pub(crate) fn is_no_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// Real zeros from `from` up to `to`, not a sparse `set_len`: a hole
/// reserves nothing.
fn append_zeros(file: &mut File, from: u64, to: u64) -> io::Result<()> {
    file.seek(SeekFrom::Start(from))?;
    let block = [0u8; 64 * 1024];
    let mut left = to - from;
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
        assert!(ensure_reserve(dir.path(), 0).expect("reserve"));
        let meta = fs::metadata(dir.path().join(RESERVE_FILE)).expect("meta");
        assert_eq!(meta.len(), RESERVE_BYTES);
        // Blocks are really allocated (512-byte units), not a hole.
        assert!(meta.blocks() * 512 >= RESERVE_BYTES, "{}", meta.blocks());
        assert!(!ensure_reserve(dir.path(), 0).expect("again"));
    }

    #[test]
    fn a_large_document_gets_room_for_two_saves() {
        assert_eq!(reserve_size(0), RESERVE_BYTES);
        assert_eq!(reserve_size(100_000), RESERVE_BYTES);
        assert_eq!(reserve_size(1 << 20), (2 << 20) + 8192);
        let dir = TestDir::new("store-reserve-large");
        ensure_reserve(dir.path(), 0).expect("reserve");
        assert!(ensure_reserve(dir.path(), 200_000).expect("grown"));
        let len = fs::metadata(dir.path().join(RESERVE_FILE))
            .expect("meta")
            .len();
        assert_eq!(len, reserve_size(200_000));
        assert!(!ensure_reserve(dir.path(), 0).expect("never shrunk"));
    }

    #[test]
    fn taking_shortens_the_reserve_by_whole_pages_until_it_is_spent() {
        let dir = TestDir::new("store-reserve-take");
        let len = || {
            fs::metadata(dir.path().join(RESERVE_FILE))
                .expect("meta")
                .len()
        };
        assert!(!take(dir.path(), 1), "no reserve yet");
        ensure_reserve(dir.path(), 0).expect("reserve");
        assert!(take(dir.path(), 5000));
        assert_eq!(len(), RESERVE_BYTES - 8192);
        assert!(take(dir.path(), RESERVE_BYTES));
        assert_eq!(len(), 0);
        assert!(!take(dir.path(), 1), "nothing left");
        assert!(ensure_reserve(dir.path(), 0).expect("filled up again"));
        assert_eq!(len(), RESERVE_BYTES);
    }
}
