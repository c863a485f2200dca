//! The Kraken words for the config enums, both ways. The first word of a
//! value is the one written in responses; later ones are accepted aliases.

use makara_config::{
    AudioType, EncoderType, EncodingProfile, InputType, OutputType, SrtEncryption, SrtMode,
    StreamMode, VideoProfile, VideoType,
};
use makara_supervisor::{Kind, ResourceState, StreamState};

pub const INPUT_TYPES: &[(&str, InputType)] = &[
    ("MPEG2TS", InputType::Mpeg2Ts),
    ("SRT", InputType::Srt),
    ("DECKLINK", InputType::Decklink),
    ("V4L2", InputType::V4l2),
    ("RTSP", InputType::Rtsp),
    ("MJPEGRAW", InputType::MjpegRaw),
    ("TESTPATTERN", InputType::TestPattern),
];

pub const OUTPUT_TYPES: &[(&str, OutputType)] = &[
    ("UDP", OutputType::Udp),
    ("SRT", OutputType::Srt),
    ("RTMP", OutputType::Rtmp),
    ("RTSP", OutputType::Rtsp),
    ("MPEG2TS", OutputType::Udp),
];

pub const SRT_MODES: &[(&str, SrtMode)] = &[
    ("caller", SrtMode::Caller),
    ("listener", SrtMode::Listener),
    ("rendezvous", SrtMode::Rendezvous),
];

pub const SRT_ENCRYPTIONS: &[(&str, SrtEncryption)] = &[
    ("None", SrtEncryption::None),
    ("aes128", SrtEncryption::Aes128),
    ("aes256", SrtEncryption::Aes256),
];

pub const VIDEO_TYPES: &[(&str, VideoType)] = &[
    ("avc", VideoType::Avc),
    ("hevc", VideoType::Hevc),
    ("mpeg2video", VideoType::Mpeg2Video),
    // A Makara extension: docs/codecs.md.
    ("av1", VideoType::Av1),
];

pub const ENCODING_PROFILES: &[(&str, EncodingProfile)] = &[
    ("vbr", EncodingProfile::Vbr),
    ("cbr", EncodingProfile::Cbr),
    ("performance", EncodingProfile::Performance),
    ("balanced", EncodingProfile::Balanced),
    ("quality", EncodingProfile::Quality),
];

pub const ENCODER_TYPES: &[(&str, EncoderType)] = &[
    ("unset", EncoderType::Unset),
    ("qsv", EncoderType::Qsv),
    // A Makara extension: docs/codecs.md.
    ("vaapi", EncoderType::Vaapi),
    ("software", EncoderType::Unset),
];

pub const VIDEO_PROFILES: &[(&str, VideoProfile)] = &[
    ("unset", VideoProfile::Unset),
    ("mpeg2_main", VideoProfile::Mpeg2Main),
    ("mpeg2_simple", VideoProfile::Mpeg2Simple),
];

pub const AUDIO_TYPES: &[(&str, AudioType)] = &[
    ("unset", AudioType::Unset),
    ("mpeg1_layer2", AudioType::Mpeg1Layer2),
    ("mpeg2_aac_adts", AudioType::Mpeg2AacAdts),
];

pub const STREAM_MODES: &[(&str, StreamMode)] = &[
    ("transcoder", StreamMode::Transcoder),
    ("passthru", StreamMode::Passthru),
    ("bypass", StreamMode::Bypass),
];

/// The videoType `word` names, for the tools beside the API (the CLI).
pub fn video_type(word: &str) -> Option<VideoType> {
    VIDEO_TYPES
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, t)| *t)
}

/// The videoType word of `video_type`, for the tools beside the API.
pub fn video_type_word(video_type: VideoType) -> &'static str {
    word(VIDEO_TYPES, &video_type)
}

/// The word written for `value`.
pub fn word<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| v == value)
        .map_or("unset", |(w, _)| *w)
}

/// The element name of one resource of a kind: a preset is a
/// `configuration`.
pub fn element(kind: Kind) -> &'static str {
    match kind {
        Kind::Input => "input",
        Kind::Output => "output",
        Kind::Transcoder => "transcoder",
        Kind::Stream => "stream",
        Kind::Preset => "configuration",
    }
}

/// A stream's `state`.
pub fn stream_state(state: StreamState) -> &'static str {
    match state {
        StreamState::Stopped => "stopped",
        StreamState::Waiting => "waiting",
        StreamState::Active => "active",
    }
}

/// The `state` of an input, output or transcoder.
pub fn resource_state(state: ResourceState) -> &'static str {
    match state {
        ResourceState::Unset => "unset",
        ResourceState::Stream(s) => stream_state(s),
    }
}

pub fn on_off(value: bool) -> &'static str {
    if value {
        "on"
    } else {
        "off"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_a_first_word() {
        assert_eq!(word(INPUT_TYPES, &InputType::TestPattern), "TESTPATTERN");
        assert_eq!(word(OUTPUT_TYPES, &OutputType::Udp), "UDP");
        assert_eq!(word(ENCODER_TYPES, &EncoderType::Unset), "unset");
        assert_eq!(word(SRT_ENCRYPTIONS, &SrtEncryption::Aes256), "aes256");
    }

    #[test]
    fn kinds_and_states_have_their_kraken_names() {
        assert_eq!(element(Kind::Input), "input");
        assert_eq!(element(Kind::Output), "output");
        assert_eq!(element(Kind::Transcoder), "transcoder");
        assert_eq!(element(Kind::Stream), "stream");
        assert_eq!(element(Kind::Preset), "configuration");
        assert_eq!(stream_state(StreamState::Stopped), "stopped");
        assert_eq!(stream_state(StreamState::Waiting), "waiting");
        assert_eq!(stream_state(StreamState::Active), "active");
        assert_eq!(resource_state(ResourceState::Unset), "unset");
        let active = ResourceState::Stream(StreamState::Active);
        assert_eq!(resource_state(active), "active");
    }
}
