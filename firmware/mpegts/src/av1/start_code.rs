//! The carriage spec's start-code based format (§3.2): each OBU becomes a
//! ts_open_bitstream_unit, a `00 00 01` obu_start_code and the OBU's bytes
//! with an emulation_prevention_three_byte (03) after any two zero bytes
//! followed by a byte of 0-3, so that neither `00 00 00`, `00 00 01`,
//! `00 00 02` nor `00 00 03 xx` with xx > 3 occurs inside it.
//!
//! Choices the spec leaves open, and why:
//!
//! - obu_size is kept ("recommended" by §3.1 for conversion to MP4, and
//!   what the encoder wrote): an OBU is carried byte for byte.
//! - The temporal delimiter is kept (§3.1 allows removing it): a PES
//!   holds exactly the encoder's temporal unit, and a reader converting
//!   back needs nothing inserted.
//! - An OBU is the bytes up to the next start code; trailing zero bytes
//!   are part of it (a temporal delimiter ends in its obu_size, 00), not
//!   H.264-style trailing_zero_8bits.
//!
//! Reading back ([`to_low_overhead`]) accepts what the spec allows
//! writers: OBUs without obu_size (given one), and a temporal unit
//! without its delimiter (given one).

use super::obu::{obu_type, Obu, TEMPORAL_DELIMITER};
use super::Av1Error;

const START_CODE: [u8; 3] = [0, 0, 1];
const EMULATION_PREVENTION: u8 = 0x03;

/// Appends a temporal unit in the low-overhead format (`tu`) to `out` in
/// the start-code based format. On error `out` is left as it was.
pub fn from_low_overhead(tu: &[u8], out: &mut Vec<u8>) -> Result<(), Av1Error> {
    let start = out.len();
    for obu in super::obu::obus(tu) {
        let obu = match obu {
            Ok(obu) => obu,
            Err(e) => {
                out.truncate(start);
                return Err(e);
            }
        };
        out.extend_from_slice(&START_CODE);
        escape(obu.bytes, out);
    }
    Ok(())
}

