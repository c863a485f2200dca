//! AV1 through libavcodec's `librav1e` (rav1e 0.5.1 on bookworm): the
//! offline, quality mode beside live SVT-AV1 (`av1.rs`). rav1e looks
//! ahead and reorders pictures inside its temporal units (a hidden frame,
//! shown later by a few bytes of `show_existing_frame`), so it is opened
//! for files (`makarad bench encode|transcode --av1-encoder rav1e`), never
//! for a live stream.
//!
//! What rav1e 0.5.1 does, from its C API and FFmpeg 5.1's wrapper
//! (`librav1e.c`), and what follows here:
//! - one rate control: a target bitrate held over a reservoir of frames
//!   (`reservoir_frame_delay`, 12 to 131072), a leaky bucket of that many
//!   frames at the target rate; nothing caps a peak rate and the stream
//!   signals no decoder model. CBR maps to it with the VBV buffer as the
//!   reservoir; VBR, whose peak rate it cannot cap, is refused;
//! - keyframes every gop_frames exactly: `g` and `keyint_min` both set
//!   it, so a scene-change keyframe cannot come sooner;
//! - no keyframe on request: the wrapper passes no picture type on;
//! - no periodic intra refresh;
//! - it always looks ahead (RDO lookahead, scene detection), so zero
//!   latency is refused;
//! - its pyramid of hidden frames is its own and keeps DTS = PTS, so
//!   bFrames (a count of reordered pictures) must be 0;
//! - a `rav1e-params` key it cannot parse only draws a warning from the
//!   wrapper (`err_detect` does not reach it): the tests judge the one key
//!   given here by its effect on the stream.

use makara_encode::{EncodeError, Preset, RateControl, VideoSettings};

use super::{common, open_error, FfConfig};

/// rav1e's reservoir limits, in frames (`InvalidReservoirFrameDelay`).
const RESERVOIR_FRAMES: std::ops::RangeInclusive<u64> = 12..=131_072;
/// The wrapper hands the bitrate to rav1e as a C int, in bit/s.
const MAX_KBPS: u32 = (i32::MAX / 1000) as u32;
/// rav1e's smallest picture side.
const MIN_SIDE: u32 = 16;
/// Pixels per tile: rav1e 0.5 spreads a picture over threads by its
/// tiles, and each tile's borders cost a little compression. One tile per
/// this many pixels (two at 720p, four at 1080p) keeps that many cores
/// busy with tiles still large.
const TILE_PIXELS: u32 = 640 * 360 * 2;
const MAX_TILES: u32 = 16;

/// rav1e's speed (0 slowest … 10 fastest) for our preset. Its fastest is
/// slower than x264's names suggest (720p30 testsrc2 at speed 10 runs at
/// about 3 fps on two cores), so the fast presets share 10 and the slow
/// ones step down to 6, rav1e's own default.
pub(crate) fn rav1e_speed(preset: Preset) -> u8 {
    match preset {
        Preset::Ultrafast | Preset::Superfast | Preset::Veryfast => 10,
        Preset::Faster => 9,
        Preset::Fast => 8,
        Preset::Medium => 7,
        Preset::Slow => 6,
    }
}

pub(super) fn config(settings: &VideoSettings) -> Result<FfConfig, EncodeError> {
    refuse_what_rav1e_cannot_do(settings)?;
    let mut options = common(settings);
    options.extend([
        ("speed", rav1e_speed(settings.preset).to_string()),
        ("tiles", tiles(settings).to_string()),
        (
            "rav1e-params",
            format!("reservoir_frame_delay={}", reservoir_frames(settings)),
        ),
        // A colour description rav1e refuses fails the open instead of
        // being logged and dropped.
        ("err_detect", "explode".into()),
    ]);
    Ok(FfConfig {
        encoder: "librav1e",
        options,
        refresh_points_are_keyframes: false,
        forced_keyframes: false,
    })
}

/// The VBV buffer in whole frames at the input's rate, rounded up.
fn reservoir_frames(settings: &VideoSettings) -> u64 {
    let input = settings.input;
    (u64::from(settings.vbv_buffer_ms) * u64::from(input.fps_num))
        .div_ceil(1000 * u64::from(input.fps_den))
}

/// One tile per [`TILE_PIXELS`], a power of two (rav1e splits rows and
/// columns in halves), at most [`MAX_TILES`].
fn tiles(settings: &VideoSettings) -> u32 {
    let pixels = settings.input.width * settings.input.height;
    let wanted = (pixels / TILE_PIXELS).clamp(1, MAX_TILES);
    1 << wanted.ilog2()
}

