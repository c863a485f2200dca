//! KLV metadata as a synchronous metadata stream: ISO/IEC 13818-1 §2.12
//! ("metadata carried in PES packets") as MISB ST 1402 profiles it for
//! SMPTE ST 336 KLV.
//!
//! We pick the synchronous method over SMPTE RP 217's asynchronous one
//! (stream_type 0x06, private_stream_1, no PTS) because every KLV unit
//! then has a PTS on the same clock as the video, so a receiver can tie
//! a metadata set to the frame it describes. Concretely:
//!
//! - PMT stream_type 0x15 (metadata in PES), PES stream_id 0xFC
//!   (metadata_stream), a PTS on every PES, and a bounded PES_packet_length;
//! - program_info: a metadata_pointer_descriptor (tag 0x25) pointing at
//!   the stream in this same program;
//! - ES_info: a metadata_descriptor (tag 0x26) and a metadata_STD_descriptor
//!   (tag 0x27);
//! - both descriptors say metadata_application_format 0x0100 (the value
//!   ST 1402 uses) and metadata_format 0xFF with metadata_format_identifier
//!   "KLVA", the SMPTE-registered identifier receivers match (ffmpeg maps
//!   it to `klv`);
//! - each PES payload is one metadata Access Unit cell (§2.12.4, Table
//!   2-97) holding one whole KLV unit: a 5-byte cell header, then the bytes.

use crate::{Error, Result};

/// The SMPTE-registered format identifier of KLV metadata.
pub const KLVA: [u8; 4] = *b"KLVA";
/// metadata_application_format as MISB ST 1402 sets it.
pub const METADATA_APPLICATION_FORMAT: u16 = 0x0100;
/// metadata_format: "identified by metadata_format_identifier".
const METADATA_FORMAT_IDENTIFIED: u8 = 0xFF;
/// The one metadata service the muxer writes.
pub const METADATA_SERVICE_ID: u8 = 0;

pub const TAG_METADATA_POINTER: u8 = 0x25;
pub const TAG_METADATA: u8 = 0x26;
pub const TAG_METADATA_STD: u8 = 0x27;

/// Leak rates of the metadata T-STD, in units of 400 bit/s: 1 Mbit/s,
/// far above what KLV local sets need at video frame rates.
const STD_LEAK_RATE: u32 = 2_500;
/// The metadata buffer, in units of 1024 bytes: room for the largest KLV
/// unit one bounded PES packet can carry.
const STD_BUFFER_KIB: u32 = 64;

/// The fields metadata_pointer_descriptor and metadata_descriptor share:
/// application format, format and its identifier, service id.
fn format_fields() -> [u8; 8] {
    let app = METADATA_APPLICATION_FORMAT.to_be_bytes();
    let [k, l, v, a] = KLVA;
    [
        app[0],
        app[1],
        METADATA_FORMAT_IDENTIFIED,
        k,
        l,
        v,
        a,
        METADATA_SERVICE_ID,
    ]
}

/// metadata_pointer_descriptor (§2.6.58) for the program's program_info
/// loop: the metadata is in this transport stream, in `program_number`.
pub fn metadata_pointer_descriptor(program_number: u16) -> [u8; 13] {
    let f = format_fields();
    let p = program_number.to_be_bytes();
    // metadata_locator_record_flag 0, MPEG_carriage_flags 00 (same
    // transport stream), 5 reserved bits.
    let flags = 0x1F;
    [
        TAG_METADATA_POINTER,
        11,
        f[0],
        f[1],
        f[2],
        f[3],
        f[4],
        f[5],
        f[6],
        f[7],
        flags,
        p[0],
        p[1],
    ]
}

/// metadata_descriptor (§2.6.60) for the KLV stream's ES_info loop.
pub fn metadata_descriptor() -> [u8; 11] {
    let f = format_fields();
    // decoder_config_flags 000 (no decoder configuration), DSM-CC_flag 0,
    // 4 reserved bits.
    let flags = 0x0F;
    [
        TAG_METADATA,
        9,
        f[0],
        f[1],
        f[2],
        f[3],
        f[4],
        f[5],
        f[6],
        f[7],
        flags,
    ]
}

