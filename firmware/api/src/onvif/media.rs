//! The media service (ONVIF Media, ver10): profiles, their stream URIs,
//! video sources and encoder configurations, written from
//! [`super::profiles`].
//!
//! A profile is an RTSP output. Its video encoder configuration is given
//! when the stream transcodes to H.264 at a set size, its audio encoder
//! configuration when it makes AAC: Media ver10 has no words for HEVC,
//! MPEG-2 video or MPEG-1 Layer II, and a bypass or passthru stream's
//! encoding is the source's, which the configuration does not know.

use super::fault::Fault;
use super::profiles::{self, AudioEncoding, Profile, VideoEncoding, AUDIO_SAMPLE_RATE_KHZ};
use super::soap::Node;
use super::write::Doc;

/// How long an RTSP session lives without a keep-alive, as the encoder
/// configurations announce it.
const SESSION_TIMEOUT: &str = "PT60S";

pub fn get_profiles(profiles: &[Profile]) -> String {
    let mut doc = Doc::new();
    doc.open("trt:GetProfilesResponse");
    for p in profiles {
        profile(&mut doc, "trt:Profiles", p);
    }
    doc.finish()
}

pub fn get_profile(profiles: &[Profile], operation: &Node) -> Result<String, Fault> {
    let p = find(profiles, operation)?;
    let mut doc = Doc::new();
    doc.open("trt:GetProfileResponse");
    profile(&mut doc, "trt:Profile", p);
    Ok(doc.finish())
}

/// GetStreamUri: RTP unicast over UDP, RTSP or TCP (interleaved) is the
/// RTSP output's URI; multicast and RTSP over HTTP are not served.
pub fn stream_uri(profiles: &[Profile], operation: &Node, reached: &str) -> Result<String, Fault> {
    let setup = operation
        .child_local("StreamSetup")
        .ok_or_else(|| Fault::InvalidArg("GetStreamUri needs a StreamSetup".into()))?;
    let stream = setup.child_local("Stream").map_or("", Node::trimmed);
    let protocol = setup
        .child_local("Transport")
        .and_then(|t| t.child_local("Protocol"))
        .map_or("", Node::trimmed);
    if stream != "RTP-Unicast" {
        return Err(Fault::InvalidStreamSetup(format!(
            "stream type '{stream}' is not served; this device streams RTP-Unicast"
        )));
    }
    if !matches!(protocol, "UDP" | "RTSP" | "TCP") {
        return Err(Fault::InvalidStreamSetup(format!(
            "transport '{protocol}' is not served; use RTSP, UDP or TCP (RTSP over HTTP is not available)"
        )));
    }
    let p = find(profiles, operation)?;
    let mut doc = Doc::new();
    doc.open("trt:GetStreamUriResponse")
        .open("trt:MediaUri")
        .text("tt:Uri", profiles::stream_uri(p, reached))
        .text("tt:InvalidAfterConnect", false)
        .text("tt:InvalidAfterReboot", false)
        .text("tt:Timeout", "PT0S");
    Ok(doc.finish())
}

/// One video source per input that a profile with a known picture reads.
pub fn video_sources(profiles: &[Profile]) -> String {
    let mut doc = Doc::new();
    doc.open("trt:GetVideoSourcesResponse");
    for (input, video) in sources(profiles) {
        doc.open_with("trt:VideoSources", &[("token", &source_token(input))])
            .text("tt:Framerate", video.fps.unwrap_or(0))
            .open("tt:Resolution")
            .text("tt:Width", video.width)
            .text("tt:Height", video.height)
            .close()
            .close();
    }
    doc.finish()
}

pub fn video_encoder_configurations(profiles: &[Profile]) -> String {
    let mut doc = Doc::new();
    doc.open("trt:GetVideoEncoderConfigurationsResponse");
    for p in profiles {
        if let Some(video) = p.stream.as_ref().and_then(|s| s.video.as_ref()) {
            video_encoder(&mut doc, "trt:Configurations", p, video);
        }
    }
    doc.finish()
}

