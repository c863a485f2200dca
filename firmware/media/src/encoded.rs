//! Compressed units on their way from encoders to the muxer.

use crate::clock::Clock90k;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Hevc,
    Mpeg2,
    /// AV1 as temporal units of low-overhead OBUs (a temporal delimiter
    /// first), as the encoder writes them.
    Av1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// AAC-LC in ADTS frames.
    AacAdts,
    /// MPEG-1 Layer II.
    Mp2,
}

/// One access unit (a whole picture) in Annex B byte-stream form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedVideo {
    pub data: Vec<u8>,
    pub pts: Clock90k,
    pub dts: Clock90k,
    /// An IDR (or intra-refresh recovery point): the muxer marks it as a
    /// random access point.
    pub keyframe: bool,
}

/// One or more whole audio frames, self-delimiting (ADTS or MPEG audio
/// headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedAudio {
    pub data: Vec<u8>,
    pub pts: Clock90k,
}
