//! Each codec against its real library, judged by ffprobe and ffmpeg.

mod common;

use common::*;
use makara_encode::{Mpeg2Profile, RateControl, VideoEncoder, VideoSettings};
use makara_ffvideo::FfVideoEncoder;
use makara_media::{EncodedVideo, VideoCodec};
use makara_test_support::TestDir;

/// Encodes `settings` for FRAMES pictures into `name` inside `dir`.
fn encode_file(dir: &TestDir, name: &str, settings: &VideoSettings) -> Vec<EncodedVideo> {
    let mut encoder = FfVideoEncoder::open(settings).unwrap();
    let units = encode(&mut encoder, FRAMES);
    assert_eq!(units.len(), FRAMES as usize, "one access unit per picture");
    write(&dir.join(name), &units);
    units
}

/// What every stream must show: the codec and size, keyframes exactly
/// every GOP (ffprobe's decoded pictures, the demuxer's packets and our
/// flags agree), timestamps as sent, and a clean decode.
fn check_common(dir: &TestDir, name: &str, codec: &str, units: &[EncodedVideo]) -> Vec<Traced> {
    let file = dir.join(name);
    assert_eq!(stream_field(&file, "codec_name"), codec);
    assert_eq!(stream_field(&file, "width"), "320");
    assert_eq!(stream_field(&file, "height"), "240");
    let (_, keys) = frames(&file);
    assert_eq!(
        keys,
        expected_keys(FRAMES, GOP),
        "{name}: keyframes in presentation order"
    );
    let traced = trace(&file);
    assert_eq!(traced.len(), units.len(), "{name}: packets");
    for (n, (packet, unit)) in traced.iter().zip(units).enumerate() {
        assert_eq!(packet.key, unit.keyframe, "{name}: packet {n}'s key flag");
    }
    let mut sent: Vec<u64> = units.iter().map(|u| u.pts.0).collect();
    sent.sort_unstable();
    assert_eq!(sent, (0..FRAMES).map(|n| pts(n).0).collect::<Vec<_>>());
    assert!(
        units.windows(2).all(|w| w[0].dts < w[1].dts),
        "{name}: DTS increase"
    );
    assert!(units.iter().all(|u| u.dts <= u.pts), "{name}: DTS ≤ PTS");
    assert_eq!(decode_errors(&file), "", "{name}: ffmpeg's decode");
    traced
}

fn assert_cbr(name: &str, units: &[EncodedVideo], target_kbps: u32) {
    let got = kbps(units, FRAMES);
    let target = f64::from(target_kbps);
    assert!(
        (got - target).abs() <= target * 0.2,
        "{name}: {got:.0} kbit/s for a CBR target of {target}"
    );
}

#[test]
fn hevc_cbr_has_auds_and_parameter_sets_at_every_keyframe() {
    let dir = TestDir::new("ffvideo-hevc");
    let settings = settings(VideoCodec::Hevc);
    let units = encode_file(&dir, "cbr.hevc", &settings);
    let traced = check_common(&dir, "cbr.hevc", "hevc", &units);
    let (types, _) = frames(&dir.join("cbr.hevc"));
    assert!(!types.contains('B'), "no B-frames asked: {types}");
    for (n, packet) in traced.iter().enumerate() {
        assert_eq!(packet.units[0], "Access Unit Delimiter", "AU {n}");
        let sets = [
            "Video Parameter Set",
            "Sequence Parameter Set",
            "Picture Parameter Set",
        ]
        .map(|set| packet.units.iter().any(|u| u == set));
        assert_eq!(sets, [packet.key; 3], "AU {n}: parameter sets iff keyframe");
    }
    assert!(units.iter().all(|u| u.dts == u.pts), "no reordering");
    assert_cbr("hevc", &units, settings.bitrate_kbps);
    for (n, packet) in traced.iter().enumerate() {
        let has = |unit: &str| packet.units.iter().any(|u| u == unit);
        assert!(has("Picture Timing"), "AU {n}: HRD picture timing");
        assert_eq!(
            has("Buffering Period"),
            packet.key,
            "AU {n}: HRD buffering period"
        );
    }
    let options = x265_options(&units[0].data);
    for expected in [
        "keyint=15",
        "min-keyint=15",
        "scenecut=0",
        "no-open-gop",
        "bframes=0",
        "rc=cbr",
        "bitrate=600",
        "vbv-maxrate=600",
        "vbv-bufsize=300",
        "strict-cbr",
        "hrd",
        "repeat-headers",
        "aud",
        "rc-lookahead=0",
        "frame-threads=1",
        "no-intra-refresh",
        "sar=1",
        "range=0",
        "colorprim=6",
    ] {
        assert!(
            options.iter().any(|o| o == expected),
            "x265 lacks {expected}: {options:?}"
        );
    }
    let mut encoder = FfVideoEncoder::open(&settings).unwrap();
    assert!(encoder.headers().is_err(), "no keyframe out yet");
    encode(&mut encoder, 2);
    let headers = encoder.headers().unwrap();
    assert!(
        headers.starts_with(&[0, 0, 0, 1, 0x40, 0x01]),
        "a VPS first"
    );
}

