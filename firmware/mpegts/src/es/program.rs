//! Which elementary streams of a program the demuxer follows, chosen from
//! its PMT.

use core::fmt;

use crate::pmt::{descriptors, stream_type, PmtRepr, PmtStream};

/// stream_type values beyond those the muxer writes (ISO/IEC 13818-1
/// Table 2-34, ATSC A/52 for AC-3 and E-AC-3).
mod other_type {
    pub const MPEG1_VIDEO: u8 = 0x01;
    pub const MPEG2_AUDIO: u8 = 0x04;
    pub const PRIVATE_SECTIONS: u8 = 0x05;
    pub const AAC_LATM: u8 = 0x11;
    pub const METADATA_SECTIONS: u8 = 0x16;
    pub const AC3: u8 = 0x81;
    pub const SCTE35: u8 = 0x86;
    pub const EAC3: u8 = 0x87;
}

/// Descriptor tags that identify what a private (0x06) stream carries.
mod tag {
    pub const REGISTRATION: u8 = 0x05;
    pub const TELETEXT: u8 = 0x56;
    pub const SUBTITLING: u8 = 0x59;
    pub const AC3: u8 = 0x6A;
    pub const EAC3: u8 = 0x7A;
}

/// A video codec a PMT can name. Units are delivered for all four:
/// Annex B for H.264 and HEVC, the elementary stream for MPEG-2 video,
/// low-overhead OBUs for AV1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Hevc,
    /// MPEG-1 or MPEG-2 video (stream_type 0x01, 0x02).
    Mpeg2,
    /// AV1 (stream_type 0x06 with the registration descriptor "AV01").
    Av1,
}

/// An audio codec a PMT can name. Frames are delivered for AAC in ADTS;
/// the others are named so that a consumer can refuse them clearly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    AacAdts,
    /// AAC in LATM/LOAS (stream_type 0x11).
    AacLatm,
    /// MPEG-1 or MPEG-2 audio, Layers I-III (stream_type 0x03, 0x04).
    MpegAudio,
    Ac3,
    Eac3,
}

impl VideoCodec {
    /// Whether the demuxer delivers [`super::VideoUnit`]s for it: always,
    /// now that MPEG-2 video and AV1 are read too.
    pub fn is_supported(self) -> bool {
        true
    }

    /// Which video stream a program's consumers are best served by:
    /// H.264 and HEVC, which every output repackages, before the others.
    fn preference(self) -> u8 {
        u8::from(self.has_nal_units())
    }
}

impl AudioCodec {
    /// Whether the demuxer delivers [`super::AudioFrame`]s for it.
    pub fn is_supported(self) -> bool {
        self == AudioCodec::AacAdts
    }
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::Hevc => "HEVC",
            VideoCodec::Mpeg2 => "MPEG-2 video",
            VideoCodec::Av1 => "AV1",
        })
    }
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AudioCodec::AacAdts => "AAC (ADTS)",
            AudioCodec::AacLatm => "AAC (LATM)",
            AudioCodec::MpegAudio => "MPEG-1/2 audio",
            AudioCodec::Ac3 => "AC-3",
            AudioCodec::Eac3 => "E-AC-3",
        })
    }
}

/// The video stream followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoTrack {
    pub pid: u16,
    pub stream_type: u8,
    pub codec: VideoCodec,
}

/// The audio stream followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioTrack {
    pub pid: u16,
    pub stream_type: u8,
    pub codec: AudioCodec,
}

/// What the demuxer follows in the first program of the PAT.
///
/// Of the streams its PMT lists, `video` is the first H.264 or HEVC one,
/// or if there is none the first MPEG-2 or AV1 one; `audio`
/// likewise the first AAC (ADTS) stream, or the first of another codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub program_number: u16,
    pub video: Option<VideoTrack>,
    pub audio: Option<AudioTrack>,
}

/// What one PMT entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carries {
    Video(VideoCodec),
    Audio(AudioCodec),
    /// Metadata, subtitles, teletext, splice information: known, and not
    /// a consumer's business.
    Data,
    Unknown,
}

pub(crate) fn classify(stream: &PmtStream) -> Carries {
    use other_type::*;
    use stream_type::*;
    match stream.stream_type {
        H264 => Carries::Video(VideoCodec::H264),
        HEVC => Carries::Video(VideoCodec::Hevc),
        MPEG1_VIDEO | MPEG2_VIDEO => Carries::Video(VideoCodec::Mpeg2),
        AAC_ADTS => Carries::Audio(AudioCodec::AacAdts),
        AAC_LATM => Carries::Audio(AudioCodec::AacLatm),
        MPEG1_AUDIO | MPEG2_AUDIO => Carries::Audio(AudioCodec::MpegAudio),
        AC3 => Carries::Audio(AudioCodec::Ac3),
        EAC3 => Carries::Audio(AudioCodec::Eac3),
        METADATA_PES | METADATA_SECTIONS | PRIVATE_SECTIONS | SCTE35 => Carries::Data,
        PRIVATE_PES => classify_private(&stream.es_info),
        _ => Carries::Unknown,
    }
}

