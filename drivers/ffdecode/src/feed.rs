//! What a receiver (a transport stream, or libavformat) hands the decoder
//! thread: the input's streams, then their coded units, timestamps in
//! continuous 90 kHz ticks.

use ff::codec::{Id, Parameters};
use ffmpeg_next as ff;

use crate::access_unit::AccessUnit;

/// One message from a receiver.
pub(crate) enum Feed {
    /// What the input carries; sent first and whenever it changes.
    Streams(Streams),
    /// One coded picture.
    Video(AccessUnit),
    /// Coded sound: one or more coded frames.
    Audio { data: Vec<u8>, pts: Option<i64> },
    /// One KLV unit.
    Metadata { data: Vec<u8>, pts: Option<i64> },
}

/// The input's streams as a receiver found them.
pub(crate) struct Streams {
    /// The video to decode, or why there is none this appliance decodes.
    pub(crate) video: Result<Codec, String>,
    /// The sound to decode, if the input has sound this appliance decodes.
    pub(crate) audio: Option<AudioCodec>,
    /// The frame rate the container declares, if it does.
    pub(crate) frame_rate: Option<(u32, u32)>,
    /// Whether the input carries KLV metadata.
    pub(crate) metadata: bool,
}

/// A codec, and the container's parameters for it when it has them.
pub(crate) struct Codec {
    pub(crate) id: Id,
    pub(crate) params: Option<Parameters>,
}

/// The sound's codec.
pub(crate) enum AudioCodec {
    Known(Codec),
    /// MPEG-1/2 audio (stream_type 0x03/0x04): layer I, II or III, which
    /// the first frame header tells.
    MpegAudio,
}

/// The decoder for MPEG audio whose first frame header starts `data`.
pub(crate) fn mpeg_audio_layer(data: &[u8]) -> Option<Id> {
    let at = data
        .windows(2)
        .position(|w| w[0] == 0xFF && w[1] & 0xE0 == 0xE0)?;
    match (data[at + 1] >> 1) & 0b11 {
        0b01 => Some(Id::MP3),
        0b10 => Some(Id::MP2),
        0b11 => Some(Id::MP1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_comes_from_the_frame_header() {
        assert_eq!(mpeg_audio_layer(&[0xFF, 0xFD, 0x90]), Some(Id::MP2));
        assert_eq!(mpeg_audio_layer(&[0x00, 0xFF, 0xFB, 0x90]), Some(Id::MP3));
        assert_eq!(mpeg_audio_layer(&[0xFF, 0xFF]), Some(Id::MP1));
        assert_eq!(mpeg_audio_layer(&[0xFF, 0xF9]), None);
        assert_eq!(mpeg_audio_layer(&[1, 2, 3]), None);
    }
}
