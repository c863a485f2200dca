//! How the pipeline opens encoders and network inputs without naming a
//! codec library.

use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use makara_capture::{CaptureDevices, LiveCapture};
use makara_config::InputConfig;
use makara_encode::{
    AudioEncoder, AudioSettings, EncodeError, Hardware, VideoEncoder, VideoSettings,
};
use makara_media::MonotonicNs;

pub type VideoFactory =
    Box<dyn Fn(&VideoSettings) -> Result<Box<dyn VideoEncoder>, EncodeError> + Send + Sync>;
pub type AudioFactory =
    Box<dyn Fn(&AudioSettings) -> Result<Box<dyn AudioEncoder>, EncodeError> + Send + Sync>;

/// Whether the encoders can run on a hardware device: `Err` names what
/// is missing (the render node, the driver).
pub type HardwareProbe = Box<dyn Fn(Hardware) -> Result<(), String> + Send + Sync>;

/// Opens a network input as a live capture: blocks until its first
/// picture is decoded, asking `stop` often enough to give up within
/// ~100 ms of a stop and telling `waiting` why it still waits. The
/// capture's frames have one format for as long as it runs; while the
/// input is lost it delivers a slate.
pub type NetworkFactory = Box<
    dyn Fn(
            NetworkOpen,
            &dyn Fn() -> bool,
            &mut dyn FnMut(&str),
        ) -> Result<Box<dyn LiveCapture>, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync,
>;

/// A batch of the input's transport packets, as received.
pub type TsPackets = Vec<[u8; 188]>;

/// What the keeper asks of a [`NetworkFactory`].
#[derive(Debug)]
pub struct NetworkOpen {
    pub input: InputConfig,
    /// Where the run's timestamps count from.
    pub origin: MonotonicNs,
    /// Where a transport-stream input's packets are copied as received
    /// (passthru mode); the capture drops a batch when it is full rather
    /// than wait.
    pub tap: Option<SyncSender<TsPackets>>,
}

/// The encoders, capture devices and network decoder this build has.
pub struct Codecs {
    pub video: VideoFactory,
    pub audio: AudioFactory,
    /// Asked before a transcoder that encodes on hardware is saved.
    pub hardware: HardwareProbe,
    /// Capture hardware for device inputs (V4L2).
    pub devices: Arc<dyn CaptureDevices>,
    /// Network inputs decoded for transcoding (MPEG2TS, SRT, RTSP,
    /// MJPEGRAW); `None` in a build without a decoder, which refuses
    /// them at start.
    pub network: Option<NetworkFactory>,
}

impl std::fmt::Debug for Codecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codecs")
    }
}
