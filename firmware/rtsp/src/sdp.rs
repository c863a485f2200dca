//! What DESCRIBE answers: the stream's tracks as an SDP (RFC 4566), each
//! with the payload format its RTP carries: H.264 (RFC 6184, non-
//! interleaved mode), HEVC (RFC 7798), AAC (RFC 3640, AAC-hbr) and MPEG
//! audio (RFC 2250, static payload type 14).

use std::fmt::Write;
use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::session::TrackId;

/// The dynamic payload types of the two tracks.
pub const VIDEO_PAYLOAD_TYPE: u8 = 96;
pub const AAC_PAYLOAD_TYPE: u8 = 97;
/// RFC 3551's static payload type for MPEG audio.
pub const MPA_PAYLOAD_TYPE: u8 = 14;

/// The video track and the parameter sets a decoder starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoFormat {
    /// Sequence and picture parameter sets, NAL units without start codes.
    H264 { sps: Vec<u8>, pps: Vec<u8> },
    Hevc {
        vps: Vec<u8>,
        sps: Vec<u8>,
        pps: Vec<u8>,
    },
}

/// The audio track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioFormat {
    /// Raw AAC frames; `config` is the AudioSpecificConfig.
    Aac {
        sample_rate: u32,
        channels: u8,
        config: Vec<u8>,
    },
    /// MPEG-1/2 audio frames (Layer II), timed on 90 kHz.
    Mpa { channels: u8 },
}

impl VideoFormat {
    pub fn clock_rate(&self) -> u32 {
        90_000
    }
}

impl AudioFormat {
    pub fn clock_rate(&self) -> u32 {
        match self {
            AudioFormat::Aac { sample_rate, .. } => *sample_rate,
            AudioFormat::Mpa { .. } => 90_000,
        }
    }

    pub fn payload_type(&self) -> u8 {
        match self {
            AudioFormat::Aac { .. } => AAC_PAYLOAD_TYPE,
            AudioFormat::Mpa { .. } => MPA_PAYLOAD_TYPE,
        }
    }
}

/// A stream as DESCRIBE tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub video: Option<VideoFormat>,
    pub audio: Option<AudioFormat>,
}

/// Where the SDP says the session comes from and what it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The address the client reached (`o=`).
    pub address: IpAddr,
    /// `o=` sess-id and sess-version.
    pub session_id: u64,
    pub name: &'a str,
}

impl Description {
    /// The tracks there are.
    pub fn tracks(&self) -> Vec<TrackId> {
        let video = self.video.as_ref().map(|_| TrackId::Video);
        let audio = self.audio.as_ref().map(|_| TrackId::Audio);
        video.into_iter().chain(audio).collect()
    }

    pub fn has(&self, track: TrackId) -> bool {
        match track {
            TrackId::Video => self.video.is_some(),
            TrackId::Audio => self.audio.is_some(),
        }
    }

    /// A track's RTP clock rate and payload type.
    pub fn clock(&self, track: TrackId) -> Option<(u32, u8)> {
        match track {
            TrackId::Video => self
                .video
                .as_ref()
                .map(|v| (v.clock_rate(), VIDEO_PAYLOAD_TYPE)),
            TrackId::Audio => self
                .audio
                .as_ref()
                .map(|a| (a.clock_rate(), a.payload_type())),
        }
    }

    /// The SDP, CRLF-terminated lines.
    pub fn sdp(&self, origin: &Origin<'_>) -> String {
        let mut sdp = String::new();
        let mut line = |text: std::fmt::Arguments<'_>| {
            // Writing to a String cannot fail.
            let _ = write!(sdp, "{text}\r\n");
        };
        let family = match origin.address {
            IpAddr::V4(_) => "IP4",
            IpAddr::V6(_) => "IP6",
        };
        line(format_args!("v=0"));
        line(format_args!(
            "o=- {0} {0} IN {family} {1}",
            origin.session_id, origin.address
        ));
        line(format_args!("s={}", one_line(origin.name)));
        line(format_args!(
            "c=IN {family} {}",
            match origin.address {
                IpAddr::V4(_) => "0.0.0.0",
                IpAddr::V6(_) => "::",
            }
        ));
        line(format_args!("t=0 0"));
        line(format_args!("a=tool:Makara {}", env!("CARGO_PKG_VERSION")));
        line(format_args!("a=range:npt=now-"));
        line(format_args!("a=control:*"));
        if let Some(video) = &self.video {
            for text in video_lines(video) {
                line(format_args!("{text}"));
            }
            line(format_args!("a=control:{}", TrackId::Video.control()));
        }
        if let Some(audio) = &self.audio {
            for text in audio_lines(audio) {
                line(format_args!("{text}"));
            }
            line(format_args!("a=control:{}", TrackId::Audio.control()));
        }
        sdp
    }
}

