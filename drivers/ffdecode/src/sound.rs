//! The decoded sound's line format: interleaved stereo at 48 kHz, the
//! format of `makara_capture::SoundLine`, which carries it to the source
//! thread.

use makara_capture::{TONE_CHANNELS, TONE_SAMPLE_RATE};

/// Channels of the line: stereo, interleaved.
pub(crate) const CHANNELS: usize = TONE_CHANNELS as usize;
/// Its rate.
pub(crate) const RATE: u64 = TONE_SAMPLE_RATE as u64;
