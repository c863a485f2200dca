//! From [`VideoSettings`] to libx264's preset, tune, options and profile.
//!
//! Pure and safe: it only decides, [`crate::ffi`] applies. Options go by
//! their x264 command-line names through `x264_param_parse`, which keeps
//! this crate off `x264_param_t`'s layout for everything but the picture
//! size and layout.

use makara_encode::{EncodeError, RateControl, VideoSettings};
use makara_media::{PixelFormat, VideoFormat};

use crate::ffi::Csp;

/// libx264's limit on consecutive B-frames (`X264_BFRAME_MAX`).
pub(crate) const MAX_B_FRAMES: u32 = 16;

/// Everything `X264Encoder::open` hands to libx264, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct X264Config {
    pub preset: &'static str,
    /// `""` for none.
    pub tune: &'static str,
    pub width: u32,
    pub height: u32,
    pub csp: Csp,
    /// `(name, value)` for `x264_param_parse`, applied in order.
    pub options: Vec<(&'static str, String)>,
    pub profile: &'static str,
}

fn open_error(why: impl Into<String>) -> EncodeError {
    EncodeError::Open(why.into())
}

/// The input layouts libx264 reads directly into a 4:2:0 stream.
fn csp(format: PixelFormat) -> Result<Csp, EncodeError> {
    match format {
        PixelFormat::I420 => Ok(Csp::I420),
        PixelFormat::Nv12 => Ok(Csp::Nv12),
        PixelFormat::Yuyv | PixelFormat::Uyvy => Err(open_error(format!(
            "{format:?} input is packed 4:2:2: libx264 would encode it as High 4:2:2, \
             which contribution receivers often cannot decode; convert it to I420 or NV12 \
             before the encoder"
        ))),
    }
}

/// Pictures this many lines high and more are HD, coded in BT.709.
const HD_LINES: u32 = 720;

