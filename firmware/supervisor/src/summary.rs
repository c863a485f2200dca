//! The saved configuration at a glance, read without a supervisor: what
//! `makarad console`'s `status` shows while a `makarad serve` may own the
//! document. It only reads (no lock, no write), and decodes the document
//! with the same types and format check the supervisor boots from.

use std::path::Path;

use crate::document::{OpenError, Store};

/// Names and counts of the saved configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedSummary {
    /// The current configuration's streams, in creation order.
    pub streams: Vec<SavedStream>,
    pub inputs: usize,
    pub outputs: usize,
    pub transcoders: usize,
    /// The saved presets, in creation order.
    pub presets: Vec<SavedPreset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedStream {
    pub name: String,
    /// The last command was a start and no stop followed, so (without a
    /// default preset) it starts again at boot.
    pub started: bool,
    /// It starts at boot whatever the last command was.
    pub auto_start: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPreset {
    pub name: String,
    /// Loaded at boot in place of the current configuration.
    pub is_default: bool,
}

/// The configuration saved in `data_dir`; an empty one when nothing was
/// saved yet (or the directory does not exist).
pub fn saved_summary(data_dir: &Path) -> Result<SavedSummary, OpenError> {
    let (_store, document) = Store::open(data_dir)?;
    let current = &document.current;
    let streams = current.streams.iter().map(|(id, stream)| SavedStream {
        name: stream.name.clone(),
        started: document.running.contains(id),
        auto_start: stream.auto_start,
    });
    let presets = document.presets.iter().map(|p| SavedPreset {
        name: p.name.clone(),
        is_default: document.default_preset.as_ref() == Some(&p.id),
    });
    Ok(SavedSummary {
        streams: streams.collect(),
        inputs: current.inputs.len(),
        outputs: current.outputs.len(),
        transcoders: current.transcoders.len(),
        presets: presets.collect(),
    })
}
