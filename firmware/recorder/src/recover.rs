//! Boot-time recovery: every recording a crash or power cut left
//! recording or paused is finalised, so it becomes an asset.

use std::fs::{self, OpenOptions};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use makara_config::Id;
use makara_store::DirLock;

use crate::asset::{Asset, FinishReason, State};
use crate::error::RecoverError;
use crate::fsio;
use crate::meta::{self, RESERVE_FILE};
use crate::scan;

/// The lock a recorder holds on its root, `<root>/recorder.lock`.
pub(crate) const LOCK_NAME: &str = "recorder";
/// A recording being created: it has no metadata yet, or not all its
/// files. Renamed to its id once whole.
pub(crate) const STAGING_PREFIX: &str = ".new-";
/// A recording being deleted: renamed so, then removed.
pub(crate) const DELETING_PREFIX: &str = ".deleted-";

/// What [`recover`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovery {
    /// Recordings that were live and are finished now, as
    /// [`FinishReason::Interrupted`].
    pub finalised: Vec<Id>,
    /// Leftovers of a start or a delete that a crash cut short, removed.
    pub removed: Vec<PathBuf>,
    /// Recordings that could not be read or finalised; they are left as
    /// they are and are not in the catalog.
    pub problems: Vec<Problem>,
}

/// A recording directory recovery could not make sense of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub detail: String,
}

/// Finalises every recording under `root` that is still recording or
/// paused (a crash, a power cut): each track file is cut back to its last
/// whole packet and fsynced, its duration is measured from the file
/// (from the last checkpoint on), and the metadata says finished,
/// [`FinishReason::Interrupted`]. Removes leftovers of starts and deletes
/// that were cut short. Takes the recordings directory's lock, so it
/// fails while a [`Recorder`](crate::Recorder) has it open;
/// [`Recorder::open`](crate::Recorder::open) recovers by itself.
pub fn recover(root: &Path) -> Result<Recovery, RecoverError> {
    let _lock = DirLock::try_acquire(root, LOCK_NAME)?;
    Ok(recover_locked(root)?.0)
}

/// [`recover`], with the lock held by the caller; also gives every
/// recording it could read, finished now.
pub(crate) fn recover_locked(root: &Path) -> Result<(Recovery, Vec<Asset>), RecoverError> {
    let read_root = |source| RecoverError::ReadRoot {
        path: root.to_path_buf(),
        source,
    };
    let mut recovery = Recovery::default();
    let mut assets = Vec::new();
    for entry in fs::read_dir(root).map_err(read_root)? {
        let entry = entry.map_err(read_root)?;
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING_PREFIX) || name.starts_with(DELETING_PREFIX) {
            match fs::remove_dir_all(&path) {
                Ok(()) => recovery.removed.push(path),
                Err(e) => recovery
                    .problems
                    .push(problem(path, format!("cannot remove it: {e}"))),
            }
            continue;
        }
        let Some(id) = Id::parse(&name).filter(|id| id.as_str() == name) else {
            continue; // not ours
        };
        match recover_one(&path, &id) {
            Ok((asset, finalised)) => {
                if finalised {
                    recovery.finalised.push(id);
                }
                assets.push(asset);
            }
            Err(detail) => recovery.problems.push(problem(path, detail)),
        }
    }
    if !recovery.removed.is_empty() {
        fsio::sync_dir(root).map_err(read_root)?;
    }
    Ok((recovery, assets))
}

fn problem(path: PathBuf, detail: String) -> Problem {
    Problem { path, detail }
}

/// Reads one recording and finalises it if it was live; whether it was.
fn recover_one(dir: &Path, id: &Id) -> Result<(Asset, bool), String> {
    let mut asset = meta::read(dir, id).map_err(|e| e.to_string())?;
    if !asset.state.is_live() {
        return Ok((asset, false));
    }
    let mut notes = Vec::new();
    for (n, track) in asset.tracks.iter_mut().enumerate() {
        let path = meta::track_path(dir, n);
        match finalise_track(&path, track.bytes, track.duration_secs) {
            Ok((bytes, seconds)) => {
                track.bytes = bytes;
                track.duration_secs = seconds;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                track.bytes = 0;
                track.duration_secs = 0.0;
                notes.push(format!("{} is missing", path.display()));
            }
            Err(e) => return Err(format!("cannot finalise {}: {e}", path.display())),
        }
    }
    let reserve = dir.join(RESERVE_FILE);
    fsio::remove_if_present(&reserve)
        .map_err(|e| format!("cannot remove {}: {e}", reserve.display()))?;
    asset.duration_secs = asset
        .tracks
        .iter()
        .map(|t| t.duration_secs)
        .fold(0.0, f64::max);
    asset.state = State::Finished(FinishReason::Interrupted);
    asset.modified = fsio::unix_now();
    if !notes.is_empty() {
        asset.detail = Some(notes.join("; "));
    }
    meta::write(dir, &asset).map_err(|e| {
        let path = dir.join(meta::META_FILE);
        format!("cannot save {}: {e}", path.display())
    })?;
    Ok((asset, true))
}

/// Cuts a track file to whole packets and measures it, from the
/// checkpoint (`bytes` lasting `seconds`) when the file reaches that far.
fn finalise_track(path: &Path, bytes: u64, seconds: f64) -> io::Result<(u64, f64)> {
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = scan::cut_to_whole_packets(&file)?;
    let seconds = if bytes <= len {
        seconds + scan::measure(&file, bytes, len)?
    } else {
        scan::measure(&file, 0, len)?
    };
    Ok((len, seconds))
}