/// The bytes of `obu` with emulation prevention (§3.2).
fn escape(obu: &[u8], out: &mut Vec<u8>) {
    let mut zeros = 0;
    for &b in obu {
        if zeros >= 2 && b <= EMULATION_PREVENTION {
            out.push(EMULATION_PREVENTION);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
}

/// The OBUs of a start-code based payload, each with its emulation
/// prevention removed. The payload must begin with a start code (the PES
/// is data-aligned, §3.4); each OBU runs to the next start code.
pub fn ts_obus(payload: &[u8]) -> impl Iterator<Item = Result<Vec<u8>, Av1Error>> + '_ {
    let mut rest = match payload.get(..3) {
        Some(code) if code == START_CODE => Ok(&payload[3..]),
        _ => Err(Av1Error::NoStartCode),
    };
    core::iter::from_fn(move || {
        let bytes = match rest {
            Ok([]) => return None,
            Ok(bytes) => bytes,
            Err(e) => {
                rest = Ok(&[]);
                return Some(Err(e));
            }
        };
        let (unit, after) = match find_start_code(bytes) {
            Some(at) => (&bytes[..at], &bytes[at + 3..]),
            None => (bytes, &[][..]),
        };
        rest = Ok(after);
        if unit.is_empty() {
            return Some(Err(Av1Error::EmptyObu));
        }
        Some(Ok(unescape(unit)))
    })
}

/// A start-code based temporal unit (a PES payload) in the low-overhead
/// format: a temporal delimiter first, every OBU with obu_size.
pub fn to_low_overhead(payload: &[u8]) -> Result<Vec<u8>, Av1Error> {
    let mut out = Vec::with_capacity(payload.len() + TEMPORAL_DELIMITER.len());
    for (i, bytes) in ts_obus(payload).enumerate() {
        let bytes = bytes?;
        let obu = Obu::parse(&bytes)?;
        if i == 0 && obu.obu_type != obu_type::TEMPORAL_DELIMITER {
            out.extend_from_slice(&TEMPORAL_DELIMITER);
        }
        // Bytes after an OBU's own obu_size (a writer's 4-byte start
        // codes leave a 00 there) are not part of it.
        obu.write_sized(&mut out);
    }
    Ok(out)
}

/// Where the next `00 00 01` begins.
fn find_start_code(bytes: &[u8]) -> Option<usize> {
    bytes.windows(3).position(|w| w == START_CODE)
}

/// Removes each emulation_prevention_three_byte: a 03 after two zeros.
fn unescape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut zeros = 0;
    for &b in bytes {
        if zeros >= 2 && b == EMULATION_PREVENTION {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporal unit in the low-overhead format, worked by hand:
    /// 12 00: temporal delimiter (type 2, has_size), obu_size 0 |
    /// 0A 05 00 00 00 00 01: sequence-header-typed OBU (type 1, has_size),
    /// obu_size 5, a payload of four zeros and a one (an emulated start
    /// code and more) | 32 04 00 00 03 7F: frame OBU (type 6), obu_size 4,
    /// 00 00 03 7F (an emulated escape).
    const TU: [u8; 15] = [
        0x12, 0x00, 0x0A, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01, 0x32, 0x04, 0x00, 0x00, 0x03, 0x7F,
    ];

    /// The same in the start-code based format: each OBU behind 00 00 01;
    /// in the second, 00 00 [03] 00 00 [03] 01 (an 03 before each byte of
    /// 0-3 that follows two zeros); in the third 00 00 [03] 03 7F. The
    /// delimiter's trailing 00 stays: 00 00 01 12 00 | 00 00 01 ...
    const TS: [u8; 26] = [
        0x00, 0x00, 0x01, 0x12, 0x00, // TD
        0x00, 0x00, 0x01, 0x0A, 0x05, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x01, // SH
        0x00, 0x00, 0x01, 0x32, 0x04, 0x00, 0x00, 0x03, 0x03, // frame, continued
    ];

    fn golden_ts() -> Vec<u8> {
        [&TS[..], &[0x7F]].concat()
    }

    #[test]
    fn golden_conversion_both_ways() {
        let mut out = vec![0xEE]; // appended to what is there
        from_low_overhead(&TU, &mut out).unwrap();
        assert_eq!(out[1..], golden_ts()[..]);
        assert_eq!(to_low_overhead(&golden_ts()).unwrap(), TU);
    }

    #[test]
    fn no_forbidden_sequence_survives_escaping() {
        // Every 4-byte pattern of 00, 01, 02, 03 and FF as a payload.
        let alphabet = [0x00, 0x01, 0x02, 0x03, 0xFF];
        for n in 0..alphabet.len().pow(4) {
            let payload: Vec<u8> = (0..4)
                .map(|k| alphabet[n / alphabet.len().pow(k) % alphabet.len()])
                .collect();
            let tu = [&[0x32, 0x04][..], &payload].concat();
            let mut ts = Vec::new();
            from_low_overhead(&tu, &mut ts).unwrap();
            let body = &ts[3..];
            for w in body.windows(3) {
                assert!(
                    !(w[0] == 0 && w[1] == 0 && w[2] <= 2),
                    "{payload:02x?}: {ts:02x?}"
                );
            }
            for w in body.windows(4) {
                let escape = w[..3] == [0, 0, 3];
                assert!(!escape || w[3] <= 3, "{payload:02x?}: {ts:02x?}");
            }
            let back = to_low_overhead(&ts).unwrap();
            assert_eq!(back, [&TEMPORAL_DELIMITER[..], &tu].concat());
        }
    }

    #[test]
    fn reading_back_adds_what_writers_may_leave_out() {
        // A frame OBU without obu_size (0x30) and no temporal delimiter,
        // behind a 4-byte start code whose extra zero ends the first OBU
        // (a padding OBU with size 1): it is dropped.
        let ts = [
            0x00, 0x00, 0x01, 0x7A, 0x01, 0xAA, 0x00, // padding, size 1, + 00
            0x00, 0x00, 0x01, 0x30, 0x11, 0x22, // frame, no obu_size
        ];
        let back = to_low_overhead(&ts).unwrap();
        assert_eq!(back, [0x12, 0x00, 0x7A, 0x01, 0xAA, 0x32, 0x02, 0x11, 0x22]);
    }

    #[test]
    fn malformed_payloads_are_errors() {
        assert_eq!(to_low_overhead(&[0x12, 0x00]), Err(Av1Error::NoStartCode));
        assert_eq!(
            to_low_overhead(&[0, 0, 1, 0, 0, 1, 0x12, 0]),
            Err(Av1Error::EmptyObu)
        );
        assert!(to_low_overhead(&[0, 0, 1, 0x32, 0x09, 1]).is_err());
        let mut out = vec![1, 2];
        assert!(from_low_overhead(&[0x12, 0x00, 0x32, 0x07], &mut out).is_err());
        assert_eq!(out, [1, 2], "nothing is left of a refused unit");
    }
}