/// A private PES stream is what its descriptors say it is.
fn classify_private(es_info: &[u8]) -> Carries {
    for (descriptor, body) in descriptors(es_info) {
        match descriptor {
            tag::AC3 => return Carries::Audio(AudioCodec::Ac3),
            tag::EAC3 => return Carries::Audio(AudioCodec::Eac3),
            tag::TELETEXT | tag::SUBTITLING => return Carries::Data,
            tag::REGISTRATION => match body.get(..4) {
                Some(b"AV01") => return Carries::Video(VideoCodec::Av1),
                Some(b"KLVA") => return Carries::Data,
                Some(b"AC-3") => return Carries::Audio(AudioCodec::Ac3),
                Some(b"EAC3") => return Carries::Audio(AudioCodec::Eac3),
                _ => {}
            },
            _ => {}
        }
    }
    Carries::Unknown
}

/// The program a PMT describes, and the streams in it nobody can follow:
/// (PID, stream_type) of each entry that is neither audio, video nor a
/// known kind of data.
pub(super) fn select(pmt: &PmtRepr) -> (Program, Vec<(u16, u8)>) {
    let mut program = Program {
        program_number: pmt.program_number,
        video: None,
        audio: None,
    };
    let mut unknown = Vec::new();
    for stream in &pmt.streams {
        let (pid, stream_type) = (stream.pid, stream.stream_type);
        match classify(stream) {
            Carries::Video(codec) => {
                let track = VideoTrack {
                    pid,
                    stream_type,
                    codec,
                };
                let better = program
                    .video
                    .is_none_or(|v| codec.preference() > v.codec.preference());
                if better {
                    program.video = Some(track);
                }
            }
            Carries::Audio(codec) => {
                let track = AudioTrack {
                    pid,
                    stream_type,
                    codec,
                };
                let better = program
                    .audio
                    .is_none_or(|a| codec.is_supported() && !a.codec.is_supported());
                if better {
                    program.audio = Some(track);
                }
            }
            Carries::Data => {}
            Carries::Unknown => unknown.push((pid, stream_type)),
        }
    }
    (program, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(stream_type: u8, pid: u16, es_info: &[u8]) -> PmtStream {
        PmtStream {
            stream_type,
            pid,
            es_info: es_info.to_vec(),
        }
    }

    fn pmt(streams: Vec<PmtStream>) -> PmtRepr {
        PmtRepr {
            program_number: 3,
            version: 0,
            pcr_pid: 0x100,
            program_info: vec![],
            streams,
        }
    }

    #[test]
    fn prefers_supported_codecs_and_names_the_rest() {
        let (program, unknown) = select(&pmt(vec![
            stream(0x02, 0x100, &[]),
            stream(0x03, 0x101, &[]),
            stream(0x1B, 0x102, &[]),
            stream(0x0F, 0x103, &[]),
            stream(0x0F, 0x104, &[]),
            stream(0x15, 0x105, &[]),
            stream(0x06, 0x106, &[0x05, 0x04, b'K', b'L', b'V', b'A']),
            stream(0x06, 0x107, &[0x59, 0x00]),
            stream(0x06, 0x108, &[]),
            stream(0x90, 0x109, &[]),
        ]));
        assert_eq!(program.program_number, 3);
        assert_eq!(
            program.video,
            Some(VideoTrack {
                pid: 0x102,
                stream_type: 0x1B,
                codec: VideoCodec::H264
            })
        );
        assert_eq!(program.audio.map(|a| a.pid), Some(0x103));
        assert_eq!(unknown, [(0x108, 0x06), (0x109, 0x90)]);
    }

    #[test]
    fn unsupported_codecs_are_named_when_alone() {
        let (program, unknown) = select(&pmt(vec![
            stream(0x06, 0x100, &[0x05, 0x04, b'A', b'V', b'0', b'1']),
            stream(0x04, 0x101, &[]),
            stream(0x06, 0x102, &[0x6A, 0x01, 0x00]),
        ]));
        let video = program.video.unwrap();
        assert_eq!((video.codec, video.pid), (VideoCodec::Av1, 0x100));
        assert!(video.codec.is_supported());
        let audio = program.audio.unwrap();
        assert_eq!(
            (audio.codec, audio.stream_type),
            (AudioCodec::MpegAudio, 0x04)
        );
        assert_eq!(audio.codec.to_string(), "MPEG-1/2 audio");
        assert!(unknown.is_empty());
    }
}
