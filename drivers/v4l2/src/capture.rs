//! A running capture: the device's mapped buffers are the frame pool's
//! slots, so a frame reaches the encoder without being copied.
//!
//! The cycle of one buffer: queued to the driver (`QBUF`) → filled and
//! dequeued (`DQBUF`) → the pool's slot of the same index is taken and
//! frozen into a [`Frame`] → readers share it → the last one lets go → the
//! pool's release hook queues the buffer again. A buffer is never both
//! queued and readable, which is what makes handing out its memory sound.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use makara_capture::{monotonic_now, DeviceError, LiveCapture};
use makara_framering::{Frame, FramePool, SlotMemory};
use makara_media::{MonotonicNs, PixelFormat, VideoFormat};

use crate::calls;
use crate::device::{fourcc_text, Device};
use crate::ioctl::{clock_monotonic_ns, poll_readable, Mapping};
use crate::sys::{fourcc, PixFormat, Zeroed, BUF_CAP_SUPPORTS_DMABUF, BUF_FLAG_ERROR};

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

/// The device side shared with the pool's release hook.
struct Shared {
    device: Device,
    streaming: AtomicBool,
    requeue_errors: AtomicU64,
}

impl Shared {
    fn requeue(&self, index: usize) {
        if !self.streaming.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = calls::qbuf(self.device.fd(), index as u32) {
            self.requeue_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(device = self.device.path(), index, error = %e, "could not queue a capture buffer again");
        }
    }
}

/// One mapped buffer as a pool slot, with its DMABUF export if the device
/// offers one.
struct MappedSlot {
    map: Mapping,
    _dmabuf: Option<OwnedFd>,
}

impl SlotMemory for MappedSlot {
    fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.map.bytes_mut()
    }
}

pub struct V4l2Capture {
    shared: Arc<Shared>,
    pool: Arc<FramePool>,
    format: VideoFormat,
    dmabuf_slots: usize,
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
        let (count, buffer_caps) =
            calls::reqbufs(device.fd(), BUFFERS).map_err(|e| err(e.to_string()))?;
        if count == 0 {
            return Err(err("the driver gave no capture buffers".into()));
        }
        let mut memory: Vec<Box<dyn SlotMemory>> = Vec::with_capacity(count as usize);
        let mut dmabuf_slots = 0;
        for index in 0..count {
            let (offset, length) =
                calls::querybuf(device.fd(), index).map_err(|e| err(e.to_string()))?;
            let map = Mapping::new(device.fd(), offset, length)
                .map_err(|e| err(format!("mmap of buffer {index}: {}", e.describe())))?;
            let dmabuf = if buffer_caps & BUF_CAP_SUPPORTS_DMABUF != 0 {
                calls::expbuf(device.fd(), index).ok()
            } else {
                None
            };
            dmabuf_slots += usize::from(dmabuf.is_some());
            memory.push(Box::new(MappedSlot {
                map,
                _dmabuf: dmabuf,
            }));
        }
        let shared = Arc::new(Shared {
            device,
            streaming: AtomicBool::new(true),
            requeue_errors: AtomicU64::new(0),
        });
        let hook = Arc::clone(&shared);
        let pool = FramePool::with_memory(format, memory, Box::new(move |i| hook.requeue(i)))
            .map_err(|e| err(e.to_string()))?;
        for index in 0..count {
            calls::qbuf(shared.device.fd(), index).map_err(|e| err(e.to_string()))?;
        }
        calls::streamon(shared.device.fd()).map_err(|e| err(e.to_string()))?;
        tracing::info!(
            device = shared.device.path(),
            format = %fourcc_text(code),
            width = format.width,
            height = format.height,
            fps = format!("{}/{}", format.fps_num, format.fps_den),
            buffers = count,
            dmabuf_slots,
            "capture started"
        );
        Ok(V4l2Capture {
            shared,
            pool,
            format,
            dmabuf_slots,
            last_sequence: None,
            _claim: claim,
        })
    }

    fn err(&self, what: String) -> DeviceError {
        DeviceError::Device {
            device: self.shared.device.path().to_string(),
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
        &self.pool
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        let fd = self.shared.device.fd();
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        if !poll_readable(fd, ms).map_err(|e| self.err(format!("poll: {}", e.describe())))? {
            return Ok(None);
        }
        let Some(d) = calls::dqbuf(fd).map_err(|e| self.err(e.to_string()))? else {
            return Ok(None);
        };
        let index = d.index as usize;
        if d.flags & BUF_FLAG_ERROR != 0 || (d.bytesused as usize) < self.pool.frame_len() {
            // A damaged frame: give the buffer back, wait for the next.
            let _ = calls::qbuf(fd, d.index);
            return Ok(None);
        }
        let Some(slot) = self.pool.acquire_slot(index) else {
            let _ = calls::qbuf(fd, d.index);
            return Err(self.err(format!(
                "buffer {index} came back while a reader still held it"
            )));
        };
        let sequence = self.widen(d.sequence);
        Ok(Some(
            slot.freeze(presentation_time(d.timestamp_ns), sequence),
        ))
    }

    fn dmabuf_slots(&self) -> usize {
        self.dmabuf_slots
    }
}

impl Drop for V4l2Capture {
    fn drop(&mut self) {
        self.shared.streaming.store(false, Ordering::Release);
        if let Err(e) = calls::streamoff(self.shared.device.fd()) {
            tracing::warn!(device = self.shared.device.path(), error = %e, "stream off failed");
        }
    }
}