/// What the VUI tells a decoder about the pictures: square pixels (the
/// sources are square-pixel, and a custom resolution is shown at its own
/// width to height), limited range (studio swing, as the sources write),
/// and the colour standard that goes with the size: ITU-R BT.709 for HD,
/// BT.601 (SMPTE 170M) for SD.
fn vui(input: &VideoFormat) -> [(&'static str, String); 5] {
    let standard = if input.height >= HD_LINES {
        "bt709"
    } else {
        "smpte170m"
    };
    [
        ("sar", "1:1".into()),
        ("fullrange", "off".into()),
        ("colorprim", standard.into()),
        ("transfer", standard.into()),
        ("colormatrix", standard.into()),
    ]
}

pub(crate) fn config(settings: &VideoSettings) -> Result<X264Config, EncodeError> {
    settings.check()?;
    let input = settings.input;
    let csp = csp(input.pixel_format)?;
    if settings.b_frames > MAX_B_FRAMES {
        return Err(open_error(format!(
            "{} B-frames asked; libx264 takes at most {MAX_B_FRAMES}",
            settings.b_frames
        )));
    }

    // CBR with HRD needs the VBV rate equal to the bitrate (libx264 falls
    // back to VBR HRD otherwise), so CBR ignores a higher maximum.
    let max_kbps = settings.vbv_max_kbps();
    let buffer_kbit = (u64::from(max_kbps) * u64::from(settings.vbv_buffer_ms) / 1000).max(1);

    let gop = settings.gop_frames.to_string();
    let mut options: Vec<(&'static str, String)> = vec![
        // Constant frame rate: rate control and the VUI/HRD timing count
        // frames at this rate (it also clears b_vfr_input, so libx264 uses
        // 1/fps as its time base and passes our 90 kHz pts through).
        ("fps", format!("{}/{}", input.fps_num, input.fps_den)),
        // A fixed GOP: an IDR exactly every gop_frames, never on scene cuts.
        ("keyint", gop.clone()),
        ("min-keyint", gop),
        ("scenecut", "0".into()),
        ("bframes", settings.b_frames.to_string()),
        (
            "intra-refresh",
            u8::from(settings.intra_refresh).to_string(),
        ),
        ("bitrate", settings.bitrate_kbps.to_string()),
        ("vbv-maxrate", max_kbps.to_string()),
        ("vbv-bufsize", buffer_kbit.to_string()),
    ];
    if settings.rate_control == RateControl::Cbr {
        options.push(("nal-hrd", "cbr".into()));
        options.push(("filler", "1".into()));
    }
    options.extend([
        // SPS/PPS before every IDR, an AUD before every picture, start
        // codes: what a transport stream wants.
        ("repeat-headers", "1".into()),
        ("aud", "1".into()),
        ("annexb", "1".into()),
        ("threads", "auto".into()),
    ]);
    options.extend(vui(&input));
    if settings.zero_latency {
        options.push(("rc-lookahead", "0".into()));
        options.push(("sync-lookahead", "0".into()));
    }

    Ok(X264Config {
        preset: settings.preset.name(),
        tune: if settings.zero_latency {
            "zerolatency"
        } else {
            ""
        },
        width: input.width,
        height: input.height,
        csp,
        options,
        profile: "high",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use makara_encode::Preset;

    fn settings() -> VideoSettings {
        VideoSettings {
            codec: makara_media::VideoCodec::H264,
            hardware: makara_encode::Hardware::Software,
            mpeg2_profile: makara_encode::Mpeg2Profile::Main,
            input: VideoFormat::new(1280, 720, PixelFormat::I420, 30000, 1001).unwrap(),
            rate_control: RateControl::Cbr,
            bitrate_kbps: 4000,
            max_bitrate_kbps: 6000,
            vbv_buffer_ms: 500,
            gop_frames: 60,
            b_frames: 0,
            intra_refresh: false,
            preset: Preset::Veryfast,
            zero_latency: true,
        }
    }

    fn option<'a>(c: &'a X264Config, name: &str) -> Option<&'a str> {
        c.options
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn cbr_is_constant_with_hrd_and_filler() {
        let c = config(&settings()).unwrap();
        assert_eq!(c.preset, "veryfast");
        assert_eq!(c.tune, "zerolatency");
        assert_eq!(c.profile, "high");
        assert_eq!(option(&c, "fps"), Some("30000/1001"));
        assert_eq!(option(&c, "keyint"), Some("60"));
        assert_eq!(option(&c, "min-keyint"), Some("60"));
        assert_eq!(option(&c, "scenecut"), Some("0"));
        assert_eq!(option(&c, "bitrate"), Some("4000"));
        assert_eq!(option(&c, "vbv-maxrate"), Some("4000"));
        assert_eq!(option(&c, "vbv-bufsize"), Some("2000"));
        assert_eq!(option(&c, "nal-hrd"), Some("cbr"));
        assert_eq!(option(&c, "filler"), Some("1"));
        assert_eq!(option(&c, "repeat-headers"), Some("1"));
        assert_eq!(option(&c, "aud"), Some("1"));
        assert_eq!(option(&c, "annexb"), Some("1"));
        assert_eq!(option(&c, "rc-lookahead"), Some("0"));
        assert_eq!(option(&c, "sync-lookahead"), Some("0"));
    }

    #[test]
    fn vbr_caps_at_the_maximum_without_hrd() {
        let c = config(&VideoSettings {
            rate_control: RateControl::Vbr,
            vbv_buffer_ms: 1000,
            zero_latency: false,
            b_frames: 3,
            ..settings()
        })
        .unwrap();
        assert_eq!(c.tune, "");
        assert_eq!(option(&c, "vbv-maxrate"), Some("6000"));
        assert_eq!(option(&c, "vbv-bufsize"), Some("6000"));
        assert_eq!(option(&c, "bframes"), Some("3"));
        assert_eq!(option(&c, "nal-hrd"), None);
        assert_eq!(option(&c, "rc-lookahead"), None);
    }

    #[test]
    fn vui_says_square_limited_range_and_the_standard_of_the_size() {
        let c = config(&settings()).unwrap();
        assert_eq!(option(&c, "sar"), Some("1:1"));
        assert_eq!(option(&c, "fullrange"), Some("off"));
        for name in ["colorprim", "transfer", "colormatrix"] {
            assert_eq!(option(&c, name), Some("bt709"), "720p: {name}");
        }
        let mut sd = settings();
        sd.input = VideoFormat::new(720, 576, PixelFormat::I420, 25, 1).unwrap();
        let c = config(&sd).unwrap();
        for name in ["colorprim", "transfer", "colormatrix"] {
            assert_eq!(option(&c, name), Some("smpte170m"), "576p: {name}");
        }
    }

    #[test]
    fn packed_422_is_refused_with_a_reason() {
        for pf in [PixelFormat::Yuyv, PixelFormat::Uyvy] {
            let mut s = settings();
            s.input.pixel_format = pf;
            let EncodeError::Open(why) = config(&s).unwrap_err() else {
                panic!("not an open error")
            };
            assert!(why.contains("4:2:2") && why.contains("I420"), "{why}");
        }
        let mut s = settings();
        s.input.pixel_format = PixelFormat::Nv12;
        assert_eq!(config(&s).unwrap().csp, Csp::Nv12);
    }

    #[test]
    fn impossible_settings_are_refused() {
        let cases = [
            VideoSettings {
                bitrate_kbps: 0,
                ..settings()
            },
            VideoSettings {
                gop_frames: 0,
                ..settings()
            },
            VideoSettings {
                vbv_buffer_ms: 0,
                ..settings()
            },
            VideoSettings {
                b_frames: 17,
                ..settings()
            },
        ];
        for s in cases {
            assert!(matches!(config(&s), Err(EncodeError::Open(_))), "{s:?}");
        }
        let mut odd = settings();
        odd.input.width = 1281;
        assert!(matches!(config(&odd), Err(EncodeError::Open(_))));
    }
}
