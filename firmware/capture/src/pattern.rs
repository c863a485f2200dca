//! The TESTPATTERN video source.

use makara_media::{MonotonicNs, VideoFormat};

use crate::clock::{monotonic_now, sleep_until, Timeline};
use crate::draw::{Canvas, MOTION_PX_PER_FRAME};
use crate::font::{counter_ascii, Timecode};
use crate::settings::{Pacing, StartError, TestPatternSettings};
use crate::{Capture, CaptureError, FrameInfo};

/// A running test pattern: moving 75% bars, a burnt-in timecode and frame
/// counter. Frame `i` is a pure function of `i` and the settings, and is
/// stamped `origin + i / frame_rate`.
#[derive(Debug)]
pub struct TestPattern {
    settings: TestPatternSettings,
    format: VideoFormat,
    timeline: Timeline,
    next_index: u64,
    canvas: Canvas,
}

impl TestPattern {
    /// Checks `settings` and starts the pattern with frame 0 at `origin`.
    /// Give a [`crate::Tone`] the same origin to keep the two in sync; for a
    /// live stream, `origin` is usually [`crate::monotonic_now`].
    pub fn start(
        settings: TestPatternSettings,
        origin: MonotonicNs,
    ) -> Result<TestPattern, StartError> {
        let format = settings.video_format()?;
        Ok(TestPattern {
            settings,
            format,
            timeline: Timeline::new(origin, format.fps_num, format.fps_den),
            next_index: 0,
            canvas: Canvas::new(&format),
        })
    }

    /// The settings this pattern was started with.
    pub fn settings(&self) -> TestPatternSettings {
        self.settings
    }

    /// The presentation time of frame `index`.
    pub fn frame_pts(&self, index: u64) -> MonotonicNs {
        self.timeline.at(index)
    }

    /// Draws frame `index` into `out`, which must hold exactly one frame.
    /// Does not move the source on: any frame, any order.
    pub fn render_frame(&mut self, index: u64, out: &mut [u8]) -> Result<(), CaptureError> {
        self.check(out)?;
        let width = u64::from(self.format.width);
        // The remainder is below the width, so it fits a usize.
        let shift = (index % width * u64::from(MOTION_PX_PER_FRAME) % width) as usize;
        let timecode = Timecode::from_frame(index, self.settings.frame_rate).ascii();
        let counter = counter_ascii(index);
        self.canvas.draw(shift, [&timecode, &counter], out);
        Ok(())
    }

    /// The non-blocking core of real-time pacing: if the next frame is due
    /// at `now`, draws it into `out`; `Ok(None)` if it is not due yet.
    ///
    /// A caller that comes late gets the latest due frame, and the ones in
    /// between are lost, as with a live device: the sequence number and
    /// the burnt-in counter jump.
    pub fn poll_frame(
        &mut self,
        now: MonotonicNs,
        out: &mut [u8],
    ) -> Result<Option<FrameInfo>, CaptureError> {
        self.check(out)?;
        match self.timeline.last_due(now) {
            Some(due) if due >= self.next_index => self.deliver(due, out).map(Some),
            _ => Ok(None),
        }
    }

    /// When the next frame falls due.
    pub fn next_due(&self) -> MonotonicNs {
        self.timeline.at(self.next_index)
    }

    fn deliver(&mut self, index: u64, out: &mut [u8]) -> Result<FrameInfo, CaptureError> {
        self.render_frame(index, out)?;
        self.next_index = index + 1;
        Ok(FrameInfo {
            sequence: index,
            pts: self.timeline.at(index),
        })
    }

    fn check(&self, out: &[u8]) -> Result<(), CaptureError> {
        let expected = self.format.frame_len();
        if out.len() == expected {
            Ok(())
        } else {
            Err(CaptureError::FrameBuffer {
                expected,
                got: out.len(),
                width: self.format.width,
                height: self.format.height,
            })
        }
    }
}

impl Capture for TestPattern {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn next_frame(&mut self, out: &mut [u8]) -> Result<FrameInfo, CaptureError> {
        match self.settings.pacing {
            Pacing::AsFastAsPossible => {
                self.check(out)?;
                self.deliver(self.next_index, out)
            }
            Pacing::RealTime => loop {
                if let Some(info) = self.poll_frame(monotonic_now(), out)? {
                    return Ok(info);
                }
                sleep_until(self.next_due());
            },
        }
    }
}

#[cfg(test)]
mod tests;
