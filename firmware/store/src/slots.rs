//! A document kept as two alternating slot files.

mod error;
mod fingerprint;
#[cfg(test)]
mod full_disk;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::format::{self, SlotProblem};
use crate::{fsutil, name, reserve};

pub use error::{LoadError, RejectedSlot, SaveError};
pub use fingerprint::Fingerprint;

/// A document stored as two slot files `<name>.a` and `<name>.b` in a
/// directory.
///
/// Each save writes generation *newest + 1* into the slot that does not hold
/// the newest valid copy, so at every instant at least one complete, valid
/// copy exists, and a copy that was acknowledged is only ever replaced by a
/// newer one. Temporary files `<name>.<slot>.tmp` may be left behind by a
/// crash; they are ignored and overwritten by the next save.
///
/// Slot files are created with permission `0o600` by default, since
/// documents may hold secrets and only the appliance's own user needs them;
/// see [`Slots::with_mode`].
#[derive(Debug, Clone)]
pub struct Slots {
    dir: PathBuf,
    name: String,
    mode: u32,
}

/// The newest valid copy of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// Counts saves: 1 for the first, and one more for each after it.
    pub generation: u64,
    pub payload: Vec<u8>,
    /// The slot file this copy was read from.
    pub path: PathBuf,
    /// The other slot file, when it exists but is torn or corrupt: this
    /// copy may then be older than the last save. (A corrupt slot's own
    /// generation cannot be trusted, so we cannot tell whether it was the
    /// newer one.) Worth a warning in the log naming this file; the next
    /// save overwrites it.
    pub damaged: Option<RejectedSlot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    A,
    B,
}

impl Slot {
    const BOTH: [Slot; 2] = [Slot::A, Slot::B];

    fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
        }
    }
}

/// What one slot file held.
enum SlotState {
    Missing,
    Invalid(SlotProblem),
    Valid { generation: u64, payload: Vec<u8> },
}

/// What both slot files together hold.
enum Choice {
    /// Neither slot file exists.
    Fresh,
    Newest {
        slot: Slot,
        generation: u64,
        payload: Vec<u8>,
        /// The other slot, when its file exists but is not valid.
        damaged: Option<(Slot, SlotProblem)>,
    },
    /// At least one slot file exists, none is valid.
    NoValidCopy { invalid: Vec<(Slot, SlotProblem)> },
}

impl Slots {
    /// Names the document `name` in `dir`. Touches nothing on disk.
    ///
    /// # Panics
    /// If `name` is not made of `[A-Za-z0-9_-]`: names are firmware
    /// constants, and this keeps files inside `dir`.
    pub fn new(dir: impl Into<PathBuf>, name: &str) -> Slots {
        name::check(name);
        Slots {
            dir: dir.into(),
            name: name.to_owned(),
            mode: 0o600,
        }
    }

    /// Sets the permission bits of slot files written from now on
    /// (default `0o600`).
    pub fn with_mode(mut self, mode: u32) -> Slots {
        self.mode = mode;
        self
    }

    /// The directory holding the slot files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads both slots and returns the valid one with the highest
    /// generation, or `Ok(None)` when neither slot file exists.
    ///
    /// Fails with [`LoadError::NoValidCopy`] when slot files exist but none
    /// is valid, and with [`LoadError::Read`] when a slot file exists but
    /// cannot be read: an unreadable file is not known to be corrupt, and
    /// quietly using the other copy could hide the newest one.
    pub fn load(&self) -> Result<Option<Loaded>, LoadError> {
        let states = self
            .scan()
            .map_err(|(path, source)| LoadError::Read { path, source })?;
        match choose(states) {
            Choice::Fresh => Ok(None),
            Choice::Newest {
                slot,
                generation,
                payload,
                damaged,
            } => Ok(Some(Loaded {
                generation,
                payload,
                path: self.slot_path(slot),
                damaged: damaged.map(|(slot, problem)| RejectedSlot {
                    path: self.slot_path(slot),
                    problem,
                }),
            })),
            Choice::NoValidCopy { invalid } => Err(LoadError::NoValidCopy {
                rejected: invalid
                    .into_iter()
                    .map(|(slot, problem)| RejectedSlot {
                        path: self.slot_path(slot),
                        problem,
                    })
                    .collect(),
            }),
        }
    }

