use super::*;
use crate::amf0::{decode_all, Amf0Value};
use crate::testdata::{HEVC_PPS_360P, HEVC_SPS_360P, HEVC_VPS_360P, PPS_720P, SPS_720P};

fn annex_b(units: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for u in units {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(u);
    }
    out
}

#[test]
fn an_h264_key_frame_brings_its_sequence_header_first() {
    let idr = [0x65, 0x88, 0x84];
    let sei = [0x06, 0x05, 0x01];
    let au = annex_b(&[&[0x09, 0xF0], &SPS_720P, &PPS_720P, &sei, &idr]);
    let mut tagger = VideoTagger::new(VideoCodec::H264);
    let tags = tagger
        .tags(&VideoFrame {
            annex_b: &au,
            key: true,
            composition_ms: 80,
        })
        .unwrap();
    assert_eq!(tags.len(), 2);
    let mut header = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1F, 0xFF, 0xE1, 0, 26];
    header.extend_from_slice(&SPS_720P);
    header.extend_from_slice(&[1, 0, 6]);
    header.extend_from_slice(&PPS_720P);
    assert_eq!(tags[0], header);
    // The AUD, SPS and PPS are not in the frame; SEI and IDR are, with
    // 4-byte lengths; composition time 80 ms.
    assert_eq!(
        tags[1],
        [0x17, 1, 0, 0, 80, 0, 0, 0, 3, 0x06, 0x05, 0x01, 0, 0, 0, 3, 0x65, 0x88, 0x84]
    );
    assert_eq!(
        tagger.picture_size(),
        Some(crate::nal::PictureSize {
            width: 1280,
            height: 720
        })
    );

    // The same parameter sets again: no new header. An inter frame.
    let again = tagger
        .tags(&VideoFrame {
            annex_b: &au,
            key: true,
            composition_ms: 0,
        })
        .unwrap();
    assert_eq!(again.len(), 1);
    let p = annex_b(&[&[0x41, 0x9A]]);
    let inter = tagger
        .tags(&VideoFrame {
            annex_b: &p,
            key: false,
            composition_ms: -40,
        })
        .unwrap();
    assert_eq!(
        inter,
        vec![vec![0x27, 1, 0xFF, 0xFF, 0xD8, 0, 0, 0, 2, 0x41, 0x9A]]
    );

    // After a reset the next frame sends the header again, even without
    // parameter sets of its own.
    tagger.reset();
    let after = tagger
        .tags(&VideoFrame {
            annex_b: &annex_b(&[&idr]),
            key: true,
            composition_ms: 0,
        })
        .unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], header);
}

#[test]
fn frames_before_any_parameter_sets_are_refused() {
    let mut tagger = VideoTagger::new(VideoCodec::H264);
    let e = tagger
        .tags(&VideoFrame {
            annex_b: &annex_b(&[&[0x65, 1]]),
            key: true,
            composition_ms: 0,
        })
        .unwrap_err();
    assert_eq!(e, FlvError::NoParameterSets("H.264 SPS and PPS"));
}

