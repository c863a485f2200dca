//! The PES packet header (ISO/IEC 13818-1 §2.4.3.6, Table 2-21).
//!
//! The muxer writes the short form it needs: the fixed fields, the flags,
//! and PTS or PTS + DTS. Parsing accepts any optional fields (ESCR, ES rate,
//! extensions...) by skipping to where PES_header_data_length says the
//! payload begins.

use makara_media::Clock90k;

use crate::{Error, Result};

/// stream_id values (Table 2-22) the muxer writes, and those with no
/// optional header, which parsing must recognise.
pub mod stream_id {
    pub const PROGRAM_STREAM_MAP: u8 = 0xBC;
    /// private_stream_1: AV1 (carriage spec §3.4).
    pub const PRIVATE_STREAM_1: u8 = 0xBD;
    pub const PADDING: u8 = 0xBE;
    pub const PRIVATE_STREAM_2: u8 = 0xBF;
    /// The first MPEG audio stream.
    pub const AUDIO: u8 = 0xC0;
    /// The first MPEG video stream.
    pub const VIDEO: u8 = 0xE0;
    pub const ECM: u8 = 0xF0;
    pub const EMM: u8 = 0xF1;
    pub const DSMCC: u8 = 0xF2;
    pub const H222_1_TYPE_E: u8 = 0xF8;
    /// metadata_stream: synchronous metadata in PES (§2.12.4).
    pub const METADATA: u8 = 0xFC;
    pub const PROGRAM_STREAM_DIRECTORY: u8 = 0xFF;
}

mod field {
    pub type Field = core::ops::Range<usize>;

    /// packet_start_code_prefix, 0x000001.
    pub const START_CODE: Field = 0..3;
    pub const STREAM_ID: usize = 3;
    /// PES_packet_length: bytes after this field, 0 for "unbounded" (video only).
    pub const PACKET_LENGTH: Field = 4..6;
    /// '10', scrambling (2), priority, data_alignment_indicator, copyright, original.
    pub const FLAGS: usize = 6;
    /// PTS_DTS_flags (2), ESCR, ES_rate, DSM_trick_mode, additional_copy_info,
    /// PES_CRC, PES_extension.
    pub const OPTIONAL_FLAGS: usize = 7;
    pub const HEADER_DATA_LENGTH: usize = 8;
    /// Where PTS, DTS and other optional fields begin.
    pub const OPTIONAL: usize = 9;
}

/// The header length without the optional header (stream ids that have none).
const FIXED_LEN: usize = 6;
const TIMESTAMP_LEN: usize = 5;
const MARKER_BITS: u8 = 0x80;
const DATA_ALIGNMENT: u8 = 0x04;
const PTS_ONLY: u8 = 0b10;
const PTS_AND_DTS: u8 = 0b11;

/// The longest header the muxer writes: fixed fields plus PTS and DTS.
pub const MAX_EMIT_LEN: usize = field::OPTIONAL + 2 * TIMESTAMP_LEN;

/// Whether a stream_id is followed by the optional PES header.
fn has_optional_header(stream_id: u8) -> bool {
    use stream_id::*;
    !matches!(
        stream_id,
        PROGRAM_STREAM_MAP
            | PADDING
            | PRIVATE_STREAM_2
            | ECM
            | EMM
            | DSMCC
            | H222_1_TYPE_E
            | PROGRAM_STREAM_DIRECTORY
    )
}

/// A PES header. `dts` is written only when present and different from
/// `pts`, since a decoder takes a missing DTS to equal the PTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeaderRepr {
    pub stream_id: u8,
    /// PES_packet_length; 0 means "until the next PES" and is allowed for
    /// video only.
    pub packet_length: u16,
    pub data_alignment: bool,
    pub pts: Option<Clock90k>,
    pub dts: Option<Clock90k>,
}