    /// Durably stores `payload` as the new newest copy. When this returns
    /// `Ok`, the data survives a crash or power loss.
    ///
    /// Re-reads both slots every time to find the newest valid copy, rather
    /// than trusting what this handle last saw, so it never overwrites a
    /// newer copy written by another process. It writes generation
    /// *newest + 1* into the other slot: to `<name>.<slot>.tmp`, fsynced,
    /// renamed over `<name>.<slot>`, then the directory is fsynced. With no
    /// valid copy at all it writes generation 1, over a corrupt slot if
    /// there is one. Creates `dir` if it does not exist.
    ///
    /// A failed write removes its temporary file. When the disk is full and
    /// `payload` is no larger than the newest copy's, room is taken from
    /// the directory's reserve (see [`ensure_reserve`](crate::ensure_reserve))
    /// and the write is tried again: while the reserve lasts, a document
    /// that does not grow can be saved, so deleting things works on a full
    /// disk.
    ///
    /// Takes `&mut self` because two saves through one handle at once would
    /// share a temporary file. Different handles and processes must hold a
    /// [`DirLock`](crate::DirLock) around load-modify-save.
    pub fn save(&mut self, payload: &[u8]) -> Result<(), SaveError> {
        fsutil::ensure_dir(&self.dir)
            .map_err(|(path, source)| SaveError::CreateDir { path, source })?;
        let states = self
            .scan()
            .map_err(|(path, source)| SaveError::Read { path, source })?;
        let (slot, generation, newest_len) = match choose(states) {
            Choice::Fresh => (Slot::A, 1, None),
            Choice::NoValidCopy { invalid } => {
                (invalid.first().map_or(Slot::A, |&(slot, _)| slot), 1, None)
            }
            Choice::Newest {
                slot,
                generation,
                payload: newest,
                ..
            } => {
                let next = generation
                    .checked_add(1)
                    .ok_or(SaveError::GenerationExhausted)?;
                (slot.other(), next, Some(newest.len()))
            }
        };
        let bytes = format::encode(generation, payload);
        let mut result = self.write_slot(slot, &bytes);
        if newest_len.is_none_or(|n| payload.len() > n) {
            return result;
        }
        // Room for the new copy (and a page for what the file system
        // keeps about it) first; failing that, the whole reserve.
        for wanted in [bytes.len() as u64 + 4096, u64::MAX] {
            match &result {
                Err(e) if e.is_no_space() && reserve::take(&self.dir, wanted) => {
                    result = self.write_slot(slot, &bytes);
                }
                _ => break,
            }
        }
        result
    }

    /// Writes a slot file's bytes through its temporary file; on failure
    /// the temporary file is gone again (best effort: it may not even be a
    /// file) and the slot untouched.
    fn write_slot(&self, slot: Slot, bytes: &[u8]) -> Result<(), SaveError> {
        let target = self.slot_path(slot);
        let tmp = self
            .dir
            .join(format!("{}.{}.tmp", self.name, slot.suffix()));
        if let Err(source) = fsutil::write_synced(&tmp, bytes, self.mode) {
            let _ = fs::remove_file(&tmp);
            return Err(SaveError::WriteTemp { path: tmp, source });
        }
        if let Err(source) = fs::rename(&tmp, &target) {
            let _ = fs::remove_file(&tmp);
            return Err(SaveError::Rename {
                from: tmp,
                to: target,
                source,
            });
        }
        fsutil::sync_dir(&self.dir).map_err(|source| SaveError::SyncDir {
            path: self.dir.clone(),
            source,
        })
    }

    /// A cheap change detector for writes by another process: the inode,
    /// length and modification time of both slot files. Every save replaces
    /// a slot with a new inode, so a save always changes the fingerprint,
    /// however coarse the file system's timestamps.
    ///
    /// To poll, take the fingerprint *before* loading; if it differs on the
    /// next poll, load again.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.slot_path(Slot::A), &self.slot_path(Slot::B))
    }

    fn slot_path(&self, slot: Slot) -> PathBuf {
        self.dir.join(format!("{}.{}", self.name, slot.suffix()))
    }

    /// Reads both slot files. Fails with the path of a file that exists but
    /// could not be read.
    fn scan(&self) -> Result<[SlotState; 2], (PathBuf, io::Error)> {
        let read = |slot| {
            let path = self.slot_path(slot);
            read_slot(&path).map_err(|e| (path, e))
        };
        Ok([read(Slot::A)?, read(Slot::B)?])
    }
}

fn read_slot(path: &Path) -> io::Result<SlotState> {
    let mut bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(SlotState::Missing),
        Err(e) => return Err(e),
    };
    let (generation, header_len) = match format::decode(&bytes) {
        Ok(decoded) => (decoded.generation, bytes.len() - decoded.payload.len()),
        Err(problem) => return Ok(SlotState::Invalid(problem)),
    };
    // Reuse the buffer rather than copying the payload out of it.
    bytes.drain(..header_len);
    Ok(SlotState::Valid {
        generation,
        payload: bytes,
    })
}

fn choose(states: [SlotState; 2]) -> Choice {
    let mut newest: Option<(Slot, u64, Vec<u8>)> = None;
    let mut invalid = Vec::new();
    for (slot, state) in Slot::BOTH.into_iter().zip(states) {
        match state {
            SlotState::Missing => {}
            SlotState::Invalid(problem) => invalid.push((slot, problem)),
            SlotState::Valid {
                generation,
                payload,
            } => {
                // Equal generations never come from `save`; A wins a tie.
                if newest.as_ref().is_none_or(|&(_, g, _)| generation > g) {
                    newest = Some((slot, generation, payload));
                }
            }
        }
    }
    match newest {
        // With a valid copy at most the other slot is invalid.
        Some((slot, generation, payload)) => Choice::Newest {
            slot,
            generation,
            payload,
            damaged: invalid.pop(),
        },
        None if invalid.is_empty() => Choice::Fresh,
        None => Choice::NoValidCopy { invalid },
    }
}
