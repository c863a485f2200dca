//! What the codecs' libraries cannot honour fails at open (or at the
//! picture that asks for it) with a message naming the setting.

mod common;

use common::*;
use makara_encode::{EncodeError, Hardware, RawPicture, VideoEncoder, VideoSettings};
use makara_ffvideo::{hardware_available, FfVideoEncoder};
use makara_media::VideoCodec;

fn open_error(settings: &VideoSettings) -> String {
    match FfVideoEncoder::open(settings) {
        Err(EncodeError::Open(why)) => why,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("{settings:?} opened"),
    }
}

#[test]
fn settings_a_library_cannot_honour_name_the_setting_and_codec() {
    let cases = [
        (
            VideoCodec::Av1,
            VideoSettings {
                intra_refresh: true,
                ..settings(VideoCodec::Av1)
            },
            "intraRefresh",
        ),
        (
            VideoCodec::Av1,
            VideoSettings {
                b_frames: 1,
                ..settings(VideoCodec::Av1)
            },
            "bFrames",
        ),
        (
            VideoCodec::Av1,
            VideoSettings {
                rate_control: makara_encode::RateControl::Vbr,
                ..settings(VideoCodec::Av1)
            },
            "VBR",
        ),
        (
            VideoCodec::Mpeg2,
            VideoSettings {
                intra_refresh: true,
                ..settings(VideoCodec::Mpeg2)
            },
            "intraRefresh",
        ),
    ];
    for (codec, settings, setting) in cases {
        let why = open_error(&settings);
        let name = match codec {
            VideoCodec::Av1 => "AV1",
            _ => "MPEG-2",
        };
        assert!(why.contains(setting) && why.contains(name), "{why}");
    }
}

#[test]
fn av1_refuses_a_keyframe_on_request() {
    let settings = settings(VideoCodec::Av1);
    let mut encoder = FfVideoEncoder::open(&settings).unwrap();
    let data = picture(&settings.input, 0);
    let err = encoder
        .send_picture(Some(RawPicture {
            format: settings.input,
            data: &data,
            pts: pts(0),
            force_keyframe: true,
        }))
        .unwrap_err();
    assert!(err.to_string().contains("keyframe on request"), "{err}");
}

#[test]
fn forced_keyframes_come_where_asked_for_hevc_and_mpeg2() {
    for codec in [VideoCodec::Hevc, VideoCodec::Mpeg2] {
        let settings = settings(codec);
        let mut encoder = FfVideoEncoder::open(&settings).unwrap();
        let units = encode_forcing(&mut encoder, GOP, Some(7));
        let keys: Vec<u64> = units
            .iter()
            .filter(|u| u.keyframe)
            .map(|u| u.pts.0)
            .collect();
        assert_eq!(keys, [pts(0).0, pts(7).0], "{codec:?}");
    }
}

/// This holds on any machine: each reason names the render node's path,
/// whether it is missing (as here, without a GPU), FFmpeg cannot open
/// it, or this build cannot encode on it.
#[test]
fn hardware_fails_naming_the_render_node() {
    for hw in [Hardware::Qsv, Hardware::Vaapi] {
        let why = hardware_available(hw).unwrap_err();
        assert!(why.contains("/dev/dri"), "{why}");
        for codec in [VideoCodec::Hevc, VideoCodec::H264, VideoCodec::Mpeg2] {
            let why = open_error(&VideoSettings {
                hardware: hw,
                ..settings(codec)
            });
            assert!(
                why.contains("/dev/dri") && why.contains(&format!("{hw:?}")),
                "{why}"
            );
        }
    }
    assert_eq!(hardware_available(Hardware::Software), Ok(()));
}

/// SVT-AV1 1.4.1 hangs when closed before its first picture; the
/// encoder works around it, whether the stream was flushed or not.
#[test]
fn an_av1_encoder_that_never_got_a_picture_closes() {
    let settings = settings(VideoCodec::Av1);
    drop(FfVideoEncoder::open(&settings).unwrap());
    let mut flushed = FfVideoEncoder::open(&settings).unwrap();
    flushed.send_picture(None).unwrap();
    assert!(flushed.receive().unwrap().is_none());
    drop(flushed);
}
