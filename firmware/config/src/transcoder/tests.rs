use super::*;

fn named() -> TranscoderRequest {
    TranscoderRequest {
        name: Some("SD-4".into()),
        ..TranscoderRequest::default()
    }
}

#[test]
fn defaults_follow_the_property_table() {
    let c = named().validate().unwrap();
    assert_eq!(c.resolution, ResolutionMode::DetectContinuously);
    assert_eq!(c.frame_rate, 30);
    assert_eq!(c.video_bitrate_kbps, 3000);
    assert_eq!(c.gop_size, 30);
    assert_eq!(c.audio_bitrate_kbps, 256);
    assert_eq!(c.b_frames, -1);
    assert!(!c.intra_refresh);
    assert_eq!(c.encoding_profile, EncodingProfile::Vbr);
    assert_eq!(c.encoder_type, EncoderType::Unset);
    assert_eq!(c.interleave_adjustment_ms, -1);
    assert_eq!(c.jitter_buffer_ms, 250);
    assert_eq!(c.video_type, VideoType::Avc);
    assert!(c.audio && !c.metadata);
    assert_eq!(c.shaping.vbv_size_ms, -1);
}

#[test]
fn name_is_required() {
    let e = TranscoderRequest::default().validate().unwrap_err();
    assert_eq!(e, Invalid::Missing { field: "name" });
}

#[test]
fn name_is_at_most_128_characters() {
    let r = TranscoderRequest {
        name: Some("x".repeat(129)),
        ..named()
    };
    assert_eq!(
        r.validate().unwrap_err().to_string(),
        "name is 129 characters long; at most 128 are allowed"
    );
    let r = TranscoderRequest {
        name: Some("é".repeat(128)),
        ..named()
    };
    assert!(r.validate().is_ok());
}

#[test]
fn every_documented_range_has_inclusive_bounds() {
    type Set = fn(&mut TranscoderRequest, i64);
    let cases: &[(&str, Set, i64, i64)] = &[
        (
            "videoBitrate",
            |r, v| r.video_bitrate_kbps = Some(v),
            150,
            15000,
        ),
        ("gopSize", |r, v| r.gop_size = Some(v), 0, 1000),
        (
            "audioBitrate",
            |r, v| r.audio_bitrate_kbps = Some(v),
            14,
            576,
        ),
        ("bFrame", |r, v| r.b_frames = Some(v), -1, 3),
        ("frameRate", |r, v| r.frame_rate = Some(v), -1, 60),
        (
            "interleaveAdjustmentMs",
            |r, v| r.interleave_adjustment_ms = Some(v),
            -5000,
            5000,
        ),
    ];
    for (field, set, min, max) in cases {
        for (v, ok) in [
            (*min - 1, false),
            (*min, true),
            (*max, true),
            (*max + 1, false),
        ] {
            let mut r = named();
            set(&mut r, v);
            let result = r.validate();
            assert_eq!(result.is_ok(), ok, "{field} = {v}");
            if let Err(e) = result {
                assert_eq!(
                    e.to_string(),
                    format!("{field} {v} is out of range ({min}-{max})")
                );
            }
        }
    }
}

#[test]
fn resolution_implies_custom_mode() {
    let r = TranscoderRequest {
        width: Some(720),
        height: Some(480),
        ..named()
    };
    let c = r.validate().unwrap();
    assert_eq!(
        c.resolution,
        ResolutionMode::Custom {
            width: 720,
            height: 480
        }
    );
}

#[test]
fn custom_mode_needs_both_dimensions() {
    let r = TranscoderRequest {
        resolution_mode: Some(1),
        width: Some(720),
        ..named()
    };
    assert_eq!(
        r.validate().unwrap_err(),
        Invalid::Missing { field: "height" }
    );
}

#[test]
fn resolution_conflicts_with_auto_modes() {
    let r = TranscoderRequest {
        resolution_mode: Some(2),
        width: Some(720),
        height: Some(480),
        ..named()
    };
    assert_eq!(r.validate().unwrap_err().field(), "resolution");
}

#[test]
fn hevc_defaults_to_balanced_and_refuses_vbr() {
    let r = TranscoderRequest {
        video_type: Some(VideoType::Hevc),
        ..named()
    };
    assert_eq!(
        r.clone().validate().unwrap().encoding_profile,
        EncodingProfile::Balanced
    );
    let r = TranscoderRequest {
        encoding_profile: Some(EncodingProfile::Vbr),
        ..r
    };
    assert_eq!(r.validate().unwrap_err().field(), "encodingProfile");
}