#[test]
fn hevc_goes_as_enhanced_rtmp_with_its_decoder_configuration_record() {
    let idr = [0x26, 0x01, 0xAF];
    let au = annex_b(&[
        &[0x46, 0x01, 0x50],
        &HEVC_VPS_360P,
        &HEVC_SPS_360P,
        &HEVC_PPS_360P,
        &idr,
    ]);
    let mut tagger = VideoTagger::new(VideoCodec::Hevc);
    let tags = tagger
        .tags(&VideoFrame {
            annex_b: &au,
            key: true,
            composition_ms: 40,
        })
        .unwrap();
    assert_eq!(tags.len(), 2);
    let mut start = vec![0x90, b'h', b'v', b'c', b'1'];
    start.extend_from_slice(&[
        1, // version
        0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x3F, // profile, flags, level
        0xF0, 0x00, 0xFC, 0xFD, 0xF8, 0xF8, 0, 0,    // 4:2:0, 8 bit
        0x0F, // one temporal layer, nested, 4-byte lengths
        3,
    ]);
    start.extend_from_slice(&[0xA0, 0, 1, 0, 24]);
    start.extend_from_slice(&HEVC_VPS_360P);
    start.extend_from_slice(&[0xA1, 0, 1, 0, 42]);
    start.extend_from_slice(&HEVC_SPS_360P);
    start.extend_from_slice(&[0xA2, 0, 1, 0, 7]);
    start.extend_from_slice(&HEVC_PPS_360P);
    assert_eq!(tags[0], start);
    assert_eq!(
        tags[1],
        [0x91, b'h', b'v', b'c', b'1', 0, 0, 40, 0, 0, 0, 3, 0x26, 0x01, 0xAF]
    );
    let inter = tagger
        .tags(&VideoFrame {
            annex_b: &annex_b(&[&[0x02, 0x01, 0xD0]]),
            key: false,
            composition_ms: 0,
        })
        .unwrap();
    assert_eq!(
        inter,
        vec![vec![
            0xA1, b'h', b'v', b'c', b'1', 0, 0, 0, 0, 0, 0, 3, 0x02, 0x01, 0xD0
        ]]
    );
}

#[test]
fn aac_goes_as_its_config_then_raw_frames() {
    let config = AacConfig {
        object_type: 2,
        sampling_index: 3,
        channel_config: 2,
    };
    assert_eq!(aac_sequence_header(&config), [0xAF, 0, 0x11, 0x90]);
    assert_eq!(config.sample_rate(), Some(48000));
    assert_eq!(aac_frame(&[0x21, 0x10]), [0xAF, 1, 0x21, 0x10]);
}

#[test]
fn metadata_is_a_set_data_frame_of_on_metadata() {
    let body = on_metadata(&Metadata {
        video: Some(VideoInfo {
            codec: VideoCodec::H264,
            width: Some(1280),
            height: Some(720),
        }),
        audio: Some(AudioInfo {
            sample_rate: Some(48000),
            channels: 2,
        }),
    });
    let values = decode_all(&body).unwrap();
    assert_eq!(values[0], Amf0Value::string("@setDataFrame"));
    assert_eq!(values[1], Amf0Value::string("onMetaData"));
    let props = &values[2];
    assert_eq!(props.get("videocodecid"), Some(&Amf0Value::Number(7.0)));
    assert_eq!(props.get("width"), Some(&Amf0Value::Number(1280.0)));
    assert_eq!(props.get("height"), Some(&Amf0Value::Number(720.0)));
    assert_eq!(props.get("audiocodecid"), Some(&Amf0Value::Number(10.0)));
    assert_eq!(
        props.get("audiosamplerate"),
        Some(&Amf0Value::Number(48000.0))
    );
    assert_eq!(props.get("stereo"), Some(&Amf0Value::Boolean(true)));

    let hevc = on_metadata(&Metadata {
        video: Some(VideoInfo {
            codec: VideoCodec::Hevc,
            width: None,
            height: None,
        }),
        audio: None,
    });
    let values = decode_all(&hevc).unwrap();
    assert_eq!(
        values[2].get("videocodecid"),
        Some(&Amf0Value::Number(f64::from(u32::from_be_bytes(*b"hvc1"))))
    );
    assert_eq!(values[2].get("audiocodecid"), None);
}

#[test]
fn parameter_sets_learnt_apart_serve_a_key_frame_without_them() {
    let mut tagger = VideoTagger::new(VideoCodec::H264);
    tagger.learn(&[&SPS_720P, &PPS_720P]).unwrap();
    let tags = tagger
        .tags(&VideoFrame {
            annex_b: &annex_b(&[&[0x65, 1]]),
            key: true,
            composition_ms: 0,
        })
        .unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(&tags[0][..2], &[0x17, 0]);
}
