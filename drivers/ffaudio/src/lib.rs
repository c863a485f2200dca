//! AAC-LC in ADTS frames and MPEG-1 Layer II, through FFmpeg's native
//! `aac` and `mp2` encoders (libavcodec, via `ffmpeg-next`'s safe API),
//! behind [`AudioEncoder`].
//!
//! Level 3: a driver. The pipeline sees only the trait; the appliance is
//! the one crate that names [`FfAudioEncoder`].
//!
//! - **Framing.** Samples come in any amount; the encoder cuts them into
//!   coded frames of [`AudioEncoder::frame_samples`] samples per channel
//!   (1024 for AAC, 1152 for Layer II). At the end (`send_samples(None)`)
//!   a partial last frame is padded with silence.
//! - **Time.** The first [`RawAudio`]'s PTS is the anchor; every later PTS
//!   comes from the count of samples sent, computed afresh for each frame
//!   (no accumulated rounding, so no drift over days). Later `RawAudio`
//!   PTS are not looked at: audio keeps the source's sample clock.
//! - **Encoder delay.** FFmpeg reports each encoder's delay and moves
//!   its packet timestamps back by it: 1024 samples for `aac` (one
//!   priming frame, 21.3 ms), 481 for `mp2` (the polyphase filter bank,
//!   10.0 ms). Each packet is stamped with the time of the samples it
//!   decodes to: the encoder's packet PTS (in samples from the anchor,
//!   negative for the first packet) moved onto the anchor, rounded down
//!   to a tick. So the first AAC packet is `pts0 − 1920`, the first
//!   Layer II one `pts0 − 902`, and each next one exactly 1920 or 2160
//!   ticks later. Left uncorrected, AAC would play 21 ms late, half of
//!   ATSC IS-191's 45 ms lag tolerance spent before the mux. A packet
//!   that would fall before 90 kHz zero (`pts0` under 1920 or 902 ticks)
//!   is dropped: a decoder starts as if it had joined one frame later.
//! - **ADTS.** Each AAC packet gets a 7-byte ADTS header written here
//!   (`adts.rs`); Layer II frames carry their own headers.

#![forbid(unsafe_code)]

#[cfg(doc)]
use makara_encode::{AudioEncoder, RawAudio};

mod adts;
mod encoder;

pub use encoder::FfAudioEncoder;

#[cfg(test)]
mod tests;
