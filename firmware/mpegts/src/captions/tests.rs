use makara_media::{Captions, VideoCodec};

use super::*;

/// A CEA-608 control code on field 1 and a CEA-708 padding triplet.
fn captions() -> Captions {
    Captions::from_cc_data(&[0xFC, 0x94, 0x20, 0xFA, 0x00, 0x00])
}

/// The ATSC T.35 bytes of `captions()`, after the country code.
const ATSC: [u8; 16] = [
    0x00, 0x31, b'G', b'A', b'9', b'4', 0x03, 0xC2, 0xFF, 0xFC, 0x94, 0x20, 0xFA, 0x00, 0x00, 0xFF,
];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn h264_sei_goes_just_before_the_first_slice() {
    let aud: &[u8] = &[0, 0, 0, 1, 0x09, 0xF0];
    let sps: &[u8] = &[0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1E];
    let slice: &[u8] = &[0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21];
    let au = cat(&[aud, sps, slice]);
    let out = insert(VideoCodec::H264, &au, &captions()).unwrap();
    let sei = cat(&[&[0, 0, 0, 1, 0x06, 0x04, 17, 0xB5], &ATSC, &[0x80]]);
    assert_eq!(out, cat(&[aud, sps, &sei, slice]));
    assert_eq!(find(VideoCodec::H264, &out), captions());
}

#[test]
fn hevc_prefix_sei_takes_the_pictures_temporal_id() {
    let vps: &[u8] = &[0, 0, 0, 1, 0x40, 0x01, 0x0C];
    // An IDR_W_RADL slice (type 19) with TemporalId 0; then a TRAIL_R
    // picture (type 1) with TemporalId 2.
    let idr: &[u8] = &[0, 0, 1, 0x26, 0x01, 0xAF];
    let out = insert(VideoCodec::Hevc, &cat(&[vps, idr]), &captions()).unwrap();
    let sei = cat(&[&[0, 0, 0, 1, 0x4E, 0x01, 0x04, 17, 0xB5], &ATSC, &[0x80]]);
    assert_eq!(out, cat(&[vps, &sei, idr]));
    let trail: &[u8] = &[0, 0, 1, 0x02, 0x03, 0xD0];
    let out = insert(VideoCodec::Hevc, trail, &captions()).unwrap();
    assert_eq!(&out[4..6], &[0x4E, 0x03]);
    assert_eq!(find(VideoCodec::Hevc, &out), captions());
}

#[test]
fn emulation_prevention_escapes_what_could_look_like_a_start_code() {
    let mut out = Vec::new();
    escape(
        &[0x04, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x04],
        &mut out,
    );
    assert_eq!(
        out,
        [0x04, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x04]
    );
}

#[test]
fn mpeg2_user_data_goes_after_the_picture_extensions() {
    let sequence: &[u8] = &[0, 0, 1, 0xB3, 0x14, 0x00, 0xF0];
    let picture: &[u8] = &[0, 0, 1, 0x00, 0x00, 0x0F, 0xFF, 0xF8];
    let coding_extension: &[u8] = &[0, 0, 1, 0xB5, 0x8F, 0xFF, 0xF3];
    let slice: &[u8] = &[0, 0, 1, 0x01, 0x13, 0xF8];
    let es = cat(&[sequence, picture, coding_extension, slice]);
    let out = insert(VideoCodec::Mpeg2, &es, &captions()).unwrap();
    let user_data = cat(&[&[0, 0, 1, 0xB2], &ATSC[2..]]);
    assert_eq!(
        out,
        cat(&[sequence, picture, coding_extension, &user_data, slice])
    );
    assert_eq!(find(VideoCodec::Mpeg2, &out), captions());
}

#[test]
fn av1_metadata_obu_goes_before_the_frame() {
    let delimiter: &[u8] = &[0x12, 0x00];
    let sequence_header: &[u8] = &[0x0A, 0x02, 0x00, 0x00];
    let frame: &[u8] = &[0x32, 0x03, 0x10, 0x20, 0x30];
    let tu = cat(&[delimiter, sequence_header, frame]);
    let out = insert(VideoCodec::Av1, &tu, &captions()).unwrap();
    let metadata = cat(&[&[0x2A, 19, 0x04, 0xB5], &ATSC, &[0x80]]);
    assert_eq!(out, cat(&[delimiter, sequence_header, &metadata, frame]));
    assert_eq!(find(VideoCodec::Av1, &out), captions());
}

#[test]
fn no_captions_leave_the_unit_as_it_was() {
    let au = [0, 0, 1, 0x65, 0x88];
    assert_eq!(
        insert(VideoCodec::H264, &au, &Captions::none()).unwrap(),
        au
    );
    assert!(find(VideoCodec::H264, &au).is_empty());
}

#[test]
fn a_unit_without_a_picture_is_refused() {
    let sps_only = [0, 0, 0, 1, 0x67, 0x42];
    let refused = insert(VideoCodec::H264, &sps_only, &captions());
    assert_eq!(refused, Err(CaptionError::NoPicture));
    let sequence_only = [0, 0, 1, 0xB3, 0x14];
    let refused = insert(VideoCodec::Mpeg2, &sequence_only, &captions());
    assert_eq!(refused, Err(CaptionError::NoPicture));
    let broken = [0x32, 0x7F];
    let refused = insert(VideoCodec::Av1, &broken, &captions());
    assert_eq!(refused, Err(CaptionError::BadObus));
}

#[test]
fn thirty_one_triplets_fit_one_message() {
    let full = Captions::from_cc_data(&[0xFC, 0x80, 0x80].repeat(31));
    let out = insert(VideoCodec::H264, &[0, 0, 1, 0x65, 0x88], &full).unwrap();
    assert_eq!(find(VideoCodec::H264, &out), full);
}

/// es_demux fuzz crash: a unit cut right after the first byte of an HEVC
/// prefix SEI's two-byte NAL header made `find` slice past its end.
#[test]
fn an_sei_cut_inside_its_nal_header_carries_nothing() {
    assert!(find(VideoCodec::Hevc, &[0, 0, 1, 0x4E]).is_empty());
    assert!(find(VideoCodec::H264, &[0, 0, 1, 0x06]).is_empty());
    // The unit around it still takes captions, and gives them back.
    let au = [0, 0, 1, 0x26, 0x01, 0xAF, 0, 0, 1, 0x4E];
    assert!(find(VideoCodec::Hevc, &au).is_empty());
    let out = insert(VideoCodec::Hevc, &au, &captions()).unwrap();
    assert_eq!(find(VideoCodec::Hevc, &out), captions());
}
