//! Watching the data disk's free space, so that an operator hears that it
//! runs low before saves start to fail.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::views::StorageView;

/// Below this many available bytes the data disk counts as low. A save
/// needs room for one more copy of the document (tens of KiB for a fully
/// used appliance, at most the document limit) beside the two it keeps;
/// half a MiB leaves room for several saves, so the warning comes before
/// the first create fails. Deletes keep working below it, and even on a
/// full disk (the store's reserve).
pub(crate) const LOW_SPACE_BYTES: u64 = 512 * 1024;

/// The data directory's disk, and whether it was low when last looked at.
#[derive(Debug)]
pub(crate) struct DiskWatch {
    dir: PathBuf,
    low: AtomicBool,
}

impl DiskWatch {
    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn new(dir: &Path) -> DiskWatch {
        DiskWatch {
            dir: dir.to_path_buf(),
            low: AtomicBool::new(false),
        }
    }

    /// Looks at the disk now; logs when it becomes low and when it
    /// recovers (once each, not at every look). `None` when the file
    /// system cannot be asked.
    pub fn check(&self) -> Option<StorageView> {
        // A data directory not made yet will be made in its nearest
        // existing ancestor, so that disk is the one that matters.
        let existing = self.dir.ancestors().find(|p| p.exists())?;
        let space = match makara_store::space(existing) {
            Ok(space) => space,
            Err(e) => {
                tracing::debug!(dir = %existing.display(), error = %e, "cannot read the data disk's free space");
                return None;
            }
        };
        let low = space.available_bytes < LOW_SPACE_BYTES;
        if self.low.swap(low, Ordering::Relaxed) != low {
            if low {
                tracing::warn!(
                    dir = %self.dir.display(),
                    available_bytes = space.available_bytes,
                    total_bytes = space.total_bytes,
                    threshold_bytes = LOW_SPACE_BYTES,
                    "disk space is low on the data disk; new resources may fail to save (deleting still works)"
                );
            } else {
                tracing::info!(
                    dir = %self.dir.display(),
                    available_bytes = space.available_bytes,
                    "disk space on the data disk is no longer low"
                );
            }
        }
        Some(StorageView {
            total_bytes: space.total_bytes,
            available_bytes: space.available_bytes,
            low,
        })
    }
}