impl PesHeaderRepr {
    /// Parses the header at the start of a PES packet and returns it with
    /// the offset where the payload begins. Timestamps come back as their
    /// 33-bit wire values.
    pub fn parse(bytes: &[u8]) -> Result<(PesHeaderRepr, usize)> {
        if bytes.len() < FIXED_LEN || bytes[field::START_CODE] != [0, 0, 1] {
            return Err(Error);
        }
        let stream_id = bytes[field::STREAM_ID];
        let length = &bytes[field::PACKET_LENGTH];
        let packet_length = u16::from_be_bytes([length[0], length[1]]);
        let mut repr = PesHeaderRepr {
            stream_id,
            packet_length,
            data_alignment: false,
            pts: None,
            dts: None,
        };
        if !has_optional_header(stream_id) {
            return Ok((repr, FIXED_LEN));
        }
        if bytes.len() < field::OPTIONAL || bytes[field::FLAGS] & 0xC0 != MARKER_BITS {
            return Err(Error);
        }
        let header_data_length = usize::from(bytes[field::HEADER_DATA_LENGTH]);
        let payload_at = field::OPTIONAL + header_data_length;
        let bounded_too_short =
            packet_length != 0 && usize::from(packet_length) < payload_at - FIXED_LEN;
        if bytes.len() < payload_at || bounded_too_short {
            return Err(Error);
        }
        repr.data_alignment = bytes[field::FLAGS] & DATA_ALIGNMENT != 0;
        let optional = &bytes[field::OPTIONAL..payload_at];
        match bytes[field::OPTIONAL_FLAGS] >> 6 {
            0b00 => {}
            PTS_ONLY if optional.len() >= TIMESTAMP_LEN => {
                repr.pts = Some(read_timestamp(&optional[..TIMESTAMP_LEN]));
            }
            PTS_AND_DTS if optional.len() >= 2 * TIMESTAMP_LEN => {
                repr.pts = Some(read_timestamp(&optional[..TIMESTAMP_LEN]));
                repr.dts = Some(read_timestamp(&optional[TIMESTAMP_LEN..]));
            }
            _ => return Err(Error), // '01' is forbidden, or the field is cut short
        }
        Ok((repr, payload_at))
    }

    /// Whether a DTS will be written: only when it says something the PTS
    /// does not.
    fn writes_dts(&self) -> bool {
        self.pts.is_some()
            && self
                .dts
                .is_some_and(|dts| Some(dts.wire()) != self.pts.map(|p| p.wire()))
    }

    pub fn buffer_len(&self) -> usize {
        let timestamps = match (self.pts.is_some(), self.writes_dts()) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        field::OPTIONAL + timestamps * TIMESTAMP_LEN
    }

    /// The PES_packet_length for `payload_len` bytes behind this header,
    /// or `None` if they do not fit in a bounded PES packet.
    pub fn packet_length_for(&self, payload_len: usize) -> Option<u16> {
        u16::try_from(self.buffer_len() - FIXED_LEN + payload_len).ok()
    }

    /// Writes the header. The muxer writes only stream ids that have the
    /// optional header.
    pub fn emit(&self, buffer: &mut [u8]) {
        let data_length = self.buffer_len() - field::OPTIONAL;
        buffer[field::START_CODE].copy_from_slice(&[0, 0, 1]);
        buffer[field::STREAM_ID] = self.stream_id;
        buffer[field::PACKET_LENGTH].copy_from_slice(&self.packet_length.to_be_bytes());
        buffer[field::FLAGS] = MARKER_BITS
            | if self.data_alignment {
                DATA_ALIGNMENT
            } else {
                0
            };
        buffer[field::HEADER_DATA_LENGTH] = data_length as u8;
        let optional = &mut buffer[field::OPTIONAL..];
        buffer[field::OPTIONAL_FLAGS] = match (self.pts, self.writes_dts()) {
            (None, _) => 0,
            (Some(pts), false) => {
                write_timestamp(0b0010, pts, &mut optional[..TIMESTAMP_LEN]);
                PTS_ONLY << 6
            }
            (Some(pts), true) => {
                let dts = self.dts.unwrap_or(pts);
                write_timestamp(0b0011, pts, &mut optional[..TIMESTAMP_LEN]);
                write_timestamp(0b0001, dts, &mut optional[TIMESTAMP_LEN..2 * TIMESTAMP_LEN]);
                PTS_AND_DTS << 6
            }
        };
    }
}

/// Writes a 33-bit timestamp as 4 prefix bits, then bits 32..30, 29..15
/// and 14..0, each group followed by a marker bit of 1.
fn write_timestamp(prefix: u8, ts: Clock90k, out: &mut [u8]) {
    let v = ts.wire();
    out[0] = (prefix << 4) | (((v >> 30) & 0x07) as u8) << 1 | 1;
    out[1] = (v >> 22) as u8;
    out[2] = (((v >> 15) & 0x7F) as u8) << 1 | 1;
    out[3] = (v >> 7) as u8;
    out[4] = ((v & 0x7F) as u8) << 1 | 1;
}

