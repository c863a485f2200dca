use makara_config::TranscoderRequest;
use makara_media::{PixelFormat, VideoFormat};

use super::*;

fn transcoder(edit: impl FnOnce(&mut TranscoderRequest)) -> TranscoderConfig {
    let mut r = TranscoderRequest {
        name: Some("t".into()),
        ..TranscoderRequest::default()
    };
    edit(&mut r);
    r.validate().unwrap()
}

fn source() -> VideoFormat {
    VideoFormat::new(1280, 720, PixelFormat::Yuyv, 30, 1).unwrap()
}

#[test]
fn defaults_are_low_latency_vbr_at_veryfast() {
    let s = VideoSettings::from_transcoder(&transcoder(|_| {}), source()).unwrap();
    assert_eq!(s.rate_control, RateControl::Vbr);
    assert_eq!(s.preset, Preset::Veryfast);
    assert!(s.zero_latency);
    assert_eq!(
        (s.bitrate_kbps, s.max_bitrate_kbps, s.vbv_buffer_ms),
        (3000, 4500, 500)
    );
    assert_eq!((s.gop_frames, s.b_frames), (30, 0));
    assert_eq!(s.input.fps_num, 30);
}

#[test]
fn planar_input_passes_through_packed_and_scaled_become_i420() {
    let nv12 = VideoFormat::new(1280, 720, PixelFormat::Nv12, 30, 1).unwrap();
    let s = VideoSettings::from_transcoder(&transcoder(|_| {}), nv12).unwrap();
    assert_eq!(s.input.pixel_format, PixelFormat::Nv12);
    let s = VideoSettings::from_transcoder(&transcoder(|_| {}), source()).unwrap();
    assert_eq!(s.input.pixel_format, PixelFormat::I420);
    let t = transcoder(|r| {
        r.width = Some(640);
        r.height = Some(360);
    });
    let s = VideoSettings::from_transcoder(&t, source()).unwrap();
    assert_eq!(
        (s.input.width, s.input.height, s.input.pixel_format),
        (640, 360, PixelFormat::I420)
    );
}

#[test]
fn cbr_caps_at_the_bitrate() {
    let t = transcoder(|r| r.encoding_profile = Some(EncodingProfile::Cbr));
    let s = VideoSettings::from_transcoder(&t, source()).unwrap();
    assert_eq!(s.rate_control, RateControl::Cbr);
    assert_eq!(s.max_bitrate_kbps, s.bitrate_kbps);
}

#[test]
fn quality_profile_allows_lookahead_and_b_frames() {
    let t = transcoder(|r| r.encoding_profile = Some(EncodingProfile::Quality));
    let s = VideoSettings::from_transcoder(&t, source()).unwrap();
    assert!(!s.zero_latency);
    assert_eq!(
        (s.preset, s.b_frames, s.vbv_buffer_ms),
        (Preset::Medium, 3, 1000)
    );
}

#[test]
fn quality_level_picks_the_preset() {
    let t = transcoder(|r| {
        r.encoding_profile = Some(EncodingProfile::Performance);
        r.quality_level = Some(6);
    });
    assert_eq!(
        VideoSettings::from_transcoder(&t, source()).unwrap().preset,
        Preset::Faster
    );
}

#[test]
fn shaping_overrides() {
    let t = transcoder(|r| {
        r.shaping_target_bitrate_percent = Some(80);
        r.shaping_max_bitrate_percent = Some(120);
        r.shaping_vbv_size_ms = Some(1000);
    });
    let s = VideoSettings::from_transcoder(&t, source()).unwrap();
    assert_eq!(
        (s.bitrate_kbps, s.max_bitrate_kbps, s.vbv_buffer_ms),
        (2400, 3600, 1000)
    );
}

#[test]
fn gop_zero_means_two_seconds_and_fixed_rate_wins() {
    let t = transcoder(|r| {
        r.gop_size = Some(0);
        r.frame_rate = Some(25);
    });
    let s = VideoSettings::from_transcoder(&t, source()).unwrap();
    assert_eq!((s.gop_frames, s.input.fps_num), (50, 25));
}

#[test]
fn every_video_type_names_its_codec_and_only_h264_takes_nv12() {
    let nv12 = VideoFormat::new(1280, 720, PixelFormat::Nv12, 30, 1).unwrap();
    for (video_type, codec) in [
        (VideoType::Avc, VideoCodec::H264),
        (VideoType::Hevc, VideoCodec::Hevc),
        (VideoType::Mpeg2Video, VideoCodec::Mpeg2),
        (VideoType::Av1, VideoCodec::Av1),
    ] {
        let t = transcoder(|r| r.video_type = Some(video_type));
        let s = VideoSettings::from_transcoder(&t, nv12).unwrap();
        assert_eq!((s.codec, s.hardware), (codec, Hardware::Software));
        let expected = match codec {
            VideoCodec::H264 => PixelFormat::Nv12,
            _ => PixelFormat::I420,
        };
        assert_eq!(s.input.pixel_format, expected, "{codec:?}");
    }
}

#[test]
fn mpeg2_simple_profile_has_no_b_frames_and_hardware_is_carried() {
    let t = transcoder(|r| {
        r.video_type = Some(VideoType::Mpeg2Video);
        r.video_profile = Some(VideoProfile::Mpeg2Simple);
        r.encoding_profile = Some(EncodingProfile::Quality);
    });
    let s = VideoSettings::from_transcoder(&t, source()).unwrap();
    assert_eq!((s.mpeg2_profile, s.b_frames), (Mpeg2Profile::Simple, 0));
    let main = transcoder(|r| {
        r.video_type = Some(VideoType::Mpeg2Video);
        r.encoding_profile = Some(EncodingProfile::Quality);
    });
    let s = VideoSettings::from_transcoder(&main, source()).unwrap();
    assert_eq!((s.mpeg2_profile, s.b_frames), (Mpeg2Profile::Main, 3));
    let vaapi = transcoder(|r| r.encoder_type = Some(EncoderType::Vaapi));
    let s = VideoSettings::from_transcoder(&vaapi, source()).unwrap();
    assert_eq!(s.hardware, Hardware::Vaapi);
}
