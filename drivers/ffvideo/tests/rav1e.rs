//! AV1 through rav1e, the offline mode, against the real library, judged
//! by ffprobe and ffmpeg; and what rav1e cannot honour, refused by name.

mod common;

use common::*;
use makara_encode::{EncodeError, RateControl, RawPicture, VideoEncoder, VideoSettings};
use makara_ffvideo::Rav1eEncoder;
use makara_media::VideoCodec;
use makara_test_support::TestDir;

/// Three seconds: long enough for rav1e's rate control to settle on the
/// target, short enough at its fastest speed.
const SECONDS: u32 = 3;

/// The offline settings: the shared ones without zero latency.
fn offline() -> VideoSettings {
    VideoSettings {
        zero_latency: false,
        ..settings(VideoCodec::Av1)
    }
}

fn open_error(settings: &VideoSettings) -> String {
    match Rav1eEncoder::open(settings) {
        Err(EncodeError::Open(why)) => why,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("{settings:?} opened"),
    }
}

#[test]
fn rav1e_writes_av1_of_the_size_gop_and_bitrate_asked() {
    let dir = TestDir::new("ffvideo-rav1e");
    let settings = offline();
    let count = SECONDS * FPS;
    let mut encoder = Rav1eEncoder::open(&settings).unwrap();
    assert!(encoder.headers().is_err(), "no keyframe out yet");
    let units = encode_pictures(&mut encoder, settings.input, count, None);
    let file = dir.join("offline.obu");
    write(&file, &units);

    assert_eq!(units.len(), count as usize, "one temporal unit per picture");
    assert_eq!(stream_field(&file, "codec_name"), "av1");
    assert_eq!(stream_field(&file, "width"), "320");
    assert_eq!(stream_field(&file, "height"), "240");
    let (types, keys) = frames(&file);
    assert_eq!(types.len(), count as usize, "decoded pictures: {types}");
    assert_eq!(keys, expected_keys(count, GOP), "keyframes every GOP");
    assert_eq!(decode_errors(&file), "", "ffmpeg's decode");

    // Temporal units in presentation order, as sent: rav1e's reordering
    // stays inside them.
    let sent: Vec<u64> = (0..count).map(|n| pts(n).0).collect();
    assert_eq!(units.iter().map(|u| u.pts.0).collect::<Vec<_>>(), sent);
    assert!(units.iter().all(|u| u.dts == u.pts), "DTS = PTS");
    let traced = trace(&file);
    assert_eq!(traced.len(), units.len(), "packets");
    for (n, (packet, unit)) in traced.iter().zip(&units).enumerate() {
        assert_eq!(packet.key, unit.keyframe, "TU {n}'s key flag");
        let obus: Vec<&str> = packet
            .units
            .iter()
            .filter_map(|u| u.strip_prefix("obu_type = "))
            .collect();
        assert_eq!(
            obus.first(),
            Some(&"2"),
            "TU {n}: a temporal delimiter first"
        );
        if packet.key {
            assert!(obus.contains(&"1"), "TU {n}: a keyframe's sequence header");
        }
    }

    let got = kbps(&units, count);
    let target = f64::from(settings.bitrate_kbps);
    assert!(
        (got - target).abs() <= target * 0.2,
        "{got:.0} kbit/s for a target of {target}"
    );
    let headers = encoder.headers().unwrap();
    // obu_type 1 (sequence header) with obu_has_size_field.
    assert_eq!(headers[0], 0x0a, "{headers:02x?}");
}

#[test]
fn what_rav1e_cannot_honour_is_refused_naming_the_setting() {
    let base = offline();
    let cases = [
        (settings(VideoCodec::Av1), "zero latency"),
        (
            VideoSettings {
                rate_control: RateControl::Vbr,
                ..base
            },
            "VBR",
        ),
        (
            VideoSettings {
                b_frames: 1,
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
                vbv_buffer_ms: 200,
                ..base
            },
            "VBV buffer of 200 ms",
        ),
        (
            VideoSettings {
                zero_latency: false,
                ..settings(VideoCodec::Hevc)
            },
            "AV1 only",
        ),
    ];
    for (settings, says) in cases {
        let why = open_error(&settings);
        assert!(why.contains("rav1e") && why.contains(says), "{why}");
    }
}

#[test]
fn rav1e_refuses_a_keyframe_on_request() {
    let settings = offline();
    let mut encoder = Rav1eEncoder::open(&settings).unwrap();
    let data = picture(&settings.input, 0);
    let err = encoder
        .send_picture(Some(RawPicture {
            format: settings.input,
            data: &data,
            pts: pts(0),
            force_keyframe: true,
        }))
        .unwrap_err();
    assert!(err.to_string().contains("keyframe request"), "{err}");
}
