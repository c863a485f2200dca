//! Closed captions in the video elementary stream, the way ATSC carries
//! them: the cc_data() of A/53 Part 4 behind the "GA94" identifier, in
//! whatever the codec has for user data.
//!
//! - H.264 and HEVC (A/72): a user_data_registered_itu_t_t35 SEI message
//!   (payloadType 4: country code 0xB5, provider code 0x0031, "GA94",
//!   user_data_type_code 3, cc_data) in its own SEI NAL unit (H.264 type
//!   6, HEVC prefix SEI), just before the picture's first slice.
//! - MPEG-2 video (A/53 Part 4): picture user data, `00 00 01 B2`, "GA94",
//!   3, cc_data, after the picture's extensions and before its first
//!   slice.
//! - AV1: a metadata OBU of type ITU-T T.35 (AV1 §6.7.2) with the same
//!   bytes as the SEI message, before the frame's header.
//!
//! [`insert`] adds one picture's captions to an access unit as an encoder
//! left it (Annex B; MPEG-2 start codes; AV1 low-overhead OBUs);
//! [`find`] reads them back. Neither panics, whatever the bytes: an access
//! unit with no picture to hang them on is an error.

use makara_media::{Captions, VideoCodec};

use crate::av1::obu::{obu_type, obus, write_leb128};
use crate::es::nal::{h264, hevc, nal_units, unescape};

/// itu_t_t35_country_code of the United States.
const T35_COUNTRY_US: u8 = 0xB5;
/// itu_t_t35_provider_code of ATSC.
const T35_PROVIDER_ATSC: [u8; 2] = [0x00, 0x31];
const ATSC_IDENTIFIER: [u8; 4] = *b"GA94";
/// user_data_type_code of cc_data().
const CC_DATA_TYPE: u8 = 0x03;
/// SEI payloadType user_data_registered_itu_t_t35.
const SEI_ITU_T_T35: u8 = 4;
/// AV1 metadata_type METADATA_TYPE_ITUT_T35.
const AV1_METADATA_ITUT_T35: u8 = 4;
const MPEG2_USER_DATA: u8 = 0xB2;
const MPEG2_PICTURE: u8 = 0x00;
/// MPEG-2 slice start codes are 01 to AF.
const MPEG2_SLICES: core::ops::RangeInclusive<u8> = 0x01..=0xAF;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaptionError {
    #[error("the access unit holds no picture to carry captions with")]
    NoPicture,
    #[error("the access unit's OBUs cannot be read")]
    BadObus,
}

/// `au` with `captions` added for its picture. `au` itself when there are
/// none.
pub fn insert(codec: VideoCodec, au: &[u8], captions: &Captions) -> Result<Vec<u8>, CaptionError> {
    if captions.is_empty() {
        return Ok(au.to_vec());
    }
    match codec {
        VideoCodec::H264 | VideoCodec::Hevc => insert_sei(codec, au, captions),
        VideoCodec::Mpeg2 => insert_user_data(au, captions),
        VideoCodec::Av1 => insert_metadata_obu(au, captions),
    }
}

/// The captions an access unit carries, all its cc_data in order; none
/// when it has none or they cannot be read.
pub fn find(codec: VideoCodec, au: &[u8]) -> Captions {
    let mut found = Captions::none();
    let mut take = |payload: &[u8]| {
        for triplet in cc_data_of(payload).chunks_exact(3) {
            found.push([triplet[0], triplet[1], triplet[2]]);
        }
    };
    match codec {
        VideoCodec::H264 | VideoCodec::Hevc => {
            let header = if codec == VideoCodec::H264 { 1 } else { 2 };
            for nal in nal_units(au).filter(|n| is_sei(codec, n)) {
                // An SEI cut short inside its NAL header (HEVC's is two
                // bytes) carries nothing.
                let Some(escaped) = nal.get(header..) else {
                    continue;
                };
                let rbsp = unescape(escaped);
                for_each_t35_sei(&rbsp, |p| take(strip_t35_prefix(p)));
            }
        }
        VideoCodec::Mpeg2 => {
            for unit in start_code_units(au) {
                if unit.first() == Some(&MPEG2_USER_DATA) {
                    take(&unit[1..]);
                }
            }
        }
        VideoCodec::Av1 => {
            for obu in obus(au).map_while(Result::ok) {
                if obu.obu_type == obu_type::METADATA {
                    if let [AV1_METADATA_ITUT_T35, T35_COUNTRY_US, rest @ ..] = obu.payload {
                        take(strip_t35_provider(rest));
                    }
                }
            }
        }
    }
    found
}