/// Reads a timestamp written by [`write_timestamp`]. Prefix and marker
/// bits are not checked: real streams get them wrong and nothing depends
/// on them.
fn read_timestamp(b: &[u8]) -> Clock90k {
    let high = u64::from((b[0] >> 1) & 0x07);
    let mid = (u64::from(b[1]) << 7) | u64::from(b[2] >> 1);
    let low = (u64::from(b[3]) << 7) | u64::from(b[4] >> 1);
    Clock90k((high << 30) | (mid << 15) | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An audio PES header with PTS = 90 000 (1 s) in front of 4 payload
    /// bytes, assembled from Table 2-21 by hand: 00 00 01 | C0: audio
    /// stream 0 | 00 0C: 3 flag/length bytes + 5 PTS + 4 payload |
    /// 84: '10', data_alignment | 80: PTS only | 05: header data length |
    /// 21 00 05 BF 21: '0010', PTS[32..30] = 0, marker, PTS[29..15] = 2,
    /// marker, PTS[14..0] = 0x5F90, marker.
    const GOLDEN_PTS_ONLY: [u8; 14] = [
        0x00, 0x00, 0x01, 0xC0, 0x00, 0x0C, 0x84, 0x80, 0x05, 0x21, 0x00, 0x05, 0xBF, 0x21,
    ];

    /// A video PES header, unbounded, with PTS = 0x1_2345_6789 (bit 32
    /// set) and DTS 3600 ticks earlier = 0x1_2345_5979: 00 00 01 E0 |
    /// 00 00 | 84 | C0: PTS and DTS | 0A | 39 8D 15 CF 13: '0011', 100, 1,
    /// 0x468A, 1, 0x6789, 1 | 19 8D 15 B2 F3: '0001', 100, 1, 0x468A, 1,
    /// 0x5979, 1. The bit strings were concatenated by a separate script.
    const GOLDEN_PTS_DTS: [u8; 19] = [
        0x00, 0x00, 0x01, 0xE0, 0x00, 0x00, 0x84, 0xC0, 0x0A, 0x39, 0x8D, 0x15, 0xCF, 0x13, 0x19,
        0x8D, 0x15, 0xB2, 0xF3,
    ];

    fn emit(repr: &PesHeaderRepr) -> Vec<u8> {
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buffer);
        buffer
    }

    #[test]
    fn golden_pts_only() {
        let mut repr = PesHeaderRepr {
            stream_id: stream_id::AUDIO,
            packet_length: 0,
            data_alignment: true,
            pts: Some(Clock90k(90_000)),
            dts: Some(Clock90k(90_000)), // equal to the PTS: not written
        };
        repr.packet_length = repr.packet_length_for(4).unwrap();
        assert_eq!(emit(&repr), GOLDEN_PTS_ONLY);
        let (parsed, payload_at) = PesHeaderRepr::parse(&GOLDEN_PTS_ONLY).unwrap();
        assert_eq!(payload_at, 14);
        assert_eq!(parsed, PesHeaderRepr { dts: None, ..repr });
    }

    #[test]
    fn golden_pts_and_dts() {
        let repr = PesHeaderRepr {
            stream_id: stream_id::VIDEO,
            packet_length: 0,
            data_alignment: true,
            pts: Some(Clock90k(0x1_2345_6789)),
            dts: Some(Clock90k(0x1_2345_5979)),
        };
        assert_eq!(repr.buffer_len(), MAX_EMIT_LEN);
        assert_eq!(emit(&repr), GOLDEN_PTS_DTS);
        assert_eq!(PesHeaderRepr::parse(&GOLDEN_PTS_DTS).unwrap(), (repr, 19));
    }

    #[test]
    fn timestamps_wrap_at_33_bits() {
        let repr = PesHeaderRepr {
            stream_id: stream_id::VIDEO,
            packet_length: 0,
            data_alignment: false,
            pts: Some(Clock90k((1 << 33) + 5)),
            dts: Some(Clock90k(1 << 33)),
        };
        let (parsed, _) = PesHeaderRepr::parse(&emit(&repr)).unwrap();
        assert_eq!(
            (parsed.pts, parsed.dts),
            (Some(Clock90k(5)), Some(Clock90k(0)))
        );
    }

    #[test]
    fn skips_optional_fields_and_headerless_ids() {
        // PTS plus 3 bytes of some other optional field, then payload.
        let mut bytes = GOLDEN_PTS_ONLY.to_vec();
        bytes[8] = 8;
        bytes.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xAA]);
        assert_eq!(PesHeaderRepr::parse(&bytes).unwrap().1, 17);

        let padding = [0x00, 0x00, 0x01, stream_id::PADDING, 0x00, 0x02, 0xFF, 0xFF];
        let (repr, at) = PesHeaderRepr::parse(&padding).unwrap();
        assert_eq!((repr.pts, at), (None, 6));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(PesHeaderRepr::parse(&GOLDEN_PTS_DTS[..12]).is_err());
        let mut forbidden = GOLDEN_PTS_ONLY;
        forbidden[7] = 0x40; // PTS_DTS_flags '01'
        assert!(PesHeaderRepr::parse(&forbidden).is_err());
        let mut short = GOLDEN_PTS_ONLY;
        short[5] = 0x02; // PES_packet_length shorter than its own header
        assert!(PesHeaderRepr::parse(&short).is_err());
        let mut no_start = GOLDEN_PTS_ONLY;
        no_start[2] = 0x02;
        assert!(PesHeaderRepr::parse(&no_start).is_err());
    }
}
