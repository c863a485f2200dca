//! The media profiles: one per RTSP output of the configuration, with what
//! the stream behind it encodes. Built from the supervisor's views, the
//! same snapshot the Kraken and HMP reads use; nothing here is stored.

use std::net::IpAddr;

use makara_config::{
    AudioType, OutputKind, ResolutionMode, StreamMode, TranscoderConfig, VideoType,
};
use makara_supervisor::{OutputView, StreamView, TranscoderView};

/// The sample rate of every AAC track this firmware encodes, in kHz.
pub const AUDIO_SAMPLE_RATE_KHZ: u32 = 48;
/// The H.264 profile x264 is asked for (drivers/x264's options).
pub const H264_PROFILE: &str = "High";

/// One media profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The RTSP output's id: stable across restarts and edits.
    pub token: String,
    /// The output's name.
    pub name: String,
    /// Where the RTSP output listens, and the path it serves.
    pub bind: IpAddr,
    pub port: u16,
    pub path: String,
    pub enabled: bool,
    /// The stream that sends to the output, if any.
    pub stream: Option<ProfileStream>,
}

/// The stream behind a profile and what it encodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileStream {
    pub name: String,
    /// The stream's input: the profile's video source.
    pub input: String,
    pub running: bool,
    /// Known only when the stream transcodes to H.264 (Media ver10 can
    /// name no other codec we make) at a set size.
    pub video: Option<VideoEncoding>,
    /// Known only for AAC, the one codec of ours Media ver10 can name.
    pub audio: Option<AudioEncoding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoEncoding {
    /// The transcoder's id and name.
    pub token: String,
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// `None` while the rate is detected from the source.
    pub fps: Option<u32>,
    pub bitrate_kbps: u32,
    /// Frames between keyframes; `None` when the encoder chooses.
    pub gop: Option<u32>,
    pub quality: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioEncoding {
    pub token: String,
    pub name: String,
    pub bitrate_kbps: u32,
}

/// Every RTSP output as a profile, in the order of the outputs.
pub fn profiles(
    outputs: &[OutputView],
    streams: &[StreamView],
    transcoders: &[TranscoderView],
) -> Vec<Profile> {
    outputs
        .iter()
        .filter_map(|output| {
            let OutputKind::Rtsp { url } = &output.config.kind else {
                return None;
            };
            let stream = sender(streams, output).map(|s| {
                profile_stream(
                    s,
                    transcoders
                        .iter()
                        .find(|t| Some(&t.id) == s.config.transcoder.as_ref()),
                )
            });
            Some(Profile {
                token: output.id.as_str().to_owned(),
                name: output.config.name.clone(),
                bind: url.bind(),
                port: url.port(),
                path: url.path().to_owned(),
                enabled: output.config.enabled,
                stream,
            })
        })
        .collect()
}

/// The stream that sends to `output`: the first running one, else the
/// first configured one (as the HMP sources view picks it).
fn sender<'a>(streams: &'a [StreamView], output: &OutputView) -> Option<&'a StreamView> {
    let sends = |s: &&StreamView| s.config.all_outputs().any(|o| *o == output.id);
    let running = |s: &&StreamView| s.state != makara_supervisor::StreamState::Stopped;
    streams
        .iter()
        .filter(sends)
        .find(running)
        .or_else(|| streams.iter().find(sends))
}

fn profile_stream(stream: &StreamView, transcoder: Option<&TranscoderView>) -> ProfileStream {
    // Bypass and passthru send the source's own encoding, which the
    // configuration does not describe.
    let transcoded = stream.config.mode == StreamMode::Transcoder;
    let transcoder = transcoder.filter(|_| transcoded);
    ProfileStream {
        name: stream.config.name.clone(),
        input: stream.config.input.as_str().to_owned(),
        running: stream.state != makara_supervisor::StreamState::Stopped,
        video: transcoder.and_then(|t| video(t.id.as_str(), &t.config)),
        audio: transcoder.and_then(|t| audio(t.id.as_str(), &t.config)),
    }
}

fn video(token: &str, t: &TranscoderConfig) -> Option<VideoEncoding> {
    if t.video_type != VideoType::Avc {
        return None;
    }
    let ResolutionMode::Custom { width, height } = t.resolution else {
        return None;
    };
    Some(VideoEncoding {
        token: token.to_owned(),
        name: t.name.clone(),
        width,
        height,
        fps: u32::try_from(t.frame_rate).ok().filter(|f| *f > 0),
        bitrate_kbps: t.video_bitrate_kbps,
        gop: Some(t.gop_size).filter(|g| *g > 0),
        quality: t.quality_level.unwrap_or(0),
    })
}

fn audio(token: &str, t: &TranscoderConfig) -> Option<AudioEncoding> {
    // AAC is what avc and hevc carry unless told otherwise.
    let aac = match t.audio_type {
        AudioType::Mpeg2AacAdts => true,
        AudioType::Unset => t.video_type != VideoType::Mpeg2Video,
        AudioType::Mpeg1Layer2 => false,
    };
    (t.audio && aac).then(|| AudioEncoding {
        token: token.to_owned(),
        name: t.name.clone(),
        bitrate_kbps: t.audio_bitrate_kbps,
    })
}

/// `rtsp://HOST:PORT/PATH` for a client that reached the device at
/// `reached` (a host name or address, IPv6 without brackets): the output's
/// own address when it listens on one, else `reached`.
pub fn stream_uri(profile: &Profile, reached: &str) -> String {
    let host = if profile.bind.is_unspecified() {
        reached.to_owned()
    } else {
        profile.bind.to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    format!("rtsp://{host}:{}/{}", profile.port, profile.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(bind: &str, port: u16) -> Profile {
        Profile {
            token: "t".into(),
            name: "n".into(),
            bind: bind.parse().expect("ip"),
            port,
            path: "live/one".into(),
            enabled: true,
            stream: None,
        }
    }

    #[test]
    fn a_stream_uri_names_the_host_the_client_reached_unless_the_output_binds_one() {
        assert_eq!(
            stream_uri(&profile("0.0.0.0", 8554), "192.0.2.7"),
            "rtsp://192.0.2.7:8554/live/one"
        );
        assert_eq!(
            stream_uri(&profile("::", 554), "2001:db8::1"),
            "rtsp://[2001:db8::1]:554/live/one"
        );
        assert_eq!(
            stream_uri(&profile("127.0.0.1", 8554), "box.example"),
            "rtsp://127.0.0.1:8554/live/one"
        );
    }
}
