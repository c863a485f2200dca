//! Errors of loading and saving a document.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::SlotProblem;

/// A slot file that exists but failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedSlot {
    pub path: PathBuf,
    pub problem: SlotProblem,
}

/// Why [`Slots::load`](crate::Slots::load) found no document.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("no valid copy of the document: {}", list(rejected))]
    NoValidCopy { rejected: Vec<RejectedSlot> },
}

/// Why [`Slots::save`](crate::Slots::save) did not store the document.
/// The previous copies are intact in every case.
#[derive(Debug, Error)]
pub enum SaveError {
    #[error("cannot create directory {}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot read {} to find the newest copy", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("generation counter exhausted")]
    GenerationExhausted,
    #[error("cannot write {}", path.display())]
    WriteTemp { path: PathBuf, source: io::Error },
    #[error("cannot rename {} to {}", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
    #[error("cannot sync directory {}", path.display())]
    SyncDir { path: PathBuf, source: io::Error },
}

fn list(rejected: &[RejectedSlot]) -> String {
    rejected
        .iter()
        .map(|r| format!("{}: {}", r.path.display(), r.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

impl SaveError {
    /// Whether the save failed because the disk (or a quota) is full.
    pub fn is_no_space(&self) -> bool {
        let source = match self {
            SaveError::CreateDir { source, .. }
            | SaveError::Read { source, .. }
            | SaveError::WriteTemp { source, .. }
            | SaveError::Rename { source, .. }
            | SaveError::SyncDir { source, .. } => source,
            SaveError::GenerationExhausted => return false,
        };
        crate::reserve::is_no_space(source)
    }
}
