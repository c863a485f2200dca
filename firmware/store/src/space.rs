//! How much room the file system holding a directory has left.

use std::io;
use std::path::Path;

/// The size of a file system and what an unprivileged writer may still
/// use of it, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub total_bytes: u64,
    /// `f_bavail`: blocks kept for root (ext4's 5 %) are not counted.
    pub available_bytes: u64,
}

/// The space on the file system holding `dir` (statvfs).
pub fn space(dir: &Path) -> io::Result<Space> {
    let s = rustix::fs::statvfs(dir)?;
    // f_frsize is the unit of the block counts; f_bsize only the preferred
    // I/O size (the two differ on some file systems).
    let unit = if s.f_frsize > 0 {
        s.f_frsize
    } else {
        s.f_bsize
    };
    Ok(Space {
        total_bytes: s.f_blocks.saturating_mul(unit),
        available_bytes: s.f_bavail.saturating_mul(unit),
    })
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn a_directory_has_some_space_and_a_missing_one_is_an_error() {
        let dir = TestDir::new("store-space");
        let s = space(dir.path()).expect("statvfs");
        assert!(s.total_bytes > 0);
        assert!(s.available_bytes <= s.total_bytes);
        assert!(space(&dir.path().join("missing")).is_err());
    }
}
