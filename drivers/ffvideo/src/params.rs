//! The parameter sets inside a keyframe's access unit: what `headers()`
//! returns and what marks an intra-refresh cycle's start.
//!
//! Sans-IO byte scanning with no panics on any input:
//! - HEVC (Annex B, ITU-T H.265 §7.4.2.2): the VPS, SPS and PPS NAL units
//!   (types 32, 33, 34), each after a 4-byte start code;
//! - MPEG-2 video (ISO/IEC 13818-2 §6.2.2): the sequence header and what
//!   follows it up to the GOP header or first picture (its extensions
//!   and user data);
//! - AV1 (low-overhead OBUs, AV1 spec §5.3): the sequence header OBU.

use makara_media::VideoCodec;

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The codec's parameter sets found in `access_unit`, or `None` when it
/// carries none.
pub(crate) fn parameter_sets(codec: VideoCodec, access_unit: &[u8]) -> Option<Vec<u8>> {
    let found = match codec {
        VideoCodec::Hevc | VideoCodec::H264 => hevc_parameter_sets(access_unit),
        VideoCodec::Mpeg2 => mpeg2_sequence_header(access_unit).map(<[u8]>::to_vec),
        VideoCodec::Av1 => av1_sequence_header(access_unit).map(<[u8]>::to_vec),
    }?;
    (!found.is_empty()).then_some(found)
}

/// The payloads between Annex B start codes (3 or 4 bytes), in order.
fn start_code_units(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).map_or(data.len(), |&next| {
                // The next unit's start code, and a 4-byte code's leading zero.
                let mut end = next - 3;
                while end > start && data[end - 1] == 0 {
                    end -= 1;
                }
                end
            });
            &data[start..end]
        })
        .collect()
}

const HEVC_VPS: u8 = 32;
const HEVC_PPS: u8 = 34;

fn hevc_nal_type(unit: &[u8]) -> Option<u8> {
    unit.first().map(|b| (b >> 1) & 0x3f)
}

fn hevc_parameter_sets(access_unit: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for unit in start_code_units(access_unit) {
        if matches!(hevc_nal_type(unit), Some(HEVC_VPS..=HEVC_PPS)) {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(unit);
        }
    }
    Some(out)
}

/// Whether an HEVC access unit carries a VPS: with repeated headers,
/// x265 writes one at every keyframe and every intra-refresh cycle's start.
pub(crate) fn hevc_has_vps(access_unit: &[u8]) -> bool {
    start_code_units(access_unit)
        .into_iter()
        .any(|unit| hevc_nal_type(unit) == Some(HEVC_VPS))
}

const MPEG2_SEQUENCE_HEADER: u8 = 0xb3;
const MPEG2_USER_DATA: u8 = 0xb2;
const MPEG2_EXTENSION: u8 = 0xb5;

fn mpeg2_sequence_header(data: &[u8]) -> Option<&[u8]> {
    let begin = data
        .windows(4)
        .position(|w| w == [0, 0, 1, MPEG2_SEQUENCE_HEADER])?;
    let rest = &data[begin + 4..];
    let end = rest
        .windows(4)
        .position(|w| w[..3] == [0, 0, 1] && !matches!(w[3], MPEG2_USER_DATA | MPEG2_EXTENSION))
        .map_or(data.len(), |at| begin + 4 + at);
    Some(&data[begin..end])
}

const OBU_SEQUENCE_HEADER: u8 = 1;

/// One OBU at the start of `data`: its type and whole length (header,
/// size field and payload); `None` if it has no size field or is cut.
fn obu(data: &[u8]) -> Option<(u8, usize)> {
    let header = *data.first()?;
    let kind = (header >> 3) & 0x0f;
    let has_extension = header & 0x04 != 0;
    let has_size = header & 0x02 != 0;
    if !has_size {
        return None;
    }
    let mut at = 1 + usize::from(has_extension);
    let (size, used) = leb128(data.get(at..)?)?;
    at += used;
    let end = at.checked_add(usize::try_from(size).ok()?)?;
    (end <= data.len()).then_some((kind, end))
}