pub fn audio_encoder_configurations(profiles: &[Profile]) -> String {
    let mut doc = Doc::new();
    doc.open("trt:GetAudioEncoderConfigurationsResponse");
    for p in profiles {
        if let Some(audio) = p.stream.as_ref().and_then(|s| s.audio.as_ref()) {
            audio_encoder(&mut doc, "trt:Configurations", p, audio);
        }
    }
    doc.finish()
}

pub fn service_capabilities(profiles: usize) -> String {
    let mut doc = Doc::new();
    doc.open("trt:GetServiceCapabilitiesResponse");
    service_capabilities_element(&mut doc, profiles);
    doc.finish()
}

pub fn service_capabilities_element(doc: &mut Doc, profiles: usize) {
    let count = profiles.to_string();
    doc.open_with(
        "trt:Capabilities",
        &[
            ("SnapshotUri", "false"),
            ("Rotation", "false"),
            ("VideoSourceMode", "false"),
            ("OSD", "false"),
        ],
    )
    .empty(
        "trt:ProfileCapabilities",
        &[("MaximumNumberOfProfiles", &count)],
    )
    .empty(
        "trt:StreamingCapabilities",
        &[
            ("RTPMulticast", "false"),
            ("RTP_TCP", "true"),
            ("RTP_RTSP_TCP", "true"),
            ("NonAggregateControl", "false"),
            ("NoRTSPStreaming", "false"),
        ],
    )
    .close();
}

/// The profile a request's `ProfileToken` names.
fn find<'a>(profiles: &'a [Profile], operation: &Node) -> Result<&'a Profile, Fault> {
    let token = operation
        .child_local("ProfileToken")
        .map(Node::trimmed)
        .ok_or_else(|| Fault::InvalidArg(format!("{} needs a ProfileToken", operation.name)))?;
    profiles.iter().find(|p| p.token == token).ok_or_else(|| {
        Fault::NoProfile(format!(
            "no profile '{}'; profiles are the RTSP outputs (GetProfiles lists them)",
            token.chars().take(64).collect::<String>()
        ))
    })
}

fn profile(doc: &mut Doc, element: &'static str, p: &Profile) {
    doc.open_with(element, &[("token", &p.token), ("fixed", "true")])
        .text("tt:Name", &p.name);
    let stream = p.stream.as_ref();
    if let Some((stream, video)) = stream.and_then(|s| Some((s, s.video.as_ref()?))) {
        doc.open_with(
            "tt:VideoSourceConfiguration",
            &[("token", &source_token(&stream.input))],
        )
        .text("tt:Name", &stream.name)
        .text("tt:UseCount", 1)
        .text("tt:SourceToken", source_token(&stream.input))
        .empty(
            "tt:Bounds",
            &[
                ("x", "0"),
                ("y", "0"),
                ("width", &video.width.to_string()),
                ("height", &video.height.to_string()),
            ],
        )
        .close();
    }
    if let Some(video) = stream.and_then(|s| s.video.as_ref()) {
        video_encoder(doc, "tt:VideoEncoderConfiguration", p, video);
    }
    if let Some(audio) = stream.and_then(|s| s.audio.as_ref()) {
        audio_encoder(doc, "tt:AudioEncoderConfiguration", p, audio);
    }
    doc.close();
}

fn video_encoder(doc: &mut Doc, element: &'static str, p: &Profile, v: &VideoEncoding) {
    doc.open_with(element, &[("token", &encoder_token("video", p))])
        .text("tt:Name", &v.name)
        .text("tt:UseCount", 1)
        .text("tt:Encoding", "H264")
        .open("tt:Resolution")
        .text("tt:Width", v.width)
        .text("tt:Height", v.height)
        .close()
        .text("tt:Quality", v.quality);
    if let Some(fps) = v.fps {
        doc.open("tt:RateControl")
            .text("tt:FrameRateLimit", fps)
            .text("tt:EncodingInterval", 1)
            .text("tt:BitrateLimit", v.bitrate_kbps)
            .close();
    }
    doc.open("tt:H264")
        .text("tt:GovLength", v.gop.unwrap_or(0))
        .text("tt:H264Profile", profiles::H264_PROFILE)
        .close();
    no_multicast(doc);
    doc.text("tt:SessionTimeout", SESSION_TIMEOUT).close();
}

