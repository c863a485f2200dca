//! The limits of the configuration as a whole: how many resources of each
//! kind, how many presets, and how large the saved document may grow.
//!
//! Each field's own limits are `makara-config`'s; these bound what many
//! valid requests add up to. Every change is written to disk whole and
//! kept in memory twice while it is made, so the document's size is what
//! each change costs in writes and memory, and the size limit is what
//! bounds the bytes. A resource takes a few hundred bytes (a UDP input 272,
//! a transcoder about 800), a few kilobytes with every text at its longest;
//! each preset is a full copy of the resources.
//!
//! The counts are far above what one appliance runs at once (every stream
//! encodes on this CPU) and leave room for resources kept unused or made by
//! a management system: every kind at its count with typical texts takes
//! about 400 kB, so it fits with three presets of it. With long texts, the
//! size limit is met first.

use crate::command::Kind;
use crate::document::Document;
use crate::error::{GrowthError, LimitError};
use crate::supervisor::Supervisor;

pub const MAX_INPUTS: usize = 256;
/// Twice the others: a stream may send to several outputs.
pub const MAX_OUTPUTS: usize = 512;
pub const MAX_TRANSCODERS: usize = 256;
pub const MAX_STREAMS: usize = 256;
pub const MAX_PRESETS: usize = 32;
/// The largest saved document, presets included, in bytes of its TOML.
pub const MAX_DOCUMENT_BYTES: usize = 2 << 20;
/// Groups of outputs recorded together. Presets do not copy them, so each
/// costs its bytes once: at most about 2.5 kB with the longest texts and
/// every output slot taken, 160 kB for all of them.
pub const MAX_GROUPS: usize = 64;
/// Outputs in one group: the tracks of one recording
/// (`makara_recorder::limits::MAX_TRACKS`).
pub const MAX_GROUP_OUTPUTS: usize = makara_recorder::limits::MAX_TRACKS;
/// The longest group title, in characters (and at least one).
pub const MAX_GROUP_TITLE_CHARS: usize = 128;
/// The longest group description, in characters.
pub const MAX_GROUP_DESCRIPTION_CHARS: usize = 1024;
/// Events kept in memory for the event log; the oldest go first.
pub const MAX_EVENTS: usize = 1000;

const KINDS: [Kind; 5] = [
    Kind::Input,
    Kind::Output,
    Kind::Transcoder,
    Kind::Stream,
    Kind::Preset,
];

/// The most resources of `kind` the configuration keeps.
pub fn max_count(kind: Kind) -> usize {
    match kind {
        Kind::Input => MAX_INPUTS,
        Kind::Output => MAX_OUTPUTS,
        Kind::Transcoder => MAX_TRANSCODERS,
        Kind::Stream => MAX_STREAMS,
        Kind::Preset => MAX_PRESETS,
    }
}

impl Supervisor {
    /// [`Supervisor::commit`] for a change that may grow the document
    /// (creating or replacing resources, saving or loading presets). The
    /// change is refused, with nothing changed, when it would take the
    /// document past a limit.
    pub(crate) fn commit_within_limits(
        &mut self,
        change: impl FnOnce(&mut Document),
    ) -> Result<(), GrowthError> {
        let mut next = self.doc.clone();
        change(&mut next);
        check(&self.doc, &next)?;
        self.commit(|d| *d = next)?;
        Ok(())
    }
}

/// Checks `after`, made from `before` by one change. Only growth is
/// refused: a document already past a limit (saved by an older firmware)
/// can still be edited down.
pub(crate) fn check(before: &Document, after: &Document) -> Result<(), LimitError> {
    for kind in KINDS {
        let (was, is, max) = (count(before, kind), count(after, kind), max_count(kind));
        if is > max && is > was {
            return Err(LimitError::TooMany { kind, max });
        }
    }
    check_size(before, after)
}

/// Checks only the size of `after`, made from `before` by one change.
pub(crate) fn check_size(before: &Document, after: &Document) -> Result<(), LimitError> {
    let size = encoded_len(after);
    // The document as it was is measured only in the rare case that needs it.
    if size > MAX_DOCUMENT_BYTES && size > encoded_len(before) {
        return Err(LimitError::TooLarge {
            size,
            max: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

fn count(doc: &Document, kind: Kind) -> usize {
    match kind {
        Kind::Preset => doc.presets.len(),
        kind => doc.current.count(kind),
    }
}

/// The size of the document as `Store::save` writes it. A document that
/// cannot be encoded counts as empty here; saving it fails anyway.
pub(crate) fn encoded_len(doc: &Document) -> usize {
    toml::to_string(doc).map_or(0, |text| text.len())
}

#[cfg(test)]
mod tests;