fn video_lines(video: &VideoFormat) -> [String; 3] {
    let pt = VIDEO_PAYLOAD_TYPE;
    let m = format!("m=video 0 RTP/AVP {pt}");
    match video {
        VideoFormat::H264 { sps, pps } => [
            m,
            format!("a=rtpmap:{pt} H264/90000"),
            format!(
                "a=fmtp:{pt} packetization-mode=1;profile-level-id={};sprop-parameter-sets={},{}",
                profile_level_id(sps),
                STANDARD.encode(sps),
                STANDARD.encode(pps)
            ),
        ],
        VideoFormat::Hevc { vps, sps, pps } => [
            m,
            format!("a=rtpmap:{pt} H265/90000"),
            format!(
                "a=fmtp:{pt} sprop-vps={};sprop-sps={};sprop-pps={}",
                STANDARD.encode(vps),
                STANDARD.encode(sps),
                STANDARD.encode(pps)
            ),
        ],
    }
}

/// profile_idc, the constraint flags and level_idc: the three bytes after
/// the SPS's NAL header, in hex.
fn profile_level_id(sps: &[u8]) -> String {
    match sps.get(1..4) {
        Some(bytes) => hex(bytes),
        // Constrained Baseline 3.0, should an SPS ever be that short.
        None => "42e01e".into(),
    }
}

fn audio_lines(audio: &AudioFormat) -> Vec<String> {
    match audio {
        AudioFormat::Aac {
            sample_rate,
            channels,
            config,
        } => {
            let pt = AAC_PAYLOAD_TYPE;
            vec![
                format!("m=audio 0 RTP/AVP {pt}"),
                format!("a=rtpmap:{pt} MPEG4-GENERIC/{sample_rate}/{channels}"),
                format!(
                    "a=fmtp:{pt} streamtype=5;profile-level-id=1;mode=AAC-hbr;\
                     sizelength=13;indexlength=3;indexdeltalength=3;config={}",
                    hex(config)
                ),
            ]
        }
        AudioFormat::Mpa { channels } => {
            let pt = MPA_PAYLOAD_TYPE;
            vec![
                format!("m=audio 0 RTP/AVP {pt}"),
                format!("a=rtpmap:{pt} MPA/90000/{channels}"),
            ]
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A name on one SDP line: no line breaks, and never empty.
fn one_line(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    match clean.trim().is_empty() {
        true => " ".into(),
        false => clean,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn origin(name: &str) -> Origin<'_> {
        Origin {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            session_id: 3_900_000_000,
            name,
        }
    }

    #[test]
    fn h264_and_aac_golden() {
        let description = Description {
            video: Some(VideoFormat::H264 {
                sps: vec![0x67, 0x64, 0x00, 0x1f, 0xac],
                pps: vec![0x68, 0xeb, 0xe3, 0xcb],
            }),
            audio: Some(AudioFormat::Aac {
                sample_rate: 48_000,
                channels: 2,
                config: vec![0x11, 0x90],
            }),
        };
        assert_eq!(
            description.sdp(&origin("Studio\r\nA")),
            "v=0\r\n\
             o=- 3900000000 3900000000 IN IP4 127.0.0.1\r\n\
             s=StudioA\r\n\
             c=IN IP4 0.0.0.0\r\n\
             t=0 0\r\n\
             a=tool:Makara 0.1.0\r\n\
             a=range:npt=now-\r\n\
             a=control:*\r\n\
             m=video 0 RTP/AVP 96\r\n\
             a=rtpmap:96 H264/90000\r\n\
             a=fmtp:96 packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=Z2QAH6w=,aOvjyw==\r\n\
             a=control:trackID=0\r\n\
             m=audio 0 RTP/AVP 97\r\n\
             a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n\
             a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190\r\n\
             a=control:trackID=1\r\n"
        );
        assert_eq!(description.tracks(), [TrackId::Video, TrackId::Audio]);
        assert_eq!(description.clock(TrackId::Audio), Some((48_000, 97)));
    }

    #[test]
    fn hevc_and_mpeg_audio_golden() {
        let description = Description {
            video: Some(VideoFormat::Hevc {
                vps: vec![0x40, 0x01],
                sps: vec![0x42, 0x01],
                pps: vec![0x44, 0x01],
            }),
            audio: Some(AudioFormat::Mpa { channels: 2 }),
        };
        let sdp = description.sdp(&origin("x"));
        let media: Vec<&str> = sdp.lines().skip(8).collect();
        assert_eq!(
            media,
            [
                "m=video 0 RTP/AVP 96",
                "a=rtpmap:96 H265/90000",
                "a=fmtp:96 sprop-vps=QAE=;sprop-sps=QgE=;sprop-pps=RAE=",
                "a=control:trackID=0",
                "m=audio 0 RTP/AVP 14",
                "a=rtpmap:14 MPA/90000/2",
                "a=control:trackID=1",
            ]
        );
        assert_eq!(description.clock(TrackId::Audio), Some((90_000, 14)));
    }

    #[test]
    fn audio_alone() {
        let description = Description {
            video: None,
            audio: Some(AudioFormat::Mpa { channels: 1 }),
        };
        assert_eq!(description.tracks(), [TrackId::Audio]);
        assert!(!description.sdp(&origin("x")).contains("m=video"));
    }
}
