//! Media as FLV tag bodies, which are what RTMP audio, video and data
//! messages carry.
//!
//! - H.264: classic FLV (codec id 7): an AVC sequence header (the
//!   AVCDecoderConfigurationRecord built from SPS and PPS), then NALU
//!   packets with 4-byte length prefixes, the key frame flag and the
//!   composition time.
//! - HEVC and AV1: Enhanced RTMP's ExVideoTagHeader (FourCC "hvc1",
//!   "av01"), sent only to servers that announced the codec.
//! - AAC: the AudioSpecificConfig, then raw frames (no ADTS headers).
//! - onMetaData, sent as `@setDataFrame` before the media.
//!
//! Access units come in Annex B form. Access unit delimiters and filler
//! are left out (FLV frames need neither); parameter sets are taken out of
//! the frames and sent as the sequence header instead, again whenever they
//! change, and again after [`VideoTagger::reset`].

mod aac;
mod avc;
mod hevc;
mod metadata;

pub use aac::{aac_frame, aac_sequence_header, AacConfig};
pub use metadata::{on_metadata, AudioInfo, Metadata, VideoInfo};

use thiserror::Error;

use crate::nal::{self, PictureSize};

/// The video codecs a push can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Hevc,
}

impl VideoCodec {
    /// The codec's Enhanced RTMP FourCC.
    pub fn fourcc(self) -> &'static str {
        match self {
            VideoCodec::H264 => "avc1",
            VideoCodec::Hevc => "hvc1",
        }
    }

    /// Whether it needs Enhanced RTMP (classic FLV carries only H.264).
    pub fn needs_enhanced_rtmp(self) -> bool {
        self != VideoCodec::H264
    }

    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::Hevc => "HEVC",
        }
    }
}

/// Why an access unit cannot be made into tags.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlvError {
    #[error("no {0} seen yet: waiting for a key frame that carries its parameter sets")]
    NoParameterSets(&'static str),
    #[error("the {0} cannot be read")]
    BadParameterSet(&'static str),
}

/// One access unit, as the demuxer hands it over.
#[derive(Debug, Clone, Copy)]
pub struct VideoFrame<'a> {
    /// Annex B: NAL units behind start codes.
    pub annex_b: &'a [u8],
    pub key: bool,
    /// PTS minus DTS, in milliseconds.
    pub composition_ms: i32,
}

/// FLV frame types.
const KEY_FRAME: u8 = 1;
const INTER_FRAME: u8 = 2;

/// Makes one video track's tags, remembering which sequence header the
/// server has.
#[derive(Debug, Clone)]
pub struct VideoTagger {
    codec: VideoCodec,
    /// The decoder configuration record last sent, if any.
    sent: Option<Vec<u8>>,
    /// The last one built, kept across a reset.
    known: Option<Vec<u8>>,
    size: Option<PictureSize>,
}

impl VideoTagger {
    pub fn new(codec: VideoCodec) -> VideoTagger {
        VideoTagger {
            codec,
            sent: None,
            known: None,
            size: None,
        }
    }

    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// The picture size the last SPS gave.
    pub fn picture_size(&self) -> Option<PictureSize> {
        self.size
    }

    /// Forgets what the server has: the next frame is preceded by the
    /// sequence header (a new connection, or frames were lost).
    pub fn reset(&mut self) {
        self.sent = None;
    }

    /// Learns parameter sets that came apart from the frames (the
    /// demuxer's latest), for a key frame that does not repeat them.
    pub fn learn(&mut self, parameter_sets: &[&[u8]]) -> Result<(), FlvError> {
        if let Some(record) = self.record(parameter_sets)? {
            self.known = Some(record);
        }
        Ok(())
    }

    /// The tag bodies for one access unit, in order: the sequence header
    /// when the server does not have this one yet, then the frame.
    pub fn tags(&mut self, frame: &VideoFrame<'_>) -> Result<Vec<Vec<u8>>, FlvError> {
        let units = nal::split_annex_b(frame.annex_b);
        if let Some(record) = self.record(&units)? {
            self.known = Some(record);
        }
        let Some(record) = self.known.clone() else {
            return Err(FlvError::NoParameterSets(self.parameter_sets_name()));
        };
        let mut tags = Vec::new();
        if self.sent.as_ref() != Some(&record) {
            tags.push(self.sequence_start(&record));
            self.sent = Some(record);
        }
        let mut payload = Vec::new();
        for unit in units.iter().filter(|u| self.carried_in_frames(u)) {
            payload.extend_from_slice(&(unit.len() as u32).to_be_bytes());
            payload.extend_from_slice(unit);
        }
        if !payload.is_empty() {
            tags.push(self.coded_frame(frame, &payload));
        }
        Ok(tags)
    }

