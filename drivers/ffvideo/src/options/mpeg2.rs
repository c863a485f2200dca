//! MPEG-2 video through FFmpeg's native `mpeg2video` encoder.
//!
//! Closed GOPs of exactly gop_frames pictures (`+cgop`, `strict_gop`: the
//! last B-frames before a GOP's end become a P, so the I falls on time),
//! no scene-change I pictures (`sc_threshold` at its maximum, which FFmpeg
//! demands with closed GOPs), a fixed B-frame pattern (`b_strategy=0`, no
//! lookahead). The encoder writes a sequence header (and its extensions)
//! before every GOP. Profile and level are set from the picture size
//! (ISO/IEC 13818-2 §8, Tables 8-11 to 8-13): Main (or Simple) at Main
//! level up to 720x576 at 30 fps, Main at High level for HD; the bitrate
//! must fit the level and the VBV buffer is held within the level's size.
//! `mpeg2video` has no intra refresh, so it is refused.

use makara_encode::{EncodeError, Mpeg2Profile, Preset, RateControl, VideoSettings};
use makara_media::VideoFormat;

use super::{buffer_bits, common, open_error, FfConfig};

/// libavcodec's limit on consecutive B-frames (`MAX_B_FRAMES`).
const MAX_B_FRAMES: u32 = 16;

/// The frame rates of ISO/IEC 13818-2 Table 6-4 (frame_rate_code 1-8).
const FRAME_RATES: [(u32, u32); 8] = [
    (24000, 1001),
    (24, 1),
    (25, 1),
    (30000, 1001),
    (30, 1),
    (50, 1),
    (60000, 1001),
    (60, 1),
];

/// One level's upper bounds (ISO/IEC 13818-2 Tables 8-11, 8-12, 8-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Level {
    pub name: &'static str,
    /// libavcodec's `level` value: the level bits of
    /// profile_and_level_indication.
    pub code: u8,
    pub max_width: u32,
    pub max_height: u32,
    pub max_fps: u32,
    pub max_luma_rate: u64,
    pub max_kbps: u32,
    pub max_vbv_bits: u64,
}

pub(crate) const MAIN_LEVEL: Level = Level {
    name: "Main",
    code: 8,
    max_width: 720,
    max_height: 576,
    max_fps: 30,
    max_luma_rate: 10_368_000,
    max_kbps: 15_000,
    max_vbv_bits: 1_835_008,
};

pub(crate) const HIGH_LEVEL: Level = Level {
    name: "High",
    code: 4,
    max_width: 1920,
    max_height: 1152,
    max_fps: 60,
    max_luma_rate: 62_668_800,
    max_kbps: 80_000,
    max_vbv_bits: 9_781_248,
};

impl Level {
    fn fits(&self, input: &VideoFormat) -> bool {
        let luma_rate = u64::from(input.width) * u64::from(input.height) * u64::from(input.fps_num)
            / u64::from(input.fps_den);
        input.width <= self.max_width
            && input.height <= self.max_height
            && input.fps_num <= self.max_fps * input.fps_den
            && luma_rate <= self.max_luma_rate
    }
}

