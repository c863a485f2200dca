//! One recording's entry in the catalog: its directory and what its
//! metadata says, kept in memory and saved on every change.

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::asset::Asset;
use crate::fsio::lock;
use crate::meta;

/// A recording's metadata in memory. While it is live, its writer keeps
/// the track sizes and durations here current (each a pair measured at
/// the same instant, so any save of them is a valid checkpoint).
#[derive(Debug)]
pub(crate) struct Record {
    pub dir: PathBuf,
    asset: Mutex<Asset>,
}

impl Record {
    pub fn new(dir: PathBuf, asset: Asset) -> Record {
        Record {
            dir,
            asset: Mutex::new(asset),
        }
    }

    pub fn snapshot(&self) -> Asset {
        lock(&self.asset).clone()
    }

    /// Changes the copy in memory only.
    pub fn publish(&self, change: impl FnOnce(&mut Asset)) {
        change(&mut lock(&self.asset));
    }

    /// Applies `change` and saves the result; when `change` refuses (its
    /// error) or the save fails, nothing changes. Returns the new state.
    pub fn change<E>(
        &self,
        change: impl FnOnce(&mut Asset) -> Result<(), E>,
        save_failed: impl FnOnce(io::Error) -> E,
    ) -> Result<Asset, E> {
        let mut current = lock(&self.asset);
        let mut next = current.clone();
        change(&mut next)?;
        meta::write(&self.dir, &next).map_err(save_failed)?;
        *current = next.clone();
        Ok(next)
    }

    /// Saves what memory holds: a checkpoint.
    pub fn save(&self) -> io::Result<()> {
        let current = lock(&self.asset);
        meta::write(&self.dir, &current)
    }
}