fn refuse_what_rav1e_cannot_do(settings: &VideoSettings) -> Result<(), EncodeError> {
    let refuse = |why: String| Err(open_error(format!("AV1 (rav1e 0.5.1, offline): {why}")));
    if settings.rate_control == RateControl::Vbr {
        return refuse(
            "VBR is not available (rav1e cannot cap a peak rate); use the CBR encoding profile, \
             which rav1e holds as an average over the VBV buffer"
                .into(),
        );
    }
    if settings.zero_latency {
        return refuse(
            "zero latency is not available (rav1e always looks ahead and reorders); \
             it is the offline mode, for files"
                .into(),
        );
    }
    if settings.b_frames > 0 {
        return refuse(format!(
            "{} B-frames asked; rav1e picks its own hidden frames and keeps DTS = PTS, \
             so bFrames must be 0",
            settings.b_frames
        ));
    }
    if settings.intra_refresh {
        return refuse("rav1e has no intra refresh; turn intraRefresh off".into());
    }
    let frames = reservoir_frames(settings);
    if !RESERVOIR_FRAMES.contains(&frames) {
        return refuse(format!(
            "a VBV buffer of {} ms is {frames} frames at this frame rate; rav1e's rate control \
             takes a reservoir of {} to {} frames",
            settings.vbv_buffer_ms,
            RESERVOIR_FRAMES.start(),
            RESERVOIR_FRAMES.end()
        ));
    }
    if settings.bitrate_kbps > MAX_KBPS {
        return refuse(format!(
            "{} kbit/s; rav1e takes at most {MAX_KBPS}",
            settings.bitrate_kbps
        ));
    }
    let input = settings.input;
    if input.width < MIN_SIDE || input.height < MIN_SIDE {
        return refuse(format!(
            "{}x{} pictures; rav1e needs at least {MIN_SIDE}x{MIN_SIDE}",
            input.width, input.height
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{open_message, option, test_settings};
    use makara_media::{PixelFormat, VideoCodec, VideoFormat};

    fn offline() -> VideoSettings {
        VideoSettings {
            zero_latency: false,
            ..test_settings(VideoCodec::Av1)
        }
    }

    fn at(width: u32, height: u32, fps: u32) -> VideoSettings {
        VideoSettings {
            input: VideoFormat::new(width, height, PixelFormat::I420, fps, 1).unwrap(),
            ..offline()
        }
    }

    #[test]
    fn the_bitrate_is_held_over_the_vbv_buffer_in_frames() {
        let c = config(&offline()).unwrap();
        assert_eq!(c.encoder, "librav1e");
        assert_eq!(option(&c.options, "b"), Some("4000000"));
        assert_eq!(option(&c.options, "g"), Some("60"));
        assert_eq!(option(&c.options, "keyint_min"), Some("60"));
        assert_eq!(option(&c.options, "speed"), Some("10"));
        assert_eq!(option(&c.options, "tiles"), Some("2"));
        // 500 ms at 30 fps.
        assert_eq!(
            option(&c.options, "rav1e-params"),
            Some("reservoir_frame_delay=15")
        );
        assert_eq!(option(&c.options, "err_detect"), Some("explode"));
        assert!(!c.forced_keyframes);
    }

    #[test]
    fn the_reservoir_rounds_up_to_whole_frames() {
        let mut s = at(1280, 720, 25);
        assert_eq!(reservoir_frames(&s), 13); // 12.5
        s.input = VideoFormat::new(1280, 720, PixelFormat::I420, 30_000, 1001).unwrap();
        assert_eq!(reservoir_frames(&s), 15); // 14.985
    }

    #[test]
    fn tiles_grow_with_the_picture_in_powers_of_two() {
        assert_eq!(tiles(&at(720, 576, 25)), 1);
        assert_eq!(tiles(&at(1280, 720, 30)), 2);
        assert_eq!(tiles(&at(1920, 1080, 30)), 4);
        assert_eq!(tiles(&at(3840, 2160, 30)), 16);
        assert_eq!(tiles(&at(16, 16, 30)), 1);
    }

    #[test]
    fn presets_step_down_to_rav1es_default() {
        assert_eq!(rav1e_speed(Preset::Ultrafast), 10);
        assert_eq!(rav1e_speed(Preset::Veryfast), 10);
        assert_eq!(rav1e_speed(Preset::Faster), 9);
        assert_eq!(rav1e_speed(Preset::Slow), 6);
    }

    #[test]
    fn what_rav1e_cannot_do_is_refused_by_name() {
        let base = offline();
        let cases = [
            (
                VideoSettings {
                    rate_control: RateControl::Vbr,
                    ..base
                },
                "VBR",
            ),
            (
                VideoSettings {
                    zero_latency: true,
                    ..base
                },
                "zero latency",
            ),
            (
                VideoSettings {
                    b_frames: 2,
                    ..base
                },
                "bFrames",
            ),
            (
                VideoSettings {
                    intra_refresh: true,
                    ..base
                },
                "intraRefresh",
            ),
            (
                VideoSettings {
                    vbv_buffer_ms: 300,
                    ..base
                },
                "VBV buffer of 300 ms is 9 frames",
            ),
            (
                VideoSettings {
                    bitrate_kbps: 3_000_000,
                    ..base
                },
                "at most 2147483",
            ),
            (at(14, 14, 30), "16x16"),
        ];
        for (settings, says) in cases {
            let why = open_message(config(&settings));
            assert!(why.contains("rav1e") && why.contains(says), "{why}");
        }
    }
}