/// cc_data() (A/53 Part 4 Table 6.9): reserved '1', process_cc_data_flag
/// '1', zero_bit, cc_count; reserved 0xFF; the triplets; marker 0xFF.
fn write_cc_data(captions: &Captions, out: &mut Vec<u8>) {
    out.push(0xC0 | captions.count() as u8);
    out.push(0xFF);
    out.extend_from_slice(captions.cc_data());
    out.push(0xFF);
}

/// The ATSC user data after the T.35 country code: provider, "GA94",
/// type 3, cc_data.
fn write_atsc_t35(captions: &Captions, out: &mut Vec<u8>) {
    out.extend_from_slice(&T35_PROVIDER_ATSC);
    out.extend_from_slice(&ATSC_IDENTIFIER);
    out.push(CC_DATA_TYPE);
    write_cc_data(captions, out);
}

/// The triplets of "GA94", 3, cc_data(), if `bytes` is that; the count
/// is held to the bytes there are.
fn cc_data_of(bytes: &[u8]) -> &[u8] {
    let [b'G', b'A', b'9', b'4', CC_DATA_TYPE, flags, _reserved, rest @ ..] = bytes else {
        return &[];
    };
    if flags & 0x40 == 0 {
        return &[];
    }
    let len = (usize::from(flags & 0x1F) * 3).min(rest.len() / 3 * 3);
    &rest[..len]
}

fn strip_t35_provider(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_prefix(&T35_PROVIDER_ATSC[..])
        .unwrap_or_default()
}

fn strip_t35_prefix(bytes: &[u8]) -> &[u8] {
    match bytes.split_first() {
        Some((&T35_COUNTRY_US, rest)) => strip_t35_provider(rest),
        _ => &[],
    }
}

// H.264 and HEVC.

/// nal_unit_type: the low 5 bits of the first byte for H.264, bits 6..1
/// for HEVC.
fn nal_type(codec: VideoCodec, nal: &[u8]) -> Option<u8> {
    let first = *nal.first()?;
    match codec {
        VideoCodec::H264 => Some(first & 0x1F),
        _ => Some((first >> 1) & 0x3F),
    }
}

fn is_sei(codec: VideoCodec, nal: &[u8]) -> bool {
    let sei = match codec {
        VideoCodec::H264 => h264::SEI,
        _ => hevc::PREFIX_SEI,
    };
    nal_type(codec, nal) == Some(sei)
}

/// A VCL NAL unit: a slice (H.264 types 1-5, HEVC 0-31).
fn is_slice(codec: VideoCodec, nal: &[u8]) -> bool {
    match (codec, nal_type(codec, nal)) {
        (VideoCodec::H264, Some(t)) => (1..=5).contains(&t),
        (VideoCodec::Hevc, Some(t)) => t <= 31,
        _ => false,
    }
}

fn insert_sei(codec: VideoCodec, au: &[u8], captions: &Captions) -> Result<Vec<u8>, CaptionError> {
    let first_slice = nal_units(au)
        .find(|nal| is_slice(codec, nal))
        .ok_or(CaptionError::NoPicture)?;
    // Where the slice's start code begins: `first_slice` borrows from `au`.
    let slice_at = first_slice.as_ptr() as usize - au.as_ptr() as usize;
    let start_code_at = slice_at - 3 - usize::from(slice_at >= 4 && au[slice_at - 4] == 0);
    let mut out = Vec::with_capacity(au.len() + 16 + captions.count() * 3);
    out.extend_from_slice(&au[..start_code_at]);
    out.extend_from_slice(&[0, 0, 0, 1]);
    match codec {
        VideoCodec::H264 => out.push(h264::SEI),
        // The SEI takes the picture's TemporalId (nuh_temporal_id_plus1).
        _ => out.extend_from_slice(&[
            hevc::PREFIX_SEI << 1,
            first_slice.get(1).map_or(1, |b| b & 7),
        ]),
    }
    let mut rbsp = vec![SEI_ITU_T_T35];
    let mut payload = vec![T35_COUNTRY_US];
    write_atsc_t35(captions, &mut payload);
    // At most 31 triplets: 100 bytes, one byte of payloadSize.
    rbsp.push(payload.len() as u8);
    rbsp.extend_from_slice(&payload);
    rbsp.push(0x80);
    escape(&rbsp, &mut out);
    out.extend_from_slice(&au[start_code_at..]);
    Ok(out)
}