fn audio_encoder(doc: &mut Doc, element: &'static str, p: &Profile, a: &AudioEncoding) {
    doc.open_with(element, &[("token", &encoder_token("audio", p))])
        .text("tt:Name", &a.name)
        .text("tt:UseCount", 1)
        .text("tt:Encoding", "AAC")
        .text("tt:Bitrate", a.bitrate_kbps)
        .text("tt:SampleRate", AUDIO_SAMPLE_RATE_KHZ);
    no_multicast(doc);
    doc.text("tt:SessionTimeout", SESSION_TIMEOUT).close();
}

/// The schema asks for a multicast setting; this device does not send
/// multicast RTP, so it is all zeros.
fn no_multicast(doc: &mut Doc) {
    doc.open("tt:Multicast")
        .open("tt:Address")
        .text("tt:Type", "IPv4")
        .text("tt:IPv4Address", "0.0.0.0")
        .close()
        .text("tt:Port", 0)
        .text("tt:TTL", 0)
        .text("tt:AutoStart", false)
        .close();
}

/// Each profile has its own encoder configurations: one transcoder may feed
/// several outputs, but a configuration belongs to one profile here.
fn encoder_token(kind: &str, p: &Profile) -> String {
    format!("{kind}-{}", p.token)
}

fn source_token(input: &str) -> String {
    format!("source-{input}")
}

