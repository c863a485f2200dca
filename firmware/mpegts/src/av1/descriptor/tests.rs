//! Sequence headers written bit by bit from AV1 §5.5 (the bit strings
//! were concatenated by a separate script, field by field as listed), and
//! the descriptors worked out by hand from the carriage spec §2.

use super::super::sequence::SequenceHeader;
use super::*;

/// Profile 0, not still, full header: no timing info, no display delay,
/// one operating point (idc 0) at seq_level_idx 8 (level 4.0) with
/// seq_tier 1; frame size bits 9 and 8, max 320x240; no frame ids;
/// filter intra and intra edge on; order hint on (7 bits), screen
/// content and integer mv "select"; cdef and restoration on;
/// color_config: 8 bits, not mono, BT.709 primaries, transfer and
/// matrix, studio range, chroma_sample_position 2 (colocated);
/// trailing bits.
const HEADER_A: [u8; 14] = [
    0x00, 0x00, 0x00, 0x46, 0x1E, 0x7F, 0xDE, 0x61, 0x3C, 0xC8, 0x08, 0x08, 0x0A, 0x20,
];

/// Profile 2: timing info (1/60, equal intervals), a decoder model
/// (10-bit delays), display delays; two operating points, the first
/// (idc 0x101) at seq_level_idx 13 main tier with its model and
/// initial_display_delay_minus_1 3, the second (0x102) at level 5;
/// 3840x2160; no order hint; color_config: 12 bits, BT.2020 primaries,
/// PQ transfer (16), BT.2020 NCL matrix, full range, 4:4:4.
const HEADER_B: [u8; 34] = [
    0x44, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xF3, 0xA4, 0x00, 0x00, 0x00, 0x05, 0x29, 0x84,
    0x40, 0x5A, 0xA5, 0x86, 0x46, 0x62, 0x04, 0x52, 0xEF, 0xBF, 0xE1, 0xBC, 0xC0, 0x3D, 0x09, 0x10,
    0x09, 0x88,
];

/// Profile 1, still picture with the reduced header: seq_level_idx 0;
/// 64x64; 8 bits, no colour description (so nothing said about HDR).
const HEADER_C: [u8; 6] = [0x38, 0x15, 0x7F, 0xFC, 0x20, 0x40];

#[test]
fn registration_descriptor_names_av01() {
    // 05: registration_descriptor | 04: length | 'A' 'V' '0' '1'.
    assert_eq!(
        registration_descriptor(),
        [0x05, 0x04, 0x41, 0x56, 0x30, 0x31]
    );
}

#[test]
fn golden_descriptor_of_a_main_profile_stream() {
    let sh = SequenceHeader::parse(&HEADER_A).unwrap();
    assert_eq!((sh.max_frame_width, sh.max_frame_height), (320, 240));
    assert_eq!((sh.seq_level_idx_0, sh.seq_tier_0), (8, true));
    assert_eq!(sh.bit_depth(), 8);
    // 80: AV1_video_descriptor | 04: length | 81: marker 1, version 1 |
    // 08: seq_profile 000, seq_level_idx_0 01000 | 8E: seq_tier_0 1,
    // high_bitdepth 0, twelve_bit 0, monochrome 0, subsampling x 1 and
    // y 1, chroma_sample_position 10 | 00: hdr_wcg_idc 00 (BT.709 SDR),
    // reserved 0, no initial_presentation_delay, 0000.
    let golden = [0x80, 0x04, 0x81, 0x08, 0x8E, 0x00];
    let descriptor = Av1VideoDescriptor::from_sequence_header(&sh);
    assert_eq!(descriptor.emit(), golden);
    assert_eq!(Av1VideoDescriptor::parse(&golden[2..]), Some(descriptor));
    let info = es_info(&sh);
    assert_eq!(info[..6], registration_descriptor(), "registration first");
    assert_eq!(info[6..], golden);
}

#[test]
fn golden_descriptor_of_a_12_bit_hdr_stream() {
    let sh = SequenceHeader::parse(&HEADER_B).unwrap();
    assert_eq!((sh.max_frame_width, sh.max_frame_height), (3840, 2160));
    assert_eq!((sh.seq_level_idx_0, sh.seq_tier_0), (13, false));
    assert_eq!(sh.initial_display_delay_minus_1_0, Some(3));
    assert_eq!(sh.bit_depth(), 12);
    assert_eq!((sh.subsampling_x, sh.subsampling_y), (false, false));
    // 81 | 4D: profile 010, level 01101 | 60: tier 0, high_bitdepth 1,
    // twelve_bit 1, mono 0, 4:4:4 (0, 0), position 00 | 93: hdr_wcg_idc
    // 10 (BT.2020 and PQ), reserved 0, delay present 1, delay 0011.
    let golden = [0x80, 0x04, 0x81, 0x4D, 0x60, 0x93];
    let descriptor = Av1VideoDescriptor::from_sequence_header(&sh);
    assert_eq!(descriptor.emit(), golden);
    assert_eq!(Av1VideoDescriptor::parse(&golden[2..]), Some(descriptor));
}

#[test]
fn golden_descriptor_of_a_reduced_still_picture_header() {
    let sh = SequenceHeader::parse(&HEADER_C).unwrap();
    assert!(sh.still_picture && sh.reduced_still_picture_header);
    assert_eq!((sh.max_frame_width, sh.max_frame_height), (64, 64));
    // 81 | 20: profile 001, level 00000 | 00: tier 0 (inferred), 8 bits,
    // profile 1 is never mono, 4:4:4 | C0: hdr_wcg_idc 11 (no colour
    // description: no indication).
    let golden = [0x80, 0x04, 0x81, 0x20, 0x00, 0xC0];
    assert_eq!(Av1VideoDescriptor::from_sequence_header(&sh).emit(), golden);
}

#[test]
fn short_or_reserved_headers_are_refused() {
    for len in 0..HEADER_A.len() - 1 {
        assert!(SequenceHeader::parse(&HEADER_A[..len]).is_err(), "{len}");
    }
    let mut reserved = HEADER_A;
    reserved[0] = 0x60; // seq_profile 3
    assert_eq!(
        SequenceHeader::parse(&reserved),
        Err(crate::av1::Av1Error::ReservedProfile(3))
    );
    assert_eq!(Av1VideoDescriptor::parse(&[0x01, 0, 0, 0]), None);
    assert_eq!(Av1VideoDescriptor::parse(&[0x81, 0, 0]), None);
}

#[test]
fn hdr_and_gamut_follow_the_colour_description() {
    assert_eq!(hdr_wcg_idc(1, 1), hdr_wcg::SDR);
    assert_eq!(hdr_wcg_idc(9, 14), hdr_wcg::WCG_ONLY);
    assert_eq!(hdr_wcg_idc(9, 18), hdr_wcg::HDR_AND_WCG);
    assert_eq!(hdr_wcg_idc(1, 16), hdr_wcg::NO_INDICATION);
    assert_eq!(hdr_wcg_idc(2, 2), hdr_wcg::NO_INDICATION);
}
