//! The sound of a source, as the source thread takes it: chunks of
//! interleaved 48 kHz stereo `i16` on the frames' clock.

use makara_media::MonotonicNs;

use crate::{AudioInfo, CaptureError};

/// A running source of sound: the test pattern's [`crate::Tone`], silence,
/// or a network input's decoded audio. Samples follow each other without
/// gaps or overlaps (sample `n + 1` is `1 / 48000` s after sample `n`), so
/// the audio encoder's input is continuous whatever the source does: a
/// source that has no sound for a while fills the time with silence.
pub trait AudioSource: Send {
    /// Fills `out` (interleaved stereo, a positive whole number of sample
    /// frames) with the next sample frames if all of them were captured by
    /// `until`; `Ok(None)` if not yet. Never waits; samples are never
    /// skipped.
    fn poll_samples(
        &mut self,
        until: MonotonicNs,
        out: &mut [i16],
    ) -> Result<Option<AudioInfo>, CaptureError>;
}

/// One KLV unit (SMPTE ST 336) a source carries, stamped on the frames'
/// clock: what a network input's metadata PID held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataUnit {
    /// The whole unit: key, length, value.
    pub data: Vec<u8>,
    /// The time of the picture it belongs to (or of its arrival, for
    /// metadata sent without a timestamp).
    pub pts: MonotonicNs,
}