pub(super) fn config(settings: &VideoSettings) -> Result<FfConfig, EncodeError> {
    let (profile, profile_code) = match settings.mpeg2_profile {
        Mpeg2Profile::Main => ("Main", 4),
        Mpeg2Profile::Simple => ("Simple", 5),
    };
    let refuse = |why: String| {
        Err(open_error(format!(
            "MPEG-2 video ({profile} profile): {why}"
        )))
    };
    let input = settings.input;
    check_frame_rate(&input).map_err(|why| open_error(format!("MPEG-2 video: {why}")))?;
    let level = [MAIN_LEVEL, HIGH_LEVEL]
        .into_iter()
        .find(|level| level.fits(&input));
    let level = match (level, settings.mpeg2_profile) {
        (Some(level), Mpeg2Profile::Main) => level,
        (Some(MAIN_LEVEL), Mpeg2Profile::Simple) => MAIN_LEVEL,
        (_, Mpeg2Profile::Simple) => {
            return refuse(format!(
                "{}x{} at {}/{} fps; Simple profile exists at Main level only \
                 (up to 720x576 at 30 fps)",
                input.width, input.height, input.fps_num, input.fps_den
            ))
        }
        (None, Mpeg2Profile::Main) => {
            return refuse(format!(
                "{}x{} at {}/{} fps is beyond High level (1920x1152 at 60 fps)",
                input.width, input.height, input.fps_num, input.fps_den
            ))
        }
    };
    if settings.mpeg2_profile == Mpeg2Profile::Simple && settings.b_frames > 0 {
        return refuse("Simple profile has no B pictures; bFrames must be 0".into());
    }
    if settings.b_frames > MAX_B_FRAMES {
        return refuse(format!(
            "{} B-frames asked; mpeg2video takes at most {MAX_B_FRAMES}",
            settings.b_frames
        ));
    }
    if settings.intra_refresh {
        return refuse("FFmpeg's mpeg2video has no intra refresh; turn intraRefresh off".into());
    }
    let max_kbps = settings.vbv_max_kbps();
    if max_kbps > level.max_kbps {
        return refuse(format!(
            "{max_kbps} kbit/s is above {} level's {} kbit/s",
            level.name, level.max_kbps
        ));
    }

    let mut options = common(settings);
    if settings.b_frames == 0 {
        // Without B pictures, low_delay in the sequence extension lets a
        // decoder show each picture at once, and FFmpeg stamps DTS = PTS.
        set(&mut options, "flags", "+cgop+low_delay");
    }
    let max_rate = (u64::from(max_kbps) * 1000).to_string();
    if settings.rate_control == RateControl::Cbr {
        options.push(("minrate", max_rate.clone()));
    }
    options.extend([
        ("maxrate", max_rate),
        ("bufsize", vbv_bits(settings, &level).to_string()),
        ("profile", profile_code.to_string()),
        ("level", level.code.to_string()),
        ("mpv_flags", "+strict_gop".into()),
        ("sc_threshold", "1000000000".into()),
        ("b_strategy", "0".into()),
    ]);
    options.extend(preset(settings.preset));
    Ok(FfConfig {
        encoder: "mpeg2video",
        options,
        refresh_points_are_keyframes: false,
        forced_keyframes: true,
    })
}

