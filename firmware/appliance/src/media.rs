//! The media engine of this build: the pipeline with libx264 for video and
//! FFmpeg's native AAC / MPEG-1 Layer II for audio. The only place the
//! concrete codec drivers are named.

use makara_encode::{AudioEncoder, VideoEncoder};
use makara_ffaudio::FfAudioEncoder;
use makara_pipeline::{Codecs, Pipeline};
use makara_x264::X264Encoder;

pub fn engine() -> Pipeline {
    Pipeline::new(codecs())
}

/// The codec drivers of this build, for the engine and `bench encode`.
pub fn codecs() -> Codecs {
    Codecs {
        video: Box::new(|settings| {
            Ok(Box::new(X264Encoder::open(settings)?) as Box<dyn VideoEncoder>)
        }),
        audio: Box::new(|settings| {
            Ok(Box::new(FfAudioEncoder::open(*settings)?) as Box<dyn AudioEncoder>)
        }),
    }
}
