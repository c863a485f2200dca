//! onMetaData, sent as `@setDataFrame` so that the server keeps it and
//! gives it to every player (and to recordings).

use crate::amf0::{self, Amf0Value};

use super::VideoCodec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoInfo {
    pub codec: VideoCodec,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    pub sample_rate: Option<u32>,
    pub channels: u8,
}

/// What the stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metadata {
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
}

/// The data message body: "@setDataFrame", "onMetaData", then the
/// properties. A classic codec id is a number (7 for AVC, 10 for AAC);
/// an Enhanced RTMP codec is its FourCC read as a 32-bit number.
pub fn on_metadata(metadata: &Metadata) -> Vec<u8> {
    let mut props: Vec<(String, Amf0Value)> = Vec::new();
    let mut put = |name: &str, value: Amf0Value| props.push((name.to_string(), value));
    put("duration", Amf0Value::Number(0.0));
    if let Some(video) = metadata.video {
        let id = match video.codec {
            VideoCodec::H264 => 7.0,
            other => f64::from(u32::from_be_bytes(fourcc_bytes(other.fourcc()))),
        };
        put("videocodecid", Amf0Value::Number(id));
        if let Some(width) = video.width {
            put("width", Amf0Value::Number(f64::from(width)));
        }
        if let Some(height) = video.height {
            put("height", Amf0Value::Number(f64::from(height)));
        }
    }
    if let Some(audio) = metadata.audio {
        put("audiocodecid", Amf0Value::Number(10.0));
        if let Some(rate) = audio.sample_rate {
            put("audiosamplerate", Amf0Value::Number(f64::from(rate)));
        }
        put("audiosamplesize", Amf0Value::Number(16.0));
        put("stereo", Amf0Value::Boolean(audio.channels >= 2));
    }
    put("encoder", Amf0Value::string("Makara"));
    amf0::encode_all(&[
        Amf0Value::string("@setDataFrame"),
        Amf0Value::string("onMetaData"),
        Amf0Value::EcmaArray(props),
    ])
}

fn fourcc_bytes(fourcc: &str) -> [u8; 4] {
    let mut out = [b' '; 4];
    for (o, b) in out.iter_mut().zip(fourcc.bytes()) {
        *o = b;
    }
    out
}
