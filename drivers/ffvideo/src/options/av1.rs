//! AV1 through libavcodec's `libsvtav1` (SVT-AV1 1.4.1 on bookworm), in
//! SVT-AV1's low-delay prediction structure (`pred-struct=1`): pictures
//! leave the encoder in the order they came, as a live link needs.
//!
//! What SVT-AV1 1.4.1 does in low delay, from its sources
//! (`EbEncHandle.c`, `EbEncSettings.c`), and what follows here:
//! - rate control is CBR only: it turns VBR into CBR with a warning, so
//!   VBR is refused;
//! - presets below 8 are raised to 8, so the map below stays in 8..=13;
//! - pictures are predicted from past pictures only (no reordering), so
//!   B-frames are refused;
//! - there is no periodic intra refresh, so it is refused;
//! - a keyframe on request needs `enable-force-key-frames`, which it
//!   allows only in random access with CRF/CQP: keyframes come exactly
//!   every gop_frames and never otherwise;
//! - scene-change keyframes are off (libavcodec's default, and SVT-AV1
//!   ignores `scd` anyway);
//! - the buffer is given in milliseconds, 20 to 10000.

use makara_encode::{EncodeError, Preset, RateControl, VideoSettings};

use super::{common, open_error, FfConfig};

/// SVT-AV1's buffer limits, in ms (`maximum_buffer_size_ms`).
const BUFFER_MS: std::ops::RangeInclusive<u32> = 20..=10_000;
/// SVT-AV1's bitrate limit, in kbit/s.
const MAX_KBPS: u32 = 100_000;
/// SVT-AV1's smallest picture side.
const MIN_SIDE: u32 = 64;

/// SVT-AV1's preset (0 slowest … 13 fastest) for ours: low delay takes
/// 8..=13 only, so Medium and Slow both get 8.
pub(crate) fn svt_preset(preset: Preset) -> u8 {
    match preset {
        Preset::Ultrafast => 13,
        Preset::Superfast => 12,
        Preset::Veryfast => 11,
        Preset::Faster => 10,
        Preset::Fast => 9,
        Preset::Medium | Preset::Slow => 8,
    }
}

pub(super) fn config(settings: &VideoSettings) -> Result<FfConfig, EncodeError> {
    refuse_what_low_delay_cannot_do(settings)?;
    let mut options = common(settings);
    options.extend([
        ("preset", svt_preset(settings.preset).to_string()),
        // rc=2 (CBR) on its own also selects low delay; pred-struct says so.
        (
            "svtav1-params",
            format!("pred-struct=1:rc=2:buf-sz={}", settings.vbv_buffer_ms),
        ),
        // A parameter SVT-AV1 cannot parse fails the open instead of
        // being logged and skipped.
        ("err_detect", "explode".into()),
    ]);
    Ok(FfConfig {
        encoder: "libsvtav1",
        options,
        refresh_points_are_keyframes: false,
        forced_keyframes: false,
    })
}

fn refuse_what_low_delay_cannot_do(settings: &VideoSettings) -> Result<(), EncodeError> {
    let refuse = |why: String| Err(open_error(format!("AV1 (SVT-AV1 1.4.1, low delay): {why}")));
    if settings.rate_control == RateControl::Vbr {
        return refuse(
            "VBR is not available (SVT-AV1 would switch it to CBR); use the CBR encoding profile"
                .into(),
        );
    }
    if settings.b_frames > 0 {
        return refuse(format!(
            "{} B-frames asked; low delay never reorders pictures, so bFrames must be 0",
            settings.b_frames
        ));
    }
    if settings.intra_refresh {
        return refuse("SVT-AV1 has no intra refresh; turn intraRefresh off".into());
    }
    if !BUFFER_MS.contains(&settings.vbv_buffer_ms) {
        return refuse(format!(
            "a VBV buffer of {} ms; SVT-AV1 takes {} to {} ms",
            settings.vbv_buffer_ms,
            BUFFER_MS.start(),
            BUFFER_MS.end()
        ));
    }
    if settings.bitrate_kbps > MAX_KBPS {
        return refuse(format!(
            "{} kbit/s; SVT-AV1 takes at most {MAX_KBPS}",
            settings.bitrate_kbps
        ));
    }
    let input = settings.input;
    if input.width < MIN_SIDE || input.height < MIN_SIDE {
        return refuse(format!(
            "{}x{} pictures; SVT-AV1 needs at least {MIN_SIDE}x{MIN_SIDE}",
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

    #[test]
    fn cbr_in_low_delay_with_the_buffer_in_ms() {
        let c = config(&test_settings(VideoCodec::Av1)).unwrap();
        assert_eq!(c.encoder, "libsvtav1");
        assert_eq!(option(&c.options, "preset"), Some("11"));
        assert_eq!(option(&c.options, "b"), Some("4000000"));
        assert_eq!(option(&c.options, "maxrate"), None);
        assert_eq!(
            option(&c.options, "svtav1-params"),
            Some("pred-struct=1:rc=2:buf-sz=500")
        );
        assert_eq!(option(&c.options, "err_detect"), Some("explode"));
        assert!(!c.forced_keyframes);
    }

    #[test]
    fn presets_stay_in_the_low_delay_range() {
        assert_eq!(svt_preset(Preset::Ultrafast), 13);
        assert_eq!(svt_preset(Preset::Slow), 8);
        assert_eq!(svt_preset(Preset::Medium), 8);
    }

    #[test]
    fn what_low_delay_cannot_do_is_refused_by_name() {
        let base = test_settings(VideoCodec::Av1);
        let vbr = open_message(config(&VideoSettings {
            rate_control: RateControl::Vbr,
            ..base
        }));
        assert!(vbr.contains("AV1") && vbr.contains("VBR"), "{vbr}");
        let b = open_message(config(&VideoSettings {
            b_frames: 2,
            ..base
        }));
        assert!(b.contains("AV1") && b.contains("bFrames"), "{b}");
        let ir = open_message(config(&VideoSettings {
            intra_refresh: true,
            ..base
        }));
        assert!(ir.contains("AV1") && ir.contains("intraRefresh"), "{ir}");
        let buffer = open_message(config(&VideoSettings {
            vbv_buffer_ms: 15,
            ..base
        }));
        assert!(buffer.contains("20 to 10000 ms"), "{buffer}");
        let small = VideoSettings {
            input: VideoFormat::new(48, 48, PixelFormat::I420, 30, 1).unwrap(),
            ..base
        };
        assert!(open_message(config(&small)).contains("64x64"));
    }
}