#[test]
fn hardware_encoders_are_a_setting_but_not_for_av1() {
    // Whether the device exists is the engine's question, asked when the
    // transcoder is saved; the setting itself is valid.
    for hardware in [EncoderType::Qsv, EncoderType::Vaapi] {
        let r = TranscoderRequest {
            encoder_type: Some(hardware),
            ..named()
        };
        assert_eq!(r.validate().unwrap().encoder_type, hardware);
        let av1 = TranscoderRequest {
            encoder_type: Some(hardware),
            video_type: Some(VideoType::Av1),
            ..named()
        };
        let e = av1.validate().unwrap_err();
        assert_eq!(e.field(), "encoderType");
        assert!(e.to_string().contains("SVT-AV1"), "{e}");
    }
}

#[test]
fn shaping_takes_minus_one_or_a_range() {
    let r = TranscoderRequest {
        shaping_bitrate_kbps: Some(100),
        ..named()
    };
    assert_eq!(r.validate().unwrap_err().field(), "shapingBitrate");
    let r = TranscoderRequest {
        shaping_max_bitrate_percent: Some(80),
        shaping_target_bitrate_percent: Some(70),
        shaping_vbv_size_ms: Some(1000),
        shaping_buffering_interval_ms: Some(2260),
        ..named()
    };
    let s = r.validate().unwrap().shaping;
    assert_eq!((s.max_bitrate_percent, s.vbv_size_ms), (80, 1000));
}

#[test]
fn a_vbv_the_t_std_cannot_honour_is_refused_with_its_range() {
    let r = TranscoderRequest {
        shaping_vbv_size_ms: Some(1001),
        ..named()
    };
    assert_eq!(
        r.validate().unwrap_err().to_string(),
        "shapingVbvSizeMs: 1001 is out of range (-1 for off, or 20-1000)"
    );
}

#[test]
fn a_vbv_of_one_or_two_frames_is_accepted_for_low_latency() {
    for ms in [20, 50, 99] {
        let r = TranscoderRequest {
            shaping_vbv_size_ms: Some(ms),
            ..named()
        };
        assert!(r.validate().is_ok(), "shapingVbvSizeMs {ms}");
    }
    let r = TranscoderRequest {
        shaping_vbv_size_ms: Some(19),
        ..named()
    };
    assert_eq!(
        r.validate().unwrap_err().to_string(),
        "shapingVbvSizeMs: 19 is out of range (-1 for off, or 20-1000)"
    );
}

#[test]
fn video_profile_only_for_mpeg2() {
    let r = TranscoderRequest {
        video_profile: Some(VideoProfile::Mpeg2Main),
        ..named()
    };
    assert_eq!(r.clone().validate().unwrap_err().field(), "videoProfile");
    let r = TranscoderRequest {
        video_type: Some(VideoType::Mpeg2Video),
        encoding_profile: Some(EncodingProfile::Cbr),
        ..r
    };
    assert!(r.validate().is_ok());
}

#[test]
fn av1_is_constant_bitrate_without_b_frames_or_intra_refresh() {
    let av1 = |edit: fn(&mut TranscoderRequest)| {
        let mut r = TranscoderRequest {
            video_type: Some(VideoType::Av1),
            ..named()
        };
        edit(&mut r);
        r.validate()
    };
    assert_eq!(av1(|_| {}).unwrap().encoding_profile, EncodingProfile::Cbr);
    let vbr = av1(|r| r.encoding_profile = Some(EncodingProfile::Vbr)).unwrap_err();
    assert_eq!(vbr.field(), "encodingProfile");
    let b = av1(|r| r.b_frames = Some(1)).unwrap_err();
    assert_eq!(b.field(), "bFrame");
    assert!(b.to_string().contains("low delay"), "{b}");
    assert_eq!(av1(|r| r.b_frames = Some(0)).unwrap().b_frames, 0);
    let refresh = av1(|r| r.intra_refresh = Some(true)).unwrap_err();
    assert_eq!(refresh.field(), "enableIntraRefresh");
}

#[test]
fn mpeg2_video_has_no_intra_refresh() {
    let r = TranscoderRequest {
        video_type: Some(VideoType::Mpeg2Video),
        intra_refresh: Some(true),
        ..named()
    };
    assert_eq!(r.validate().unwrap_err().field(), "enableIntraRefresh");
}
