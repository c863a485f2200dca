//! OBU headers (AV1 §5.3) and the low-overhead bitstream format (AV1
//! §5.2): OBUs back to back, each with its obu_size, a temporal unit
//! starting with a temporal delimiter.

use super::Av1Error;

/// obu_type values (AV1 §6.2.2, Table 6-1) this crate acts on.
pub mod obu_type {
    pub const SEQUENCE_HEADER: u8 = 1;
    pub const TEMPORAL_DELIMITER: u8 = 2;
    pub const FRAME_HEADER: u8 = 3;
    pub const TILE_GROUP: u8 = 4;
    pub const METADATA: u8 = 5;
    pub const FRAME: u8 = 6;
    pub const REDUNDANT_FRAME_HEADER: u8 = 7;
    pub const TILE_LIST: u8 = 8;
    pub const PADDING: u8 = 15;
}

const FORBIDDEN: u8 = 0x80;
const EXTENSION: u8 = 0x04;
const HAS_SIZE: u8 = 0x02;

/// A temporal delimiter OBU in the low-overhead format: obu_type 2 with
/// obu_has_size_field (0x12), obu_size 0.
pub const TEMPORAL_DELIMITER: [u8; 2] = [0x12, 0x00];

/// The longest leb128 AV1 allows (§4.10.5).
const MAX_LEB128_LEN: usize = 8;

/// One OBU, borrowed from the bytes it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obu<'a> {
    pub obu_type: u8,
    /// The header byte and, if obu_extension_flag is set, the extension
    /// byte (temporal_id, spatial_id): without obu_size.
    pub header: &'a [u8],
    /// Whether the OBU carried obu_size.
    pub has_size: bool,
    pub payload: &'a [u8],
    /// The whole OBU as read: header, obu_size if any, payload.
    pub bytes: &'a [u8],
}

impl<'a> Obu<'a> {
    /// Reads the OBU at the start of `bytes`. One without obu_size takes
    /// the rest of `bytes` as its payload (AV1 §5.3.1: its size comes from
    /// outside, here the end of what it was given).
    pub fn parse(bytes: &'a [u8]) -> Result<Obu<'a>, Av1Error> {
        let &first = bytes.first().ok_or(Av1Error::ShortHeader)?;
        if first & FORBIDDEN != 0 {
            return Err(Av1Error::ForbiddenBit);
        }
        let header_len = if first & EXTENSION != 0 { 2 } else { 1 };
        let header = bytes.get(..header_len).ok_or(Av1Error::ShortHeader)?;
        let rest = &bytes[header_len..];
        let has_size = first & HAS_SIZE != 0;
        let (payload_at, payload_len) = if has_size {
            let (size, len) = read_leb128(rest)?;
            (header_len + len, size)
        } else {
            (header_len, rest.len())
        };
        let available = bytes.len() - payload_at;
        if payload_len > available {
            return Err(Av1Error::Overrun {
                claimed: payload_len,
                available,
            });
        }
        let end = payload_at + payload_len;
        Ok(Obu {
            obu_type: (first >> 3) & 0x0F,
            header,
            has_size,
            payload: &bytes[payload_at..end],
            bytes: &bytes[..end],
        })
    }

    /// Appends the OBU in the low-overhead format: with obu_has_size_field
    /// set and obu_size written, whether or not it had one.
    pub fn write_sized(&self, out: &mut Vec<u8>) {
        out.push(self.header[0] | HAS_SIZE);
        out.extend_from_slice(&self.header[1..]);
        write_leb128(self.payload.len(), out);
        out.extend_from_slice(self.payload);
    }
}

/// The OBUs of a temporal unit in the low-overhead format, in order.
/// Stops at the first that cannot be read, with its error.
pub fn obus(mut bytes: &[u8]) -> impl Iterator<Item = Result<Obu<'_>, Av1Error>> {
    core::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        match Obu::parse(bytes) {
            Ok(obu) => {
                bytes = &bytes[obu.bytes.len()..];
                Some(Ok(obu))
            }
            Err(e) => {
                bytes = &[];
                Some(Err(e))
            }
        }
    })
}

/// leb128() (AV1 §4.10.5): little-endian groups of 7 bits, the top bit
/// saying another byte follows. Returns (value, bytes read).
pub fn read_leb128(bytes: &[u8]) -> Result<(usize, usize), Av1Error> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().take(MAX_LEB128_LEN).enumerate() {
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            let value = u32::try_from(value).map_err(|_| Av1Error::BadSize)?;
            return Ok((value as usize, i + 1));
        }
    }
    Err(Av1Error::BadSize)
}

/// Writes `value` as the shortest leb128.
pub fn write_leb128(mut value: usize, out: &mut Vec<u8>) {
    loop {
        let group = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(group);
            return;
        }
        out.push(group | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips_and_refuses_what_av1_does() {
        for (value, bytes) in [
            (0usize, &[0x00][..]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (300, &[0xAC, 0x02]),
        ] {
            let mut out = Vec::new();
            write_leb128(value, &mut out);
            assert_eq!(out, bytes);
            assert_eq!(read_leb128(bytes), Ok((value, bytes.len())));
        }
        // A padded form is still read (AV1 allows it).
        assert_eq!(read_leb128(&[0x80, 0x80, 0x00]), Ok((0, 3)));
        assert_eq!(read_leb128(&[0x80; 9]), Err(Av1Error::BadSize));
        assert_eq!(read_leb128(&[0x80]), Err(Av1Error::BadSize));
        // 2^32 does not fit.
        assert_eq!(
            read_leb128(&[0x80, 0x80, 0x80, 0x80, 0x10]),
            Err(Av1Error::BadSize)
        );
    }

    #[test]
    fn a_temporal_unit_splits_into_its_obus() {
        // TD (12 00) | a frame OBU with the extension byte: 0x36 = type 6,
        // extension, has_size; 0x28 = temporal_id 1, spatial_id 1;
        // obu_size 3 | a padding OBU without obu_size (0x78): the rest.
        let tu = [0x12, 0x00, 0x36, 0x28, 0x03, 1, 2, 3, 0x78, 9, 9];
        let got: Vec<Obu> = obus(&tu).collect::<Result<_, _>>().unwrap();
        let types: Vec<u8> = got.iter().map(|o| o.obu_type).collect();
        assert_eq!(types, [2, 6, 15]);
        assert_eq!(got[1].header, [0x36, 0x28]);
        assert_eq!(got[1].payload, [1, 2, 3]);
        assert_eq!(got[2].payload, [9, 9]);
        assert!(!got[2].has_size);
        let mut sized = Vec::new();
        got[2].write_sized(&mut sized);
        assert_eq!(sized, [0x7A, 0x02, 9, 9]);
    }

    #[test]
    fn bad_obus_are_errors() {
        assert_eq!(Obu::parse(&[0x92, 0x00]), Err(Av1Error::ForbiddenBit));
        assert_eq!(Obu::parse(&[]), Err(Av1Error::ShortHeader));
        assert_eq!(Obu::parse(&[0x16]), Err(Av1Error::ShortHeader));
        assert_eq!(
            Obu::parse(&[0x32, 0x05, 1, 2]),
            Err(Av1Error::Overrun {
                claimed: 5,
                available: 2
            })
        );
        let results: Vec<_> = obus(&[0x12, 0x00, 0x32, 0x09]).collect();
        assert!(results[0].is_ok() && results[1].is_err() && results.len() == 2);
    }
}
