//! A running capture: the device's mapped buffers are the frame pool's
//! slots, so a frame reaches the encoder without being copied.
//!
//! The cycle of one buffer: queued to the driver (`QBUF`) → filled and
//! dequeued (`DQBUF`) → the pool's slot of the same index is taken out of
//! the driver's keeping and frozen into a [`Frame`] → readers share it →
//! the last one lets go → the pool lends the slot to the driver again, and
//! its release hook queues the buffer. A buffer is never both queued and
//! reachable, which is what makes handing out its memory sound; `buffers`
//! keeps that rule, in one module.

use std::sync::Arc;
use std::time::Duration;

use makara_capture::{monotonic_now, DeviceError, LiveCapture};
use makara_framering::{Frame, FramePool};
use makara_media::{MonotonicNs, PixelFormat, VideoFormat};

use crate::buffers::BufferQueue;
use crate::calls;
use crate::device::{fourcc_text, Device};
use crate::ioctl::clock_monotonic_ns;
use crate::sys::{fourcc, PixFormat, Zeroed};

/// Buffers asked of the driver: enough for the encoder to hold a few
/// frames while the device fills the next.
pub const BUFFERS: u32 = 6;

/// Pixel formats in order of preference: 4:2:0 first, which the encoder
/// reads as it is (no copy), then packed 4:2:2, which it must convert.
pub const PREFERRED: [(u32, PixelFormat); 4] = [
    (fourcc(b"YU12"), PixelFormat::I420),
    (fourcc(b"NV12"), PixelFormat::Nv12),
    (fourcc(b"YUYV"), PixelFormat::Yuyv),
    (fourcc(b"UYVY"), PixelFormat::Uyvy),
];

pub struct V4l2Capture {
    queue: BufferQueue,
    format: VideoFormat,
    /// The driver's 32-bit sequence, widened.
    last_sequence: Option<u64>,
    /// Releases the port when the capture ends.
    _claim: Box<dyn Send>,
}

/// What [`V4l2Capture::start`] needs, resolved from port and mode.
pub struct Request {
    pub width: u32,
    pub height: u32,
    pub interlaced: bool,
    pub rate: (u32, u32),
    /// Cameras: the frame interval to ask for once the format is set (the
    /// source sets the rate of DV and analog inputs).
    pub interval: Option<crate::sys::Fract>,
}

impl V4l2Capture {
    /// Negotiates the format on `device` (input and mode already set),
    /// maps its buffers and starts streaming.
    pub fn start(
        device: Device,
        req: &Request,
        claim: Box<dyn Send>,
    ) -> Result<V4l2Capture, DeviceError> {
        let path = device.path().to_string();
        let err = |what: String| DeviceError::Device {
            device: path.clone(),
            what,
        };
        let offered = device.formats().map_err(|e| err(e.to_string()))?;
        let (code, pixel_format) = PREFERRED
            .into_iter()
            .find(|(code, _)| offered.contains(code))
            .ok_or_else(|| DeviceError::NoFormat {
                device: path.clone(),
                offered: offered
                    .iter()
                    .map(|&c| fourcc_text(c))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let wanted = PixFormat {
            width: req.width,
            height: req.height,
            pixelformat: code,
            field: if req.interlaced {
                crate::sys::FIELD_INTERLACED
            } else {
                crate::sys::FIELD_NONE
            },
            ..PixFormat::ZERO
        };
        let got = calls::s_fmt(device.fd(), wanted).map_err(|e| err(e.to_string()))?;
        if got.pixelformat != code || got.width != req.width || got.height != req.height {
            return Err(err(format!(
                "asked for {}x{} {}, the driver set {}x{} {}",
                req.width,
                req.height,
                fourcc_text(code),
                got.width,
                got.height,
                fourcc_text(got.pixelformat)
            )));
        }
        let mut rate = req.rate;
        if let Some(interval) = req.interval {
            if let Some(set) =
                calls::s_parm(device.fd(), interval).map_err(|e| err(e.to_string()))?
            {
                if set.numerator > 0 && set.denominator > 0 {
                    rate = (set.denominator, set.numerator);
                }
            }
        }
        let format = VideoFormat::new(got.width, got.height, pixel_format, rate.0, rate.1)
            .map_err(|e| err(e.to_string()))?;
        let tight = match pixel_format {
            PixelFormat::I420 | PixelFormat::Nv12 => got.width,
            PixelFormat::Yuyv | PixelFormat::Uyvy => got.width * 2,
        };
        if got.bytesperline != tight {
            return Err(err(format!(
                "lines are {} bytes, padded beyond the {tight} of a {}-pixel line: padded lines are not supported yet",
                got.bytesperline, got.width
            )));
        }
        let queue = BufferQueue::start(device, format, BUFFERS).map_err(|e| err(e.to_string()))?;
        tracing::info!(
            device = queue.device(),
            format = %fourcc_text(code),
            width = format.width,
            height = format.height,
            fps = format!("{}/{}", format.fps_num, format.fps_den),
            buffers = queue.count(),
            dmabuf_slots = queue.dmabuf_slots(),
            "capture started"
        );
        Ok(V4l2Capture {
            queue,
            format,
            last_sequence: None,
            _claim: claim,
        })
    }

    fn err(&self, what: String) -> DeviceError {
        DeviceError::Device {
            device: self.queue.device().to_string(),
            what,
        }
    }

    /// The driver's 32-bit counter, continued past its wrap.
    fn widen(&mut self, sequence: u32) -> u64 {
        let wide = match self.last_sequence {
            Some(last) => {
                let base = last & !0xffff_ffff;
                let candidate = base | u64::from(sequence);
                if candidate < last {
                    candidate + (1 << 32)
                } else {
                    candidate
                }
            }
            None => u64::from(sequence),
        };
        self.last_sequence = Some(wide);
        wide
    }
}

/// When a buffer stamped `stamp_ns` on `CLOCK_MONOTONIC` was captured, on
/// the pipeline's time base: its age, taken from now.
fn presentation_time(stamp_ns: Option<u64>) -> MonotonicNs {
    let now = monotonic_now();
    match stamp_ns {
        Some(stamp) => MonotonicNs(
            now.0
                .saturating_sub(clock_monotonic_ns().saturating_sub(stamp)),
        ),
        None => now,
    }
}

impl LiveCapture for V4l2Capture {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn pool(&self) -> &Arc<FramePool> {
        self.queue.pool()
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        let filled = self
            .queue
            .dequeue(timeout)
            .map_err(|e| self.err(e.to_string()))?;
        let Some(filled) = filled else {
            return Ok(None);
        };
        let sequence = self.widen(filled.sequence);
        let pts = presentation_time(filled.timestamp_ns);
        Ok(Some(filled.slot.freeze(pts, sequence)))
    }

    fn dmabuf_slots(&self) -> usize {
        self.queue.dmabuf_slots()
    }
}