#[test]
fn hevc_b_frames_reorder_with_the_dts_contract() {
    let dir = TestDir::new("ffvideo-hevc-b");
    let settings = VideoSettings {
        rate_control: RateControl::Vbr,
        max_bitrate_kbps: 900,
        b_frames: 2,
        zero_latency: false,
        ..settings(VideoCodec::Hevc)
    };
    let mut encoder = FfVideoEncoder::open(&settings).unwrap();
    let units = encode(&mut encoder, FRAMES);
    write(&dir.join("b.hevc"), &units);
    check_common(&dir, "b.hevc", "hevc", &units);
    let (types, _) = frames(&dir.join("b.hevc"));
    assert!(types.contains('B'), "B-frames asked: {types}");
    let delay = encoder.reorder_delay().unwrap().0;
    assert!(delay > 0, "B-frames delay decoding");
    assert_eq!(units[0].dts.0, pts(0).0 - delay, "first DTS");
    let options = x265_options(&units[0].data);
    for expected in ["bframes=2", "vbv-maxrate=900", "vbv-bufsize=450"] {
        assert!(
            options.iter().any(|o| o == expected),
            "x265 lacks {expected}: {options:?}"
        );
    }
    assert!(
        !options.iter().any(|o| o == "strict-cbr"),
        "VBR: {options:?}"
    );
}

#[test]
fn hevc_intra_refresh_flags_each_cycle_start() {
    let dir = TestDir::new("ffvideo-hevc-ir");
    let settings = VideoSettings {
        intra_refresh: true,
        ..settings(VideoCodec::Hevc)
    };
    let units = encode_file(&dir, "ir.hevc", &settings);
    let file = dir.join("ir.hevc");
    let (types, keys) = frames(&file);
    assert_eq!(keys, [0], "one IDR, then refresh instead of keyframes");
    assert_eq!(types.matches('I').count(), 1, "{types}");
    assert!(x265_options(&units[0].data)
        .iter()
        .any(|o| o == "intra-refresh"));
    let flagged: Vec<usize> = (0..units.len()).filter(|&n| units[n].keyframe).collect();
    assert_eq!(flagged, expected_keys(FRAMES, GOP), "cycle starts");
    for (n, packet) in trace(&file).iter().enumerate() {
        let has_vps = packet.units.iter().any(|u| u == "Video Parameter Set");
        assert_eq!(has_vps, units[n].keyframe, "AU {n}");
    }
    assert_eq!(decode_errors(&file), "");
}

#[test]
fn av1_low_delay_cbr_has_sequence_headers_at_every_keyframe() {
    let dir = TestDir::new("ffvideo-av1");
    let settings = settings(VideoCodec::Av1);
    let units = encode_file(&dir, "cbr.obu", &settings);
    let traced = check_common(&dir, "cbr.obu", "av1", &units);
    for (n, packet) in traced.iter().enumerate() {
        let obus: Vec<&str> = packet
            .units
            .iter()
            .filter_map(|u| u.strip_prefix("obu_type = "))
            .collect();
        assert_eq!(
            obus.first(),
            Some(&"2"),
            "TU {n} starts with a temporal delimiter"
        );
        assert_eq!(
            obus.contains(&"1"),
            packet.key,
            "TU {n}: sequence header iff keyframe"
        );
    }
    assert!(
        units.iter().all(|u| u.dts == u.pts),
        "low delay: no reordering"
    );
    assert_cbr("av1", &units, settings.bitrate_kbps);
}

#[test]
fn mpeg2_main_has_b_pictures_and_a_sequence_header_per_gop() {
    let dir = TestDir::new("ffvideo-mpeg2");
    // 4 Mbit/s for 500 ms is more than Main level's VBV of 1835008 bits.
    let settings = VideoSettings {
        bitrate_kbps: 4000,
        max_bitrate_kbps: 4000,
        b_frames: 2,
        ..settings(VideoCodec::Mpeg2)
    };
    let units = encode_file(&dir, "main.m2v", &settings);
    let traced = check_common(&dir, "main.m2v", "mpeg2video", &units);
    let file = dir.join("main.m2v");
    assert_eq!(stream_field(&file, "profile"), "Main");
    assert_eq!(stream_field(&file, "level"), "8", "Main level");
    let (types, _) = frames(&file);
    assert!(types.contains('B'), "{types}");
    for (n, packet) in traced.iter().enumerate() {
        for header in ["Sequence Header", "Group of Pictures Header"] {
            let has = packet.units.iter().any(|u| u == header);
            assert_eq!(has, packet.key, "picture {n}: {header} iff GOP start");
        }
        if packet.key {
            for field in [
                "profile_and_level_indication = 72", // Main@Main
                "vbv_buffer_size_value = 112",       // 112 × 16384 bits: the level's
                "bit_rate_value = 10000",            // 400 bit/s units
                "closed_gop = 1",
                "low_delay = 0",
            ] {
                assert!(
                    packet.units.iter().any(|u| u == field),
                    "GOP at {n}: {field}"
                );
            }
        }
    }
    assert_cbr("mpeg2", &units, settings.bitrate_kbps);
}

#[test]
fn mpeg2_simple_has_no_b_pictures() {
    let dir = TestDir::new("ffvideo-mpeg2-simple");
    let settings = VideoSettings {
        mpeg2_profile: Mpeg2Profile::Simple,
        bitrate_kbps: 1500,
        max_bitrate_kbps: 1500,
        ..settings(VideoCodec::Mpeg2)
    };
    let units = encode_file(&dir, "simple.m2v", &settings);
    let traced = check_common(&dir, "simple.m2v", "mpeg2video", &units);
    for packet in traced.iter().filter(|p| p.key) {
        // Simple@Main, and no B pictures to wait for.
        for field in ["profile_and_level_indication = 88", "low_delay = 1"] {
            assert!(packet.units.iter().any(|u| u == field), "{field}");
        }
    }
    let file = dir.join("simple.m2v");
    assert_eq!(stream_field(&file, "profile"), "Simple");
    let (types, _) = frames(&file);
    assert!(!types.contains('B'), "{types}");
    assert!(units.iter().all(|u| u.dts == u.pts));
}
