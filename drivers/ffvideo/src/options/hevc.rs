//! HEVC through libavcodec's `libx265`.
//!
//! libavcodec turns `b`, `maxrate`, `bufsize`, `g`, `keyint_min` and `bf`
//! into x265's bitrate, vbv-maxrate, vbv-bufsize, keyint, min-keyint and
//! bframes, and `+cgop` into a closed GOP (IDR keyframes); the rest goes
//! by x265's own names in `x265-params`, applied after them.

use makara_encode::{EncodeError, RateControl, VideoSettings};

use super::{buffer_bits, common, open_error, FfConfig};

/// x265's limit on consecutive B-frames (`X265_BFRAME_MAX`).
const MAX_B_FRAMES: u32 = 16;

pub(super) fn config(settings: &VideoSettings) -> Result<FfConfig, EncodeError> {
    if settings.b_frames > MAX_B_FRAMES {
        return Err(open_error(format!(
            "HEVC: {} B-frames asked; x265 takes at most {MAX_B_FRAMES}",
            settings.b_frames
        )));
    }
    let mut options = common(settings);
    options.extend([
        (
            "maxrate",
            (u64::from(settings.vbv_max_kbps()) * 1000).to_string(),
        ),
        ("bufsize", buffer_bits(settings).to_string()),
        // x265 has x264's preset names.
        ("preset", settings.preset.name().into()),
        // A keyframe asked for by the caller is an IDR too, not an open I.
        ("forced-idr", "1".into()),
        ("x265-params", x265_params(settings).join(":")),
    ]);
    if settings.zero_latency {
        options.push(("tune", "zerolatency".into()));
    }
    Ok(FfConfig {
        encoder: "libx265",
        options,
        refresh_points_are_keyframes: settings.intra_refresh,
        forced_keyframes: true,
    })
}

/// x265's own options, by its command-line names.
fn x265_params(settings: &VideoSettings) -> Vec<String> {
    let mut params = vec![
        // Keyframes only every gop_frames, never on scene cuts.
        "scenecut=0".to_string(),
        // VPS/SPS/PPS before every keyframe and an AUD first in every
        // access unit: receivers join at any keyframe, and ISO/IEC
        // 13818-1 (2.17) wants the AUD for HEVC in a transport stream.
        "repeat-headers=1".into(),
        "aud=1".into(),
        "annexb=1".into(),
        format!("intra-refresh={}", u8::from(settings.intra_refresh)),
        // x265 says what it logs at "warning" and above only.
        "log-level=warning".into(),
    ];
    if settings.rate_control == RateControl::Cbr {
        // Rate held at the bitrate (filler where the picture is cheap)
        // and buffering-period / picture-timing SEI for the receiver.
        params.push("strict-cbr=1".into());
        params.push("hrd=1".into());
    }
    if settings.zero_latency {
        // The zerolatency tune sets one frame thread, but libavcodec sets
        // x265's frame threads from its own thread count after the tune;
        // each frame thread more would delay every picture by one more.
        params.push("frame-threads=1".into());
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{open_message, option, test_settings};
    use makara_media::VideoCodec;

    #[test]
    fn cbr_is_strict_with_hrd_aud_and_repeated_headers() {
        let c = config(&test_settings(VideoCodec::Hevc)).unwrap();
        assert_eq!(c.encoder, "libx265");
        assert_eq!(option(&c.options, "maxrate"), Some("4000000"));
        assert_eq!(option(&c.options, "bufsize"), Some("2000000"));
        assert_eq!(option(&c.options, "preset"), Some("veryfast"));
        assert_eq!(option(&c.options, "tune"), Some("zerolatency"));
        assert_eq!(
            option(&c.options, "x265-params"),
            Some(
                "scenecut=0:repeat-headers=1:aud=1:annexb=1:intra-refresh=0:log-level=warning:\
                 strict-cbr=1:hrd=1:frame-threads=1"
            )
        );
        assert!(!c.refresh_points_are_keyframes);
    }

    #[test]
    fn vbr_with_b_frames_and_intra_refresh() {
        let c = config(&VideoSettings {
            rate_control: RateControl::Vbr,
            b_frames: 3,
            intra_refresh: true,
            zero_latency: false,
            ..test_settings(VideoCodec::Hevc)
        })
        .unwrap();
        assert_eq!(option(&c.options, "maxrate"), Some("6000000"));
        assert_eq!(option(&c.options, "bf"), Some("3"));
        assert_eq!(option(&c.options, "tune"), None);
        let params = option(&c.options, "x265-params").unwrap();
        assert!(params.contains("intra-refresh=1"), "{params}");
        assert!(!params.contains("strict-cbr"), "{params}");
        assert!(c.refresh_points_are_keyframes);
    }

    #[test]
    fn too_many_b_frames_are_refused() {
        let why = open_message(config(&VideoSettings {
            b_frames: 17,
            ..test_settings(VideoCodec::Hevc)
        }));
        assert!(why.contains("B-frames") && why.contains("16"), "{why}");
    }
}
