//! From [`VideoSettings`] to one libavcodec encoder and its options.
//!
//! Pure and safe: it only decides, `encoder.rs` applies. Every option goes
//! by its FFmpeg (AVOption) name into the dictionary `avcodec_open2`
//! takes; the codec libraries' own options go inside `x265-params`,
//! `svtav1-params` and `rav1e-params`. A setting a codec's library cannot
//! honour is refused here with [`EncodeError::Open`] naming the setting
//! and the codec.

mod av1;
mod hevc;
mod mpeg2;
mod rav1e;

use makara_encode::{EncodeError, Hardware, VideoSettings};
use makara_media::{PixelFormat, VideoCodec};

/// What `FfVideoEncoder::open` hands to libavcodec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfConfig {
    /// The libavcodec encoder, by name (`libx265`, `libsvtav1`, `librav1e`,
    /// `mpeg2video`).
    pub encoder: &'static str,
    /// `(name, value)` AVOptions for `avcodec_open2`.
    pub options: Vec<(&'static str, String)>,
    /// Whether pictures that carry parameter sets start an intra-refresh
    /// cycle (HEVC with intra refresh): the receiver can join there.
    pub refresh_points_are_keyframes: bool,
    /// Whether the library can make a picture a keyframe on request.
    pub forced_keyframes: bool,
}

pub(crate) fn open_error(why: impl Into<String>) -> EncodeError {
    EncodeError::Open(why.into())
}

/// The codec's name as operators read it in the configuration.
pub(crate) fn codec_name(codec: VideoCodec) -> &'static str {
    match codec {
        VideoCodec::H264 => "H.264",
        VideoCodec::Hevc => "HEVC",
        VideoCodec::Mpeg2 => "MPEG-2 video",
        VideoCodec::Av1 => "AV1",
    }
}

/// The options for `settings`, or why they cannot be honoured.
pub(crate) fn config(settings: &VideoSettings) -> Result<FfConfig, EncodeError> {
    check_common(settings)?;
    match settings.codec {
        VideoCodec::Hevc => hevc::config(settings),
        VideoCodec::Av1 => av1::config(settings),
        VideoCodec::Mpeg2 => mpeg2::config(settings),
        VideoCodec::H264 => Err(open_error(
            "H.264 in software is makara-x264's (libx264), not FFmpeg's",
        )),
    }
}

/// The options for `settings` through rav1e, the offline AV1 encoder
/// (`rav1e.rs`), or why they cannot be honoured.
pub(crate) fn rav1e_config(settings: &VideoSettings) -> Result<FfConfig, EncodeError> {
    check_common(settings)?;
    if settings.codec != VideoCodec::Av1 {
        return Err(open_error(format!(
            "rav1e encodes AV1 only; {} was asked",
            codec_name(settings.codec)
        )));
    }
    rav1e::config(settings)
}

fn check_common(settings: &VideoSettings) -> Result<(), EncodeError> {
    let codec = codec_name(settings.codec);
    if settings.hardware != Hardware::Software {
        return Err(open_error(format!(
            "{codec} on {:?}: the settings ask for a hardware encoder, which is opened elsewhere",
            settings.hardware
        )));
    }
    settings.check()?;
    let input = settings.input;
    if input.pixel_format != PixelFormat::I420 {
        return Err(open_error(format!(
            "{codec} input must be I420 (the converter writes it); {:?} was given",
            input.pixel_format
        )));
    }
    Ok(())
}

/// The VBV buffer in bits: `vbv_buffer_ms` at the maximum rate.
pub(crate) fn buffer_bits(settings: &VideoSettings) -> u64 {
    (u64::from(settings.vbv_max_kbps()) * u64::from(settings.vbv_buffer_ms)).max(1000)
}

/// Pictures this many lines high and more are HD, coded in BT.709.
const HD_LINES: u32 = 720;