/// An unsigned LEB128 value (AV1 spec §4.10.5: at most 8 bytes) and how
/// many bytes it took.
fn leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn av1_sequence_header(temporal_unit: &[u8]) -> Option<&[u8]> {
    let mut rest = temporal_unit;
    while !rest.is_empty() {
        let (kind, len) = obu(rest)?;
        if kind == OBU_SEQUENCE_HEADER {
            return Some(&rest[..len]);
        }
        rest = &rest[len..];
    }
    None
}

/// The OBU types of a temporal unit in order, for tests.
#[cfg(test)]
pub(crate) fn obu_types(temporal_unit: &[u8]) -> Option<Vec<u8>> {
    let mut rest = temporal_unit;
    let mut kinds = Vec::new();
    while !rest.is_empty() {
        let (kind, len) = obu(rest)?;
        kinds.push(kind);
        rest = &rest[len..];
    }
    Some(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hevc_parameter_sets_come_out_with_4_byte_start_codes() {
        let au = [
            0, 0, 0, 1, 0x46, 0x01, 0x10, // AUD (35)
            0, 0, 0, 1, 0x40, 0x01, 0xaa, // VPS
            0, 0, 1, 0x42, 0x01, 0xbb, 0xbc, // SPS after a 3-byte code
            0, 0, 0, 1, 0x44, 0x01, 0xcc, // PPS
            0, 0, 0, 1, 0x4e, 0x01, 0x05, // SEI (39)
            0, 0, 0, 1, 0x28, 0x01, 0xdd, // IDR_N_LP (20)
        ];
        assert_eq!(
            parameter_sets(VideoCodec::Hevc, &au).unwrap(),
            [
                0, 0, 0, 1, 0x40, 0x01, 0xaa, 0, 0, 0, 1, 0x42, 0x01, 0xbb, 0xbc, 0, 0, 0, 1, 0x44,
                0x01, 0xcc
            ]
        );
        assert!(hevc_has_vps(&au));
        let p_slice = [0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x02, 0x01, 0xee];
        assert_eq!(parameter_sets(VideoCodec::Hevc, &p_slice), None);
        assert!(!hevc_has_vps(&p_slice));
    }

    #[test]
    fn mpeg2_sequence_header_runs_to_the_gop_header() {
        let es = [
            0, 0, 1, 0xb3, 0x14, 0x00, 0xf0, // sequence header (cut short)
            0, 0, 1, 0xb5, 0x14, 0x8a, // sequence extension
            0, 0, 1, 0xb2, 0x41, // user data
            0, 0, 1, 0xb8, 0x00, 0x08, // GOP header
            0, 0, 1, 0x00, 0x00, 0x0f, // picture
        ];
        assert_eq!(
            parameter_sets(VideoCodec::Mpeg2, &es).unwrap(),
            &es[..18],
            "header, extension and user data"
        );
        assert_eq!(parameter_sets(VideoCodec::Mpeg2, &es[18..]), None);
    }

    #[test]
    fn av1_sequence_header_obu_is_found_after_the_temporal_delimiter() {
        let tu = [
            0x12, 0x00, // temporal delimiter, size 0
            0x0a, 0x03, 0x00, 0x00, 0x00, // sequence header, size 3
            0x32, 0x02, 0xaa, 0xbb, // frame, size 2
        ];
        assert_eq!(
            parameter_sets(VideoCodec::Av1, &tu).unwrap(),
            [0x0a, 0x03, 0x00, 0x00, 0x00]
        );
        assert_eq!(obu_types(&tu), Some(vec![2, 1, 6]));
        assert_eq!(
            parameter_sets(VideoCodec::Av1, &[0x12, 0x00, 0x32, 0x01, 0xaa]),
            None
        );
    }

    #[test]
    fn cut_or_sizeless_obus_are_not_read_past_the_end() {
        assert_eq!(parameter_sets(VideoCodec::Av1, &[0x0a, 0x05, 0x00]), None);
        assert_eq!(parameter_sets(VideoCodec::Av1, &[0x08, 0x00]), None);
        assert_eq!(parameter_sets(VideoCodec::Av1, &[0x0a, 0xff]), None);
        assert_eq!(leb128(&[0x80, 0x01]), Some((128, 2)));
    }
}
