//! What the test pattern is asked for, checked once at start.

use makara_media::{PixelFormat, VideoFormat};
use thiserror::Error;

/// The narrowest picture the test pattern draws.
pub const MIN_WIDTH: u32 = 16;
/// The widest picture the test pattern draws (UHD).
pub const MAX_WIDTH: u32 = 3840;
/// The shortest picture the test pattern draws.
pub const MIN_HEIGHT: u32 = 16;
/// The tallest picture the test pattern draws (UHD).
pub const MAX_HEIGHT: u32 = 2160;
/// The slowest frame rate, in whole frames per second.
pub const MIN_FRAME_RATE: u32 = 1;
/// The fastest frame rate, in whole frames per second.
pub const MAX_FRAME_RATE: u32 = 60;

/// How a generating source keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pacing {
    /// Deliver each frame (or chunk of samples) no earlier than its
    /// timestamp on the monotonic clock, as a live device does. A caller
    /// that falls behind loses frames, which the counter shows; audio is
    /// never skipped, only delivered late.
    RealTime,
    /// Deliver at once, as fast as the caller asks (benchmarks, tests,
    /// file output). Timestamps still follow the nominal rate.
    AsFastAsPossible,
}

/// The settings of the TESTPATTERN source, copied in at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TestPatternSettings {
    /// Picture width in pixels: even, `MIN_WIDTH..=MAX_WIDTH`.
    pub width: u32,
    /// Picture height in pixels: even, `MIN_HEIGHT..=MAX_HEIGHT`.
    pub height: u32,
    /// Whole frames per second: `MIN_FRAME_RATE..=MAX_FRAME_RATE`.
    pub frame_rate: u32,
    /// The layout written into frame buffers.
    pub pixel_format: PixelFormat,
    /// Real time for live streams, as fast as possible for benchmarks.
    pub pacing: Pacing,
}

impl TestPatternSettings {
    /// 1280×720 I420 at 30 fps, in real time.
    pub const DEFAULT: TestPatternSettings = TestPatternSettings {
        width: 1280,
        height: 720,
        frame_rate: 30,
        pixel_format: PixelFormat::I420,
        pacing: Pacing::RealTime,
    };

    /// The frame format these settings describe, if they are in range.
    pub fn video_format(&self) -> Result<VideoFormat, StartError> {
        let in_range = |v: u32, min: u32, max: u32| (min..=max).contains(&v) && v.is_multiple_of(2);
        if !in_range(self.width, MIN_WIDTH, MAX_WIDTH) {
            return Err(StartError::Width(self.width));
        }
        if !in_range(self.height, MIN_HEIGHT, MAX_HEIGHT) {
            return Err(StartError::Height(self.height));
        }
        if !(MIN_FRAME_RATE..=MAX_FRAME_RATE).contains(&self.frame_rate) {
            return Err(StartError::FrameRate(self.frame_rate));
        }
        // Within the limits above, which are narrower than
        // `VideoFormat::new`'s, so no second check is needed.
        Ok(VideoFormat {
            width: self.width,
            height: self.height,
            pixel_format: self.pixel_format,
            fps_num: self.frame_rate,
            fps_den: 1,
        })
    }
}

impl Default for TestPatternSettings {
    fn default() -> TestPatternSettings {
        TestPatternSettings::DEFAULT
    }
}

/// Why a test pattern could not start: one variant per rule.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StartError {
    /// The width is odd or out of range.
    #[error(
        "test pattern width {0} is not allowed (expected an even number, {MIN_WIDTH}-{MAX_WIDTH})"
    )]
    Width(u32),
    /// The height is odd or out of range.
    #[error(
        "test pattern height {0} is not allowed (expected an even number, {MIN_HEIGHT}-{MAX_HEIGHT})"
    )]
    Height(u32),
    /// The frame rate is out of range.
    #[error("test pattern frame rate {0} fps is not allowed (expected {MIN_FRAME_RATE}-{MAX_FRAME_RATE})")]
    FrameRate(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(width: u32, height: u32, frame_rate: u32) -> TestPatternSettings {
        TestPatternSettings {
            width,
            height,
            frame_rate,
            ..TestPatternSettings::DEFAULT
        }
    }

    #[test]
    fn defaults_are_720p30_i420_real_time() {
        let f = TestPatternSettings::default().video_format().unwrap();
        assert_eq!(
            (f.width, f.height, f.fps_num, f.fps_den),
            (1280, 720, 30, 1)
        );
        assert_eq!(f.pixel_format, PixelFormat::I420);
        assert_eq!(TestPatternSettings::DEFAULT.pacing, Pacing::RealTime);
    }

    #[test]
    fn limits_are_inclusive() {
        for (w, h, r) in [
            (16, 16, 1),
            (3840, 2160, 60),
            (2160, 16, 25),
            (1918, 1078, 59),
        ] {
            assert!(with(w, h, r).video_format().is_ok(), "{w}x{h}@{r}");
        }
    }

    #[test]
    fn invalid_settings_are_rejected_with_the_rule() {
        let cases = [
            (with(3842, 2160, 30), StartError::Width(3842)),
            (with(14, 720, 30), StartError::Width(14)),
            (with(1281, 720, 30), StartError::Width(1281)),
            (with(0, 0, 30), StartError::Width(0)),
            (with(1280, 2162, 30), StartError::Height(2162)),
            (with(1280, 721, 30), StartError::Height(721)),
            (with(3840, 3840, 30), StartError::Height(3840)),
            (with(1280, 720, 0), StartError::FrameRate(0)),
            (with(1280, 720, 61), StartError::FrameRate(61)),
        ];
        for (settings, expected) in cases {
            assert_eq!(settings.video_format(), Err(expected));
        }
        assert_eq!(
            StartError::Width(3842).to_string(),
            "test pattern width 3842 is not allowed (expected an even number, 16-3840)"
        );
        assert_eq!(
            StartError::Height(721).to_string(),
            "test pattern height 721 is not allowed (expected an even number, 16-2160)"
        );
        assert_eq!(
            StartError::FrameRate(61).to_string(),
            "test pattern frame rate 61 fps is not allowed (expected 1-60)"
        );
    }
}