/// The options every codec shares: rate, GOP, B-frames, threads and what
/// the stream tells a decoder about its pictures (square pixels, limited
/// range, the colour standard of the size: BT.709 for HD, BT.601 / SMPTE
/// 170M for SD, as makara-x264 writes them).
pub(crate) fn common(settings: &VideoSettings) -> Vec<(&'static str, String)> {
    let standard = if settings.input.height >= HD_LINES {
        "bt709"
    } else {
        "smpte170m"
    };
    vec![
        ("b", (u64::from(settings.bitrate_kbps) * 1000).to_string()),
        // Keyframes exactly every gop_frames, as closed GOPs.
        ("g", settings.gop_frames.to_string()),
        ("keyint_min", settings.gop_frames.to_string()),
        ("flags", "+cgop".into()),
        ("bf", settings.b_frames.to_string()),
        ("threads", "auto".into()),
        ("aspect", "1:1".into()),
        ("color_range", "tv".into()),
        ("color_primaries", standard.into()),
        ("color_trc", standard.into()),
        ("colorspace", standard.into()),
    ]
}

/// The value of option `name` in `options`, for tests.
#[cfg(test)]
pub(crate) fn option<'a>(options: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
pub(crate) fn test_settings(codec: VideoCodec) -> VideoSettings {
    use makara_encode::RateControl;
    use makara_media::VideoFormat;
    VideoSettings {
        codec,
        hardware: Hardware::Software,
        mpeg2_profile: makara_encode::Mpeg2Profile::Main,
        input: VideoFormat::new(1280, 720, PixelFormat::I420, 30, 1).unwrap(),
        rate_control: RateControl::Cbr,
        bitrate_kbps: 4000,
        max_bitrate_kbps: 6000,
        vbv_buffer_ms: 500,
        gop_frames: 60,
        b_frames: 0,
        intra_refresh: false,
        preset: makara_encode::Preset::Veryfast,
        zero_latency: true,
    }
}

#[cfg(test)]
pub(crate) fn open_message(result: Result<FfConfig, EncodeError>) -> String {
    match result {
        Err(EncodeError::Open(why)) => why,
        other => panic!("expected an open error, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use makara_encode::RateControl;
    use makara_media::VideoFormat;

    use super::*;

    #[test]
    fn shared_options_say_rate_gop_and_colour() {
        let s = test_settings(VideoCodec::Hevc);
        let o = common(&s);
        assert_eq!(option(&o, "b"), Some("4000000"));
        assert_eq!(option(&o, "g"), Some("60"));
        assert_eq!(option(&o, "keyint_min"), Some("60"));
        assert_eq!(option(&o, "flags"), Some("+cgop"));
        assert_eq!(option(&o, "color_primaries"), Some("bt709"));
        let mut sd = s;
        sd.input = VideoFormat::new(720, 576, PixelFormat::I420, 25, 1).unwrap();
        assert_eq!(option(&common(&sd), "colorspace"), Some("smpte170m"));
    }

    #[test]
    fn cbr_buffers_at_the_bitrate_and_vbr_at_the_maximum() {
        let s = test_settings(VideoCodec::Hevc);
        assert_eq!(buffer_bits(&s), 2_000_000);
        let vbr = VideoSettings {
            rate_control: RateControl::Vbr,
            ..s
        };
        assert_eq!(vbr.vbv_max_kbps(), 6000);
        assert_eq!(buffer_bits(&vbr), 3_000_000);
    }

    #[test]
    fn what_no_codec_can_take_is_refused() {
        let s = test_settings(VideoCodec::Hevc);
        let cases = [
            VideoSettings {
                bitrate_kbps: 0,
                ..s
            },
            VideoSettings { gop_frames: 0, ..s },
            VideoSettings {
                vbv_buffer_ms: 0,
                ..s
            },
        ];
        for c in cases {
            assert!(matches!(config(&c), Err(EncodeError::Open(_))), "{c:?}");
        }
        let mut nv12 = s;
        nv12.input.pixel_format = PixelFormat::Nv12;
        assert!(open_message(config(&nv12)).contains("I420"));
        let h264 = test_settings(VideoCodec::H264);
        assert!(open_message(config(&h264)).contains("makara-x264"));
    }

    #[test]
    fn rav1e_takes_av1_only_and_the_shared_checks_first() {
        let hevc = VideoSettings {
            zero_latency: false,
            ..test_settings(VideoCodec::Hevc)
        };
        assert!(open_message(rav1e_config(&hevc)).contains("rav1e encodes AV1 only; HEVC"));
        let av1 = VideoSettings {
            gop_frames: 0,
            zero_latency: false,
            ..test_settings(VideoCodec::Av1)
        };
        assert!(open_message(rav1e_config(&av1)).contains("GOP"));
    }
}