/// The payload of each user_data_registered_itu_t_t35 message of an SEI
/// RBSP.
fn for_each_t35_sei(mut rbsp: &[u8], mut each: impl FnMut(&[u8])) {
    while rbsp.first().is_some_and(|&b| b != 0x80) {
        let (Some(kind), Some(size)) = (sei_number(&mut rbsp), sei_number(&mut rbsp)) else {
            return;
        };
        let Some(payload) = rbsp.get(..size) else {
            return;
        };
        if kind == usize::from(SEI_ITU_T_T35) {
            each(payload);
        }
        rbsp = &rbsp[size..];
    }
}

fn sei_number(bytes: &mut &[u8]) -> Option<usize> {
    let mut value = 0usize;
    loop {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value = value.saturating_add(usize::from(b));
        if b != 0xFF {
            return Some(value);
        }
    }
}

/// Emulation prevention (H.264 7.4.1): a 03 after two zeros before any
/// byte of 0-3.
fn escape(rbsp: &[u8], out: &mut Vec<u8>) {
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
}

// MPEG-2 video.

/// What follows each `00 00 01` in turn (the start code's value first),
/// up to the next.
fn start_code_units(es: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = find_start_code(es, 0);
    core::iter::from_fn(move || {
        let begin = at? + 3;
        at = find_start_code(es, begin);
        Some(&es[begin..at.unwrap_or(es.len())])
    })
}

fn find_start_code(es: &[u8], from: usize) -> Option<usize> {
    es.get(from..)?
        .windows(3)
        .position(|w| w == [0, 0, 1])
        .map(|i| from + i)
}

fn insert_user_data(es: &[u8], captions: &Captions) -> Result<Vec<u8>, CaptionError> {
    let mut at = find_start_code(es, 0);
    let mut in_picture = false;
    let slice_at = loop {
        let code_at = at.ok_or(CaptionError::NoPicture)?;
        match es.get(code_at + 3) {
            Some(&MPEG2_PICTURE) => in_picture = true,
            Some(code) if in_picture && MPEG2_SLICES.contains(code) => break code_at,
            _ => {}
        }
        at = find_start_code(es, code_at + 3);
    };
    let mut out = Vec::with_capacity(es.len() + 16 + captions.count() * 3);
    out.extend_from_slice(&es[..slice_at]);
    out.extend_from_slice(&[0, 0, 1, MPEG2_USER_DATA]);
    out.extend_from_slice(&ATSC_IDENTIFIER);
    out.push(CC_DATA_TYPE);
    write_cc_data(captions, &mut out);
    out.extend_from_slice(&es[slice_at..]);
    Ok(out)
}

// AV1.

fn insert_metadata_obu(tu: &[u8], captions: &Captions) -> Result<Vec<u8>, CaptionError> {
    let mut out = Vec::with_capacity(tu.len() + 16 + captions.count() * 3);
    let mut inserted = false;
    for obu in obus(tu) {
        let obu = obu.map_err(|_| CaptionError::BadObus)?;
        let picture = matches!(obu.obu_type, obu_type::FRAME_HEADER | obu_type::FRAME);
        if picture && !inserted {
            write_metadata_obu(captions, &mut out);
            inserted = true;
        }
        out.extend_from_slice(obu.bytes);
    }
    if !inserted {
        return Err(CaptionError::NoPicture);
    }
    Ok(out)
}

/// obu_header (type 5, obu_has_size_field), obu_size, metadata_type,
/// the T.35 bytes, trailing_bits.
fn write_metadata_obu(captions: &Captions, out: &mut Vec<u8>) {
    let mut payload = vec![AV1_METADATA_ITUT_T35, T35_COUNTRY_US];
    write_atsc_t35(captions, &mut payload);
    payload.push(0x80);
    out.push((obu_type::METADATA << 3) | 0x02);
    write_leb128(payload.len(), out);
    out.extend_from_slice(&payload);
}

#[cfg(test)]
mod tests;
