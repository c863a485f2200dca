//! How the pipeline opens encoders without naming a codec library.

use std::sync::Arc;

use makara_capture::CaptureDevices;
use makara_encode::{AudioEncoder, AudioSettings, EncodeError, VideoEncoder, VideoSettings};

pub type VideoFactory =
    Box<dyn Fn(&VideoSettings) -> Result<Box<dyn VideoEncoder>, EncodeError> + Send + Sync>;
pub type AudioFactory =
    Box<dyn Fn(&AudioSettings) -> Result<Box<dyn AudioEncoder>, EncodeError> + Send + Sync>;

/// The encoders and capture devices this build has.
pub struct Codecs {
    pub video: VideoFactory,
    pub audio: AudioFactory,
    /// Capture hardware for device inputs (V4L2).
    pub devices: Arc<dyn CaptureDevices>,
}

impl std::fmt::Debug for Codecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codecs")
    }
}