fn set(options: &mut [(&'static str, String)], name: &str, value: &str) {
    if let Some((_, v)) = options.iter_mut().find(|(n, _)| *n == name) {
        *v = value.into();
    }
}

/// The VBV buffer asked for, held within the level's size.
pub(crate) fn vbv_bits(settings: &VideoSettings, level: &Level) -> u64 {
    buffer_bits(settings).min(level.max_vbv_bits)
}

fn check_frame_rate(input: &VideoFormat) -> Result<(), String> {
    let gcd = gcd(input.fps_num, input.fps_den);
    let rate = (input.fps_num / gcd, input.fps_den / gcd);
    if FRAME_RATES.contains(&rate) {
        return Ok(());
    }
    Err(format!(
        "{}/{} fps is not an MPEG-2 frame rate (23.976, 24, 25, 29.97, 30, 50, 59.94, 60)",
        input.fps_num, input.fps_den
    ))
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// mpeg2video has no presets: ours choose how macroblocks are decided.
/// The two fastest keep FFmpeg's default (the cheapest comparison), the
/// middle three pick the mode that costs fewest bits, Medium and Slow
/// the best by rate-distortion, with trellis quantisation.
fn preset(preset: Preset) -> Vec<(&'static str, String)> {
    match preset {
        Preset::Ultrafast | Preset::Superfast => vec![("mbd", "simple".into())],
        Preset::Veryfast | Preset::Faster | Preset::Fast => vec![("mbd", "bits".into())],
        Preset::Medium | Preset::Slow => vec![("mbd", "rd".into()), ("trellis", "1".into())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{open_message, option, test_settings};
    use makara_media::{PixelFormat, VideoCodec};

    fn sd() -> VideoSettings {
        VideoSettings {
            input: VideoFormat::new(720, 576, PixelFormat::I420, 25, 1).unwrap(),
            ..test_settings(VideoCodec::Mpeg2)
        }
    }

    #[test]
    fn sd_is_main_level_with_the_buffer_held_within_it() {
        let c = config(&sd()).unwrap();
        assert_eq!(c.encoder, "mpeg2video");
        assert_eq!(option(&c.options, "profile"), Some("4"));
        assert_eq!(option(&c.options, "level"), Some("8"));
        assert_eq!(option(&c.options, "minrate"), Some("4000000"));
        assert_eq!(option(&c.options, "maxrate"), Some("4000000"));
        // 4 Mbit/s for 500 ms is 2 Mbit: more than Main level's 1835008.
        assert_eq!(option(&c.options, "bufsize"), Some("1835008"));
        assert_eq!(option(&c.options, "mpv_flags"), Some("+strict_gop"));
        assert_eq!(option(&c.options, "sc_threshold"), Some("1000000000"));
        assert_eq!(option(&c.options, "mbd"), Some("bits"));
        assert_eq!(option(&c.options, "flags"), Some("+cgop+low_delay"));
    }

    #[test]
    fn hd_is_main_at_high_level() {
        let c = config(&VideoSettings {
            rate_control: RateControl::Vbr,
            b_frames: 2,
            ..test_settings(VideoCodec::Mpeg2)
        })
        .unwrap();
        assert_eq!(option(&c.options, "level"), Some("4"));
        assert_eq!(option(&c.options, "minrate"), None);
        assert_eq!(option(&c.options, "maxrate"), Some("6000000"));
        assert_eq!(option(&c.options, "bufsize"), Some("3000000"));
        assert_eq!(option(&c.options, "bf"), Some("2"));
        assert_eq!(option(&c.options, "flags"), Some("+cgop"));
    }

    #[test]
    fn simple_profile_is_main_level_without_b_pictures() {
        let simple = VideoSettings {
            mpeg2_profile: Mpeg2Profile::Simple,
            ..sd()
        };
        let c = config(&simple).unwrap();
        assert_eq!(option(&c.options, "profile"), Some("5"));
        let b = open_message(config(&VideoSettings {
            b_frames: 1,
            ..simple
        }));
        assert!(b.contains("Simple") && b.contains("bFrames"), "{b}");
        let hd = open_message(config(&VideoSettings {
            input: test_settings(VideoCodec::Mpeg2).input,
            ..simple
        }));
        assert!(hd.contains("Main level only"), "{hd}");
    }

    #[test]
    fn what_mpeg2video_or_the_level_cannot_take_is_refused() {
        let ir = open_message(config(&VideoSettings {
            intra_refresh: true,
            ..sd()
        }));
        assert!(ir.contains("MPEG-2") && ir.contains("intraRefresh"), "{ir}");
        let fast = open_message(config(&VideoSettings {
            bitrate_kbps: 20_000,
            ..sd()
        }));
        assert!(fast.contains("15000 kbit/s"), "{fast}");
        let rate = open_message(config(&VideoSettings {
            input: VideoFormat::new(720, 576, PixelFormat::I420, 15, 1).unwrap(),
            ..sd()
        }));
        assert!(rate.contains("not an MPEG-2 frame rate"), "{rate}");
        let ntsc = VideoSettings {
            input: VideoFormat::new(720, 480, PixelFormat::I420, 30000, 1001).unwrap(),
            ..sd()
        };
        assert!(config(&ntsc).is_ok());
    }
}