    fn parameter_sets_name(&self) -> &'static str {
        match self.codec {
            VideoCodec::H264 => "H.264 SPS and PPS",
            VideoCodec::Hevc => "HEVC VPS, SPS and PPS",
        }
    }

    /// A decoder configuration record from the unit's parameter sets, if
    /// it has them all.
    fn record(&mut self, units: &[&[u8]]) -> Result<Option<Vec<u8>>, FlvError> {
        match self.codec {
            VideoCodec::H264 => {
                let Some(sps) = units.iter().find(|u| avc::nal_type(u) == avc::SPS) else {
                    return Ok(None);
                };
                let pps: Vec<&[u8]> = units
                    .iter()
                    .filter(|u| avc::nal_type(u) == avc::PPS)
                    .copied()
                    .collect();
                if pps.is_empty() {
                    return Ok(None);
                }
                self.size = nal::h264_picture_size(sps);
                avc::decoder_configuration_record(sps, &pps).map(Some)
            }
            VideoCodec::Hevc => {
                let of_type = |t: u8| -> Vec<&[u8]> {
                    units
                        .iter()
                        .filter(|u| hevc::nal_type(u) == t)
                        .copied()
                        .collect()
                };
                let (vps, sps, pps) = (of_type(hevc::VPS), of_type(hevc::SPS), of_type(hevc::PPS));
                if vps.is_empty() || sps.is_empty() || pps.is_empty() {
                    return Ok(None);
                }
                let parsed = nal::hevc_sps(sps[0]).ok_or(FlvError::BadParameterSet("HEVC SPS"))?;
                self.size = Some(parsed.size);
                Ok(Some(hevc::decoder_configuration_record(
                    &parsed, &vps, &sps, &pps,
                )))
            }
        }
    }

    fn carried_in_frames(&self, unit: &[u8]) -> bool {
        match self.codec {
            VideoCodec::H264 => !matches!(
                avc::nal_type(unit),
                avc::SPS | avc::PPS | avc::AUD | avc::FILLER
            ),
            VideoCodec::Hevc => !matches!(
                hevc::nal_type(unit),
                hevc::VPS | hevc::SPS | hevc::PPS | hevc::AUD | hevc::FILLER
            ),
        }
    }

    fn sequence_start(&self, record: &[u8]) -> Vec<u8> {
        let mut tag = match self.codec {
            VideoCodec::H264 => vec![
                KEY_FRAME << 4 | avc::CODEC_ID,
                avc::SEQUENCE_HEADER,
                0,
                0,
                0,
            ],
            VideoCodec::Hevc => enhanced_header(KEY_FRAME, hevc::SEQUENCE_START, b"hvc1"),
        };
        tag.extend_from_slice(record);
        tag
    }

    fn coded_frame(&self, frame: &VideoFrame<'_>, payload: &[u8]) -> Vec<u8> {
        let frame_type = if frame.key { KEY_FRAME } else { INTER_FRAME };
        let cts = si24(frame.composition_ms);
        let mut tag = match self.codec {
            VideoCodec::H264 => vec![frame_type << 4 | avc::CODEC_ID, avc::NALU],
            VideoCodec::Hevc => enhanced_header(frame_type, hevc::CODED_FRAMES, b"hvc1"),
        };
        tag.extend_from_slice(&cts);
        tag.extend_from_slice(payload);
        tag
    }
}

/// Enhanced RTMP's ExVideoTagHeader: the IsExHeader bit, the frame type,
/// the packet type, then the FourCC.
fn enhanced_header(frame_type: u8, packet_type: u8, fourcc: &[u8; 4]) -> Vec<u8> {
    let mut tag = vec![0x80 | frame_type << 4 | packet_type];
    tag.extend_from_slice(fourcc);
    tag
}

/// A composition time as a signed 24-bit big-endian field.
fn si24(value: i32) -> [u8; 3] {
    let clamped = value.clamp(-0x80_0000, 0x7F_FFFF);
    let b = clamped.to_be_bytes();
    [b[1], b[2], b[3]]
}

#[cfg(test)]
mod tests;
