//! The TESTPATTERN video source: a live capture whose "device" draws
//! each frame into a slot of its own pool.

use std::sync::Arc;
use std::time::Duration;

use makara_framering::{Frame, FramePool};
use makara_media::{MonotonicNs, VideoFormat};

use crate::clock::{monotonic_now, sleep_until, Timeline};
use crate::device::{DeviceError, LiveCapture};
use crate::draw::{Canvas, MOTION_PX_PER_FRAME};
use crate::font::{counter_ascii, timecode_ascii};
use crate::settings::{Pacing, StartError, TestPatternSettings};
use crate::tone::Tone;
use crate::AudioSource;
use crate::{CaptureError, FrameInfo};
use makara_media::Timecode;

/// Slots in the pattern's pool: as many buffers as a V4L2 device is
/// given, so a reader holds frames for the same time either way.
pub const PATTERN_SLOTS: usize = 6;
/// How often a fast pattern looks for a slot its readers gave back.
const SLOT_POLL: Duration = Duration::from_micros(100);

/// A running test pattern: moving 75% bars, a burnt-in timecode and frame
/// counter. Frame `i` is a pure function of `i` and the settings, and is
/// stamped `origin + i / frame_rate`.
pub struct TestPattern {
    settings: TestPatternSettings,
    format: VideoFormat,
    timeline: Timeline,
    next_index: u64,
    canvas: Canvas,
    pool: Arc<FramePool>,
}

impl std::fmt::Debug for TestPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPattern")
            .field("settings", &self.settings)
            .field("next_index", &self.next_index)
            .finish_non_exhaustive()
    }
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
            pool: FramePool::new(format, PATTERN_SLOTS),
        })
    }

    /// The format of every frame.
    pub fn format(&self) -> VideoFormat {
        self.format
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
        let timecode = timecode_ascii(&Timecode::from_frame(index, self.settings.frame_rate));
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

impl LiveCapture for TestPattern {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }

    /// Real time: waits for the next frame's time and draws the latest
    /// due frame; with no free slot, that frame is lost (the next one's
    /// sequence jumps), as a device loses frames its reader holds up.
    /// As fast as possible: draws the next frame as soon as a slot is free.
    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        let give_up = MonotonicNs(monotonic_now().0.saturating_add(timeout.as_nanos() as u64));
        let slot = match self.settings.pacing {
            Pacing::RealTime => {
                let due = self.next_due();
                if due > give_up {
                    sleep_until(give_up);
                    return Ok(None);
                }
                while monotonic_now() < due {
                    sleep_until(due);
                }
                match self.pool.try_acquire() {
                    Some(slot) => slot,
                    None => {
                        self.next_index = self.timeline.last_due(monotonic_now()).unwrap_or(0) + 1;
                        return Ok(None);
                    }
                }
            }
            Pacing::AsFastAsPossible => loop {
                if let Some(slot) = self.pool.try_acquire() {
                    break slot;
                }
                if monotonic_now() >= give_up {
                    return Ok(None);
                }
                std::thread::sleep(SLOT_POLL);
            },
        };
        let mut slot = slot;
        let index = match self.settings.pacing {
            Pacing::RealTime => self.timeline.last_due(monotonic_now()).unwrap_or(0),
            Pacing::AsFastAsPossible => self.next_index,
        };
        let info = self
            .deliver(index.max(self.next_index), &mut slot)
            .map_err(|e| DeviceError::Device {
                device: "test pattern".into(),
                what: e.to_string(),
            })?;
        slot.set_timecode(Timecode::from_frame(
            info.sequence,
            self.settings.frame_rate,
        ));
        Ok(Some(slot.freeze(info.pts, info.sequence)))
    }

    /// The 1 kHz tone, on the pattern's timeline and at its pacing.
    fn audio(&self, _origin: MonotonicNs) -> Box<dyn AudioSource> {
        Box::new(Tone::start(self.timeline.at(0), self.settings.pacing))
    }
}

#[cfg(test)]
mod tests;
