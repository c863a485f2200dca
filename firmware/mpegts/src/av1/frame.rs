//! Which temporal units a decoder can start at: those with a sequence
//! header whose first frame is a key frame (AV1 §7.5: a temporal unit
//! with a sequence header and a key frame is a random access point).

use super::obu::{obu_type, obus};
use super::sequence::SequenceHeader;

/// frame_type KEY_FRAME (AV1 §6.8.2).
const KEY_FRAME: u8 = 0;

/// Whether a temporal unit (low-overhead format) starts with a key frame
/// and carries the sequence header to decode it. A key frame that is not
/// shown yet (a delayed key frame) counts: decoding starts at it. Bytes
/// that do not read as OBUs make it not a key unit.
pub fn is_key_temporal_unit(tu: &[u8]) -> bool {
    let Some(sequence) = SequenceHeader::find(tu) else {
        return false;
    };
    let first_frame = obus(tu)
        .map_while(Result::ok)
        .find(|obu| matches!(obu.obu_type, obu_type::FRAME | obu_type::FRAME_HEADER));
    let Some(frame) = first_frame else {
        return false;
    };
    if sequence.reduced_still_picture_header {
        return true; // always a shown key frame (AV1 §5.9.2)
    }
    // uncompressed_header(): show_existing_frame f(1), frame_type f(2).
    frame
        .payload
        .first()
        .is_some_and(|&b| b & 0x80 == 0 && (b >> 5) & 0x03 == KEY_FRAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sequence header OBU (type 1, has_size) around the payload of
    /// HEADER_C from the descriptor tests (a reduced still header) or a
    /// full one (profile 0, level 0, 16x16, no reduced header).
    fn sequence_obu(reduced: bool) -> Vec<u8> {
        let payload: &[u8] = if reduced {
            &[0x38, 0x15, 0x7F, 0xFC, 0x20, 0x40]
        } else {
            // profile 000, still 0, reduced 0, no timing info, no display
            // delay, one operating point (idc 0, level 0); frame size bits
            // 4 and 4, max 16x16; every tool flag 0 (no order hint, screen
            // content forced off); color_config all 0 (8 bits, 4:2:0,
            // position 0); trailing bits. Concatenated by the script of
            // the descriptor tests.
            &[0x00, 0x00, 0x00, 0x01, 0x9F, 0xF8, 0x00, 0x00, 0x10]
        };
        [&[0x0A, payload.len() as u8][..], payload].concat()
    }

    fn frame_obu(first_byte: u8) -> Vec<u8> {
        vec![0x32, 0x02, first_byte, 0x55]
    }

    #[test]
    fn key_units_have_a_sequence_header_and_a_key_frame() {
        let td = [0x12, 0x00];
        let full = sequence_obu(false);
        let key = [&td[..], &full, &frame_obu(0x10)].concat(); // 0 00 1...: key, shown
        let hidden_key = [&td[..], &full, &frame_obu(0x00)].concat();
        let inter = [&td[..], &full, &frame_obu(0x30)].concat(); // frame_type 01
        let shown_existing = [&td[..], &full, &frame_obu(0x80)].concat();
        let no_header = [&td[..], &frame_obu(0x10)].concat();
        assert!(SequenceHeader::find(&key).is_some());
        assert!(is_key_temporal_unit(&key));
        assert!(is_key_temporal_unit(&hidden_key));
        assert!(!is_key_temporal_unit(&inter));
        assert!(!is_key_temporal_unit(&shown_existing));
        assert!(!is_key_temporal_unit(&no_header));
        let still = [&sequence_obu(true)[..], &frame_obu(0xFF)].concat();
        assert!(is_key_temporal_unit(&still));
        assert!(!is_key_temporal_unit(&[0x32, 0x09]));
    }
}
