//! Where pictures and sound enter the pipeline: the [`LiveCapture`] trait
//! that every picture source implements (its frames land in slots of its
//! own frame pool), [`CaptureDevices`] that opens them, and the sources
//! that need no driver: the TESTPATTERN ([`TestPattern`] with its
//! [`Tone`]) and raw frames from a file ([`RawFile`]).
//!
//! Level 2: depends on `makara-media` and `makara-framering`. Drivers
//! (`drivers/v4l2`, …) implement the traits; the pipeline uses them
//! without naming a device.
//!
//! # Lifecycle
//!
//! A source is built from its `Settings`, copied in, by `start`; the value
//! it returns is the running state, and dropping it stops the source. To
//! reconfigure, drop it and start a new one.
//!
//! # Buffers
//!
//! A source writes each frame into a slot of its own [`makara_framering::FramePool`],
//! allocated once, so nothing here allocates per frame. A slot holds
//! exactly [`makara_media::VideoFormat::frame_len`] bytes, planes as
//! [`makara_media::VideoFormat::planes`] lays them out.
//!
//! # Time
//!
//! Frames and samples are stamped with [`MonotonicNs`]. The test pattern
//! computes every stamp from a counter and one `origin`: frame `i` is at
//! `origin + i / fps` and sample `n` at `origin + n / 48000`, exactly (no
//! accumulated floats), so video and audio started with the same origin
//! stay in sync for as long as they run.
//!
//! # The test pattern
//!
//! Seven vertical 75% colour bars (BT.709, limited range, see [`BARS_75`])
//! that slide right by [`MOTION_PX_PER_FRAME`] pixels a frame, and a black
//! box in the middle with two lines of white 5×7 digits: the timecode
//! `HH:MM:SS:FF` and a ten-digit frame counter. A dropped or repeated frame
//! shows as a jump or a stall in the counter. The digits scale with the
//! picture (4× at 720p, 6× at 1080p, 13× at 2160p); pictures too small for
//! the box (below 70×22) show the moving bars only.
//!
//! Drawing costs one `copy_from_slice` per plane row plus the text box, so
//! a 1920×1080 I420 frame takes well under a millisecond in release builds
//! (`bench_render_speed`, ignored by default, measures it).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audio;
mod clock;
mod device;
mod draw;
mod font;
mod pattern;
mod raw_file;
mod settings;
mod slate;
mod sound_line;
mod tone;

use makara_media::MonotonicNs;
use thiserror::Error;

pub use audio::{AudioSource, MetadataUnit};
pub use clock::monotonic_now;
pub use device::{CaptureDevices, DeviceError, LiveCapture, NoCaptureDevices};
pub use draw::{Yuv, BARS_75, MOTION_PX_PER_FRAME, TEXT_BACKGROUND, TEXT_FOREGROUND};
pub use makara_media::Timecode;
pub use pattern::{TestPattern, PATTERN_SLOTS};
pub use raw_file::{RawFile, RawFileError};
pub use settings::{
    Pacing, StartError, TestPatternSettings, MAX_FRAME_RATE, MAX_HEIGHT, MAX_WIDTH, MIN_FRAME_RATE,
    MIN_HEIGHT, MIN_WIDTH,
};
pub use slate::{Slate, SLATE_BACKGROUND};
pub use sound_line::{LineSound, SharedLine, SoundLine};
pub use tone::{
    Tone, AAC_FRAME_SAMPLES, TONE_CHANNELS, TONE_DBFS, TONE_HZ, TONE_PEAK, TONE_SAMPLE_RATE,
};

/// What a source says about one frame it delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The source's own frame number, from 0 at start. Consecutive frames
    /// differ by one; a larger step counts frames lost before this one.
    pub sequence: u64,
    /// When the frame was captured: its presentation time.
    pub pts: MonotonicNs,
}

/// What a source says about one chunk of samples it delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// The number of the chunk's first sample frame, from 0 at start.
    pub first_sample: u64,
    /// Sample frames in the chunk (samples per channel).
    pub frames: usize,
    /// When the chunk's first sample was captured: its presentation time.
    pub pts: MonotonicNs,
}

/// Why a running source could not deliver.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CaptureError {
    /// The frame buffer lent to the source has the wrong size.
    #[error(
        "the frame buffer holds {got} bytes; a {width}x{height} frame needs exactly {expected}"
    )]
    FrameBuffer {
        /// Bytes one frame of the source's format takes.
        expected: usize,
        /// Bytes the buffer holds.
        got: usize,
        /// Picture width of the source.
        width: u32,
        /// Picture height of the source.
        height: u32,
    },
    /// The sample buffer is empty or does not hold whole sample frames.
    #[error(
        "the audio buffer holds {got} samples; it must hold a positive multiple of {channels} \
         (one sample per channel per frame)"
    )]
    AudioBuffer {
        /// Samples the buffer holds.
        got: usize,
        /// Channels of the source.
        channels: u16,
    },
}
