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
//!
//! The board sets lower limits of its own ([`BoardLimits`], from its
//! profile): how many streams run at once, and the largest picture a
//! transcoder encodes or a test pattern draws. They never raise these.

use makara_config::{Id, InputKind, ResolutionMode};

use crate::command::Kind;
use crate::document::Document;
use crate::error::{GrowthError, LimitError, StartError};
use crate::events::EventKind;
use crate::supervisor::Supervisor;
use crate::views::StreamState;

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

/// What the board the supervisor runs on can carry (its profile's
/// `limits`), never more than the supervisor's own bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardLimits {
    /// Streams running at once: a start past it is refused.
    pub running_streams: usize,
    /// The widest picture a transcoder may encode or a test pattern draw.
    pub max_width: u32,
    /// The tallest picture.
    pub max_height: u32,
}

impl BoardLimits {
    /// No board limit: the supervisor's own bounds (every stream it keeps
    /// may run; the transcoder's own ranges).
    pub const UPPER: BoardLimits = BoardLimits {
        running_streams: MAX_STREAMS,
        max_width: makara_board::profile::MAX_WIDTH,
        max_height: makara_board::profile::MAX_HEIGHT,
    };

    /// A board's limits, each held to [`BoardLimits::UPPER`].
    pub fn new(running_streams: usize, max_width: u32, max_height: u32) -> BoardLimits {
        let upper = BoardLimits::UPPER;
        BoardLimits {
            running_streams: running_streams.min(upper.running_streams),
            max_width: max_width.min(upper.max_width),
            max_height: max_height.min(upper.max_height),
        }
    }

    /// Refuses a picture larger than the board's largest.
    fn picture(&self, kind: Kind, name: &str, width: u32, height: u32) -> Result<(), LimitError> {
        if width <= self.max_width && height <= self.max_height {
            return Ok(());
        }
        Err(LimitError::Picture {
            kind,
            name: name.to_owned(),
            width,
            height,
            max_width: self.max_width,
            max_height: self.max_height,
        })
    }
}

impl Default for BoardLimits {
    fn default() -> BoardLimits {
        BoardLimits::UPPER
    }
}

impl From<&makara_board::profile::Limits> for BoardLimits {
    fn from(limits: &makara_board::profile::Limits) -> BoardLimits {
        let streams = usize::try_from(limits.max_streams).unwrap_or(usize::MAX);
        BoardLimits::new(streams, limits.max_width, limits.max_height)
    }
}

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
        check(&self.doc, &next, &self.board)?;
        self.commit(|d| *d = next)?;
        Ok(())
    }

    /// Refuses to start stream `id` when the board's count of streams
    /// running at once is reached: recorded as the stream's last error and
    /// as an event, as a failed start is.
    pub(crate) fn check_running(&mut self, id: &Id) -> Result<(), StartError> {
        let max = self.board.running_streams;
        let others = self
            .resources()
            .streams
            .iter()
            .filter(|(other, _)| *other != id && self.stream_state(other) != StreamState::Stopped)
            .count();
        if others < max {
            return Ok(());
        }
        let e = StartError::TooMany { max };
        self.last_errors.insert(id.clone(), e.to_string());
        let name = self.stream_name(id);
        let events = &self.shared.events;
        events.record(EventKind::StreamFailed, Some(id), &name, e.to_string());
        Err(e)
    }
}

/// Checks `after`, made from `before` by one change, on a board with
/// `board`'s limits. Only growth is refused: a document already past a
/// limit (saved by an older firmware, or on a larger board) can still be
/// edited down.
pub(crate) fn check(
    before: &Document,
    after: &Document,
    board: &BoardLimits,
) -> Result<(), LimitError> {
    for kind in KINDS {
        let (was, is, max) = (count(before, kind), count(after, kind), max_count(kind));
        if is > max && is > was {
            return Err(LimitError::TooMany { kind, max });
        }
    }
    check_pictures(before, after, board)?;
    check_size(before, after)
}

/// The pictures of the transcoders and test patterns `after` adds or
/// changes, against the board's largest. Those already in `before` as they
/// are stay, as a document past a count does.
fn check_pictures(
    before: &Document,
    after: &Document,
    board: &BoardLimits,
) -> Result<(), LimitError> {
    let (was, is) = (&before.current, &after.current);
    for (id, transcoder) in is.transcoders.iter() {
        if was.transcoders.get(id) == Some(transcoder) {
            continue;
        }
        if let ResolutionMode::Custom { width, height } = transcoder.resolution {
            board.picture(Kind::Transcoder, &transcoder.name, width, height)?;
        }
    }
    for (id, input) in is.inputs.iter() {
        if was.inputs.get(id) == Some(input) {
            continue;
        }
        if let InputKind::TestPattern(pattern) = &input.kind {
            board.picture(Kind::Input, &input.name, pattern.width, pattern.height)?;
        }
    }
    Ok(())
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