/// metadata_STD_descriptor (§2.6.62): three 22-bit values, each behind two
/// reserved bits.
pub fn metadata_std_descriptor() -> [u8; 11] {
    let field = |v: u32| {
        let b = (0x00C0_0000 | v).to_be_bytes();
        [b[1], b[2], b[3]]
    };
    let (i, b, o) = (
        field(STD_LEAK_RATE),
        field(STD_BUFFER_KIB),
        field(STD_LEAK_RATE),
    );
    [
        TAG_METADATA_STD,
        9,
        i[0],
        i[1],
        i[2],
        b[0],
        b[1],
        b[2],
        o[0],
        o[1],
        o[2],
    ]
}

/// cell_fragment_indication for a cell that holds a whole access unit.
pub const CELL_COMPLETE: u8 = 0b11;

/// The header of a metadata Access Unit cell (Table 2-97).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataAuCellRepr {
    pub service_id: u8,
    /// Counts cells of the service modulo 256, so a receiver sees losses.
    pub sequence_number: u8,
    /// 0b11 whole unit, 0b10 first fragment, 0b01 last, 0b00 middle.
    pub cell_fragment_indication: u8,
    pub decoder_config: bool,
    pub random_access: bool,
    /// AU_cell_data_length: the bytes that follow the header.
    pub data_len: u16,
}

impl MetadataAuCellRepr {
    pub const HEADER_LEN: usize = 5;

    /// Parses the cell at the start of `bytes`; returns it with its data.
    pub fn parse(bytes: &[u8]) -> Result<(MetadataAuCellRepr, &[u8])> {
        let header = bytes.get(..Self::HEADER_LEN).ok_or(Error)?;
        let repr = MetadataAuCellRepr {
            service_id: header[0],
            sequence_number: header[1],
            cell_fragment_indication: header[2] >> 6,
            decoder_config: header[2] & 0x20 != 0,
            random_access: header[2] & 0x10 != 0,
            data_len: u16::from_be_bytes([header[3], header[4]]),
        };
        let end = Self::HEADER_LEN + usize::from(repr.data_len);
        let data = bytes.get(Self::HEADER_LEN..end).ok_or(Error)?;
        Ok((repr, data))
    }

    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        let flags = (self.cell_fragment_indication & 0b11) << 6
            | u8::from(self.decoder_config) << 5
            | u8::from(self.random_access) << 4
            | 0x0F; // reserved
        let len = self.data_len.to_be_bytes();
        buffer[..Self::HEADER_LEN].copy_from_slice(&[
            self.service_id,
            self.sequence_number,
            flags,
            len[0],
            len[1],
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pmt::descriptors;

    /// The descriptors, assembled from §2.6.58/60/62 by hand.
    #[test]
    fn golden_descriptors() {
        assert_eq!(
            metadata_pointer_descriptor(1),
            [0x25, 0x0B, 0x01, 0x00, 0xFF, b'K', b'L', b'V', b'A', 0x00, 0x1F, 0x00, 0x01]
        );
        assert_eq!(
            metadata_descriptor(),
            [0x26, 0x09, 0x01, 0x00, 0xFF, b'K', b'L', b'V', b'A', 0x00, 0x0F]
        );
        // 2500 = 0x0009C4 and 64 = 0x000040, each behind reserved '11'.
        assert_eq!(
            metadata_std_descriptor(),
            [0x27, 0x09, 0xC0, 0x09, 0xC4, 0xC0, 0x00, 0x40, 0xC0, 0x09, 0xC4]
        );
        let all = [&metadata_descriptor()[..], &metadata_std_descriptor()].concat();
        let tags: Vec<u8> = descriptors(&all).map(|d| d.0).collect();
        assert_eq!(tags, [TAG_METADATA, TAG_METADATA_STD]);
    }

    #[test]
    fn au_cell_round_trips() {
        let repr = MetadataAuCellRepr {
            service_id: METADATA_SERVICE_ID,
            sequence_number: 200,
            cell_fragment_indication: CELL_COMPLETE,
            decoder_config: false,
            random_access: true,
            data_len: 3,
        };
        let mut bytes = [0u8; 8];
        repr.emit(&mut bytes);
        bytes[5..].copy_from_slice(b"klv");
        assert_eq!(bytes[..5], [0x00, 200, 0xDF, 0x00, 0x03]);
        assert_eq!(
            MetadataAuCellRepr::parse(&bytes).unwrap(),
            (repr, &b"klv"[..])
        );
        assert!(MetadataAuCellRepr::parse(&bytes[..7]).is_err());
    }
}
