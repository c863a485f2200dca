//! Cheap detection of another process's saves.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

/// The identity of both slot files at one instant; see
/// [`Slots::fingerprint`](crate::Slots::fingerprint). Only meant to be
/// compared with another fingerprint of the same document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    a: Stamp,
    b: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Stamp {
    Missing,
    Present {
        dev: u64,
        ino: u64,
        len: u64,
        mtime: Option<SystemTime>,
    },
    /// Kept distinct from `Missing` so that a file becoming readable again
    /// counts as a change.
    Unreadable(io::ErrorKind),
}

impl Fingerprint {
    pub(crate) fn of(a: &Path, b: &Path) -> Fingerprint {
        Fingerprint {
            a: Stamp::of(a),
            b: Stamp::of(b),
        }
    }
}

impl Stamp {
    fn of(path: &Path) -> Stamp {
        match fs::metadata(path) {
            Ok(meta) => Stamp::Present {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime: meta.modified().ok(),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Stamp::Missing,
            Err(e) => Stamp::Unreadable(e.kind()),
        }
    }
}