/// The first known picture of each input, in the order of the profiles.
fn sources(profiles: &[Profile]) -> Vec<(&str, &VideoEncoding)> {
    let mut seen: Vec<(&str, &VideoEncoding)> = Vec::new();
    for p in profiles {
        if let Some(s) = &p.stream {
            if let Some(v) = &s.video {
                if !seen.iter().any(|(i, _)| *i == s.input) {
                    seen.push((&s.input, v));
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onvif::profiles::ProfileStream;
    use crate::onvif::{soap, MEDIA_NS};

    const SCHEMA: &str = "http://www.onvif.org/ver10/schema";

    fn profiles() -> Vec<Profile> {
        vec![
            Profile {
                token: "out-1".into(),
                name: "main".into(),
                bind: "0.0.0.0".parse().expect("ip"),
                port: 8554,
                path: "main".into(),
                enabled: true,
                stream: Some(ProfileStream {
                    name: "st".into(),
                    input: "in-1".into(),
                    running: true,
                    video: Some(VideoEncoding {
                        token: "tr-1".into(),
                        name: "h264".into(),
                        width: 1280,
                        height: 720,
                        fps: Some(25),
                        bitrate_kbps: 3000,
                        gop: Some(50),
                        quality: 0,
                    }),
                    audio: Some(AudioEncoding {
                        token: "tr-1".into(),
                        name: "h264".into(),
                        bitrate_kbps: 128,
                    }),
                }),
            },
            Profile {
                token: "out-2".into(),
                name: "bare".into(),
                bind: "0.0.0.0".parse().expect("ip"),
                port: 8555,
                path: "bare".into(),
                enabled: true,
                stream: None,
            },
        ]
    }

    fn op(xml: &str) -> Node {
        soap::parse(xml.as_bytes()).expect("op")
    }

    #[test]
    fn profiles_carry_their_encoders_when_known() {
        let xml = get_profiles(&profiles());
        let body = soap::envelope(xml.as_bytes()).expect("parses").operation;
        assert_eq!(body.children.len(), 2);
        let first = &body.children[0];
        assert_eq!(first.attr("token"), Some("out-1"));
        let vec = first
            .child(SCHEMA, "VideoEncoderConfiguration")
            .expect("video");
        assert_eq!(vec.child(SCHEMA, "Encoding").expect("enc").text, "H264");
        let rate = vec.child(SCHEMA, "RateControl").expect("rate");
        assert_eq!(
            rate.child(SCHEMA, "FrameRateLimit").expect("fps").text,
            "25"
        );
        assert_eq!(
            rate.child(SCHEMA, "BitrateLimit").expect("kbps").text,
            "3000"
        );
        let aec = first
            .child(SCHEMA, "AudioEncoderConfiguration")
            .expect("audio");
        assert_eq!(aec.child(SCHEMA, "Encoding").expect("enc").text, "AAC");
        let bare = &body.children[1];
        assert_eq!(bare.child(SCHEMA, "Name").expect("name").text, "bare");
        assert!(bare.child(SCHEMA, "VideoEncoderConfiguration").is_none());
    }

    #[test]
    fn a_stream_uri_is_given_for_unicast_rtsp_udp_and_tcp_only() {
        let ask = |stream: &str, protocol: &str, token: &str| {
            op(&format!(
                "<GetStreamUri xmlns='{MEDIA_NS}' xmlns:tt='{SCHEMA}'><StreamSetup><tt:Stream>{stream}</tt:Stream>\
                 <tt:Transport><tt:Protocol>{protocol}</tt:Protocol></tt:Transport></StreamSetup>\
                 <ProfileToken>{token}</ProfileToken></GetStreamUri>"
            ))
        };
        for protocol in ["RTSP", "UDP", "TCP"] {
            let xml = stream_uri(
                &profiles(),
                &ask("RTP-Unicast", protocol, "out-1"),
                "127.0.0.1",
            )
            .expect(protocol);
            assert!(
                xml.contains("<tt:Uri>rtsp://127.0.0.1:8554/main</tt:Uri>"),
                "{xml}"
            );
        }
        assert!(matches!(
            stream_uri(&profiles(), &ask("RTP-Unicast", "HTTP", "out-1"), "h"),
            Err(Fault::InvalidStreamSetup(_))
        ));
        assert!(matches!(
            stream_uri(&profiles(), &ask("RTP-Multicast", "UDP", "out-1"), "h"),
            Err(Fault::InvalidStreamSetup(_))
        ));
        assert!(matches!(
            stream_uri(&profiles(), &ask("RTP-Unicast", "RTSP", "nope"), "h"),
            Err(Fault::NoProfile(_))
        ));
        let no_setup = op(&format!(
            "<GetStreamUri xmlns='{MEDIA_NS}'><ProfileToken>out-1</ProfileToken></GetStreamUri>"
        ));
        assert!(matches!(
            stream_uri(&profiles(), &no_setup, "h"),
            Err(Fault::InvalidArg(_))
        ));
    }

    #[test]
    fn get_profile_finds_by_token() {
        let xml = get_profile(
            &profiles(),
            &op(&format!(
                "<GetProfile xmlns='{MEDIA_NS}'><ProfileToken>out-2</ProfileToken></GetProfile>"
            )),
        )
        .expect("found");
        assert!(
            xml.contains("<trt:Profile token=\"out-2\" fixed=\"true\">"),
            "{xml}"
        );
        assert!(matches!(
            get_profile(
                &profiles(),
                &op(&format!("<GetProfile xmlns='{MEDIA_NS}'/>"))
            ),
            Err(Fault::InvalidArg(_))
        ));
    }

    #[test]
    fn video_sources_and_encoders_list_what_is_known() {
        let xml = video_sources(&profiles());
        assert!(xml.contains("<trt:VideoSources token=\"source-in-1\"><tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>1280</tt:Width><tt:Height>720</tt:Height></tt:Resolution></trt:VideoSources>"), "{xml}");
        let xml = video_encoder_configurations(&profiles());
        assert_eq!(xml.matches("<trt:Configurations ").count(), 1, "{xml}");
        assert!(xml.contains("token=\"video-out-1\""));
    }
}
