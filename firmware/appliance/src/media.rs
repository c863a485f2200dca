//! The media engine of this build: the pipeline with libx264 for H.264,
//! libavcodec (libx265, SVT-AV1, mpeg2video) for HEVC, AV1 and MPEG-2
//! video, FFmpeg's native AAC / MPEG-1 Layer II for audio, V4L2 and
//! DeckLink capture, and network inputs decoded by libavcodec; and for the
//! bench's files,
//! AV1 through rav1e. The only place the concrete drivers are named.

use makara_capture::{CaptureDevices, DeviceError, LiveCapture};
use makara_decklink::DeckLinkPorts;
use makara_encode::{AudioEncoder, EncodeError, Hardware, VideoEncoder, VideoSettings};
use makara_ffaudio::FfAudioEncoder;
use makara_ffvideo::{FfVideoEncoder, Rav1eEncoder};
use makara_media::{CapturePort, VideoCodec};
use makara_pipeline::{Codecs, NetworkFactory, NetworkOpen, Pipeline};
use makara_v4l2::V4l2Devices;
use makara_x264::X264Encoder;

pub fn engine() -> Pipeline {
    Pipeline::new(codecs())
}

/// The drivers of this build, for the engine and `bench encode`.
pub fn codecs() -> Codecs {
    Codecs {
        video: Box::new(open_video),
        audio: Box::new(|settings| {
            Ok(Box::new(FfAudioEncoder::open(*settings)?) as Box<dyn AudioEncoder>)
        }),
        hardware: Box::new(makara_ffvideo::hardware_available),
        devices: std::sync::Arc::new(Devices::new()),
        network: Some(network_decoder()),
    }
}

/// The capture hardware: the inputs of the V4L2 devices as
/// `capturePort`s, and the DeckLink cards as `decklinkPort`s through the
/// driver library `MAKARA_DECKLINK_LIBRARY` names (else
/// `libDeckLinkAPI.so`).
#[derive(Debug)]
struct Devices {
    v4l2: V4l2Devices,
    decklink: DeckLinkPorts,
}

impl Devices {
    fn new() -> Devices {
        let library = makara_decklink::library_path(std::env::var_os(makara_decklink::LIBRARY_ENV));
        Devices {
            v4l2: V4l2Devices::new(),
            decklink: DeckLinkPorts::new(library),
        }
    }
}

impl CaptureDevices for Devices {
    fn ports(&self) -> Vec<CapturePort> {
        self.v4l2.ports()
    }

    fn open(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        self.v4l2.open(port, mode)
    }

    fn decklink_ports(&self) -> Vec<CapturePort> {
        self.decklink.ports()
    }

    fn open_decklink(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        self.decklink.open(port, mode)
    }
}

/// The drivers of this build with AV1 through rav1e, the offline quality
/// mode: for `bench encode` and `bench transcode`, never a live stream.
pub fn rav1e_codecs() -> Codecs {
    Codecs {
        video: Box::new(open_video_rav1e),
        ..codecs()
    }
}

/// AV1 through rav1e; every other codec as [`open_video`]. Nothing waits
/// on an offline encode's pictures, so rav1e may look ahead and reorder:
/// the settings made from a transcoder ask for zero latency, which rav1e
/// refuses, and here do without it.
fn open_video_rav1e(settings: &VideoSettings) -> Result<Box<dyn VideoEncoder>, EncodeError> {
    if settings.codec != VideoCodec::Av1 {
        return open_video(settings);
    }
    let offline = VideoSettings {
        zero_latency: false,
        ..*settings
    };
    Ok(Box::new(Rav1eEncoder::open(&offline)?))
}

/// H.264 in software through libx264; every other codec, and any codec
/// on hardware, through libavcodec.
fn open_video(settings: &VideoSettings) -> Result<Box<dyn VideoEncoder>, EncodeError> {
    match (settings.codec, settings.hardware) {
        (VideoCodec::H264, Hardware::Software) => Ok(Box::new(X264Encoder::open(settings)?)),
        _ => Ok(Box::new(FfVideoEncoder::open(settings)?)),
    }
}

/// MPEG2TS, SRT, RTSP and MJPEGRAW inputs through makara-ffdecode.
fn network_decoder() -> NetworkFactory {
    Box::new(|open: NetworkOpen, stop, waiting| {
        let request = makara_ffdecode::NetworkOpen {
            input: open.input,
            origin: open.origin,
            tap: open.tap,
        };
        Ok(makara_ffdecode::open(request, stop, waiting)?)
    })
}
