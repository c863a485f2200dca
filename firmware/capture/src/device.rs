//! Live sources: captures that fill frame-ring slots themselves, in their
//! own memory, as a V4L2 driver does with its mapped buffers and the test
//! pattern does with its heap pool.

use std::sync::Arc;
use std::time::Duration;

use makara_framering::{Frame, FramePool};
use makara_media::{CapturePort, InputReport, MonotonicNs, VideoFormat};
use thiserror::Error;

use crate::settings::{Pacing, StartError, TestPatternSettings};
use crate::{AudioSource, MetadataUnit, TestPattern, Tone};

/// A capture that runs: frames arrive in its pool's slots without a copy.
/// Every picture source is one: the test pattern, V4L2 devices, raw files.
pub trait LiveCapture: Send {
    /// The format of every frame, rate included.
    fn format(&self) -> VideoFormat;

    /// The pool whose slots the device fills.
    fn pool(&self) -> &Arc<FramePool>;

    /// The next frame, or `None` if none came within `timeout` (no signal,
    /// or a slow source). A jump in [`Frame::sequence`] counts frames the
    /// device lost.
    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError>;

    /// Slots whose memory is also exported as a DMABUF file descriptor,
    /// which a hardware encoder could import without a copy.
    fn dmabuf_slots(&self) -> usize {
        0
    }

    /// The sound that goes with the pictures, on the frames' clock. A
    /// source without sound gives silence from `origin` (when the stream
    /// started), in real time, so the audio PID runs on.
    fn audio(&self, origin: MonotonicNs) -> Box<dyn AudioSource> {
        Box::new(Tone::silence(origin, Pacing::RealTime))
    }

    /// Moves the KLV units the source received since the last call into
    /// `out`, and says whether the source carries metadata of its own (a
    /// network input with a KLV PID). When it does, the stream passes its
    /// units through instead of making its own; the default carries none.
    fn take_metadata(&mut self, out: &mut Vec<MetadataUnit>) -> bool {
        let _ = out;
        false
    }

    /// A network input's counters and why it is not delivering, if it is
    /// not; `None` for capture sources, whose signal loss the source
    /// thread sees from the frames alone.
    fn report(&self) -> Option<InputReport> {
        None
    }
}

/// The picture sources of an appliance: its capture ports by number, and
/// the built-in test pattern generator.
pub trait CaptureDevices: Send + Sync {
    /// Every port, with its modes. Ports in use show the mode they run.
    fn ports(&self) -> Vec<CapturePort>;

    /// Starts capturing from `port` in `mode` (an index into the port's
    /// modes, or -1 for the mode the source sends).
    fn open(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError>;

    /// Every DeckLink port (`decklinkPort` N is the N-th DeckLink device
    /// that can capture), with its display modes; none by default.
    fn decklink_ports(&self) -> Vec<CapturePort> {
        Vec::new()
    }

    /// Starts capturing from DeckLink `port` in `mode` (an index into the
    /// port's modes, or -1 for the format the card detects).
    fn open_decklink(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        let _ = mode;
        Err(DeviceError::NoDeckLink {
            port,
            why: "this build has no DeckLink driver".into(),
        })
    }

    /// Starts the test pattern with frame 0 at `origin`. Every build has
    /// it; a test may wrap it to make it misbehave like a device.
    fn open_pattern(
        &self,
        settings: TestPatternSettings,
        origin: MonotonicNs,
    ) -> Result<Box<dyn LiveCapture>, DeviceError> {
        let pattern =
            TestPattern::start(settings, origin).map_err(|e: StartError| DeviceError::Device {
                device: "test pattern".into(),
                what: e.to_string(),
            })?;
        Ok(Box::new(pattern))
    }
}

/// Why a capture device could not start or deliver.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// No such port on this appliance.
    #[error(
        "capturePort {port} does not exist: this appliance has {available} capture port(s){hint}"
    )]
    NoPort {
        /// The port asked for.
        port: u32,
        /// Ports there are.
        available: usize,
        /// Where the ports come from, for the operator.
        hint: String,
    },
    /// The mode index is not one of the port's modes.
    #[error(
        "captureMode {mode} is not a mode of capturePort {port}: use -1 (automatic) or 0-{last}"
    )]
    NoMode {
        /// The port asked for.
        port: u32,
        /// The mode asked for.
        mode: i32,
        /// The port's last mode index.
        last: i64,
    },
    /// No DeckLink device answers as `decklinkPort` `port`.
    #[error("no DeckLink device for decklinkPort {port}: {why}")]
    NoDeckLink {
        /// The port asked for.
        port: u32,
        /// Why: no driver library, no card, fewer ports.
        why: String,
    },
    /// The DeckLink port cannot capture in the mode asked for.
    #[error("decklinkMode {mode} cannot be used on decklinkPort {port}: {why}")]
    NoDeckLinkMode {
        /// The port asked for.
        port: u32,
        /// The mode asked for.
        mode: i32,
        /// Why, and what can be chosen instead.
        why: String,
    },
    /// Another stream captures from this port.
    #[error("capturePort {port} is in use by another stream")]
    Busy {
        /// The port asked for.
        port: u32,
    },
    /// The device offers none of the pixel layouts the pipeline takes.
    #[error(
        "{device} offers none of the pixel formats YU12, NV12, YUYV, UYVY (it offers {offered})"
    )]
    NoFormat {
        /// The device node.
        device: String,
        /// The formats it offers, as fourcc codes.
        offered: String,
    },
    /// The device refused a request or failed.
    #[error("{device}: {what}")]
    Device {
        /// The device node.
        device: String,
        /// What went wrong.
        what: String,
    },
}

/// The capture hardware of a build without capture drivers.
#[derive(Debug, Default)]
pub struct NoCaptureDevices;

impl CaptureDevices for NoCaptureDevices {
    fn ports(&self) -> Vec<CapturePort> {
        Vec::new()
    }

    fn open(&self, port: u32, _mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        Err(DeviceError::NoPort {
            port,
            available: 0,
            hint: " (this build has no capture drivers)".into(),
        })
    }
}
