//! Program-specific information: the long-form section every table uses
//! (ISO/IEC 13818-1 §2.4.4.11), and the program association table
//! (§2.4.4.3). The PMT is in [`crate::pmt`].

use crate::crc::crc32_mpeg2;
use crate::{Error, Result};

/// table_id of the program association table.
pub const TABLE_ID_PAT: u8 = 0x00;
/// table_id of a program map section.
pub const TABLE_ID_PMT: u8 = 0x02;
/// The fixed header: table_id through last_section_number.
pub const HEADER_LEN: usize = 8;
/// The CRC-32 that closes every section.
pub const CRC_LEN: usize = 4;
/// PAT and PMT sections are at most 1024 bytes (section_length ≤ 1021).
pub const MAX_SECTION_LEN: usize = 1024;

mod field {
    pub type Field = core::ops::Range<usize>;

    pub const TABLE_ID: usize = 0;
    /// section_syntax_indicator, '0', 2 reserved bits, 12-bit section_length.
    pub const SECTION_LENGTH: Field = 1..3;
    /// transport_stream_id in a PAT, program_number in a PMT.
    pub const TABLE_ID_EXTENSION: Field = 3..5;
    /// 2 reserved bits, version_number (5), current_next_indicator (1).
    pub const VERSION: usize = 5;
    pub const SECTION_NUMBER: usize = 6;
    pub const LAST_SECTION_NUMBER: usize = 7;
}

const SECTION_SYNTAX: u8 = 0x80;

/// The length of the section whose first bytes are `start`, read from its
/// section_length; `None` until three bytes are there. Reassembly uses it
/// to know when a section is complete.
pub fn section_len(start: &[u8]) -> Option<usize> {
    let b = start.get(..3)?;
    Some(3 + usize::from(u16::from_be_bytes([b[1], b[2]]) & 0x0FFF))
}

/// One whole long-form section, read in place.
#[derive(Debug, Clone)]
pub struct PsiSection<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PsiSection<T> {
    /// Wraps exactly one section after checking its framing and its CRC.
    pub fn new_checked(buffer: T) -> Result<PsiSection<T>> {
        let section = PsiSection { buffer };
        section.check()?;
        Ok(section)
    }

    /// The buffer is one whole section: long enough for header and CRC,
    /// as long as its section_length says, in the long form, and its
    /// CRC-32 checks.
    fn check(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        let len = section_len(data).ok_or(Error)?;
        if data.len() != len
            || !(HEADER_LEN + CRC_LEN..=MAX_SECTION_LEN).contains(&len)
            || data[field::SECTION_LENGTH.start] & SECTION_SYNTAX == 0
            || crc32_mpeg2(data) != 0
        {
            return Err(Error);
        }
        Ok(())
    }

    pub fn table_id(&self) -> u8 {
        self.buffer.as_ref()[field::TABLE_ID]
    }

    pub fn table_id_extension(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::TABLE_ID_EXTENSION];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn version(&self) -> u8 {
        (self.buffer.as_ref()[field::VERSION] >> 1) & 0x1F
    }

    pub fn current_next(&self) -> bool {
        self.buffer.as_ref()[field::VERSION] & 1 != 0
    }

    pub fn section_number(&self) -> u8 {
        self.buffer.as_ref()[field::SECTION_NUMBER]
    }

    pub fn last_section_number(&self) -> u8 {
        self.buffer.as_ref()[field::LAST_SECTION_NUMBER]
    }

    /// The table's own fields: after the header, before the CRC.
    pub fn body(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        &data[HEADER_LEN..data.len() - CRC_LEN]
    }
}

/// Writes the header and the CRC around a body already in
/// `buffer[HEADER_LEN..len - CRC_LEN]`: a single, current section.
pub(crate) fn emit_section(buffer: &mut [u8], table_id: u8, extension: u16, version: u8) {
    // section_syntax_indicator 1, '0', reserved '11'.
    write_section(buffer, 0xB000, table_id, extension, version);
}

/// [`emit_section`] for a DVB table (EN 300 468 §5.2), whose second bit
/// is reserved_future_use, set to 1.
pub(crate) fn emit_dvb_section(buffer: &mut [u8], table_id: u8, extension: u16, version: u8) {
    write_section(buffer, 0xF000, table_id, extension, version);
}

fn write_section(buffer: &mut [u8], flags: u16, table_id: u8, extension: u16, version: u8) {
    let len = buffer.len();
    let section_length = (len - 3) as u16 & 0x0FFF;
    buffer[field::TABLE_ID] = table_id;
    buffer[field::SECTION_LENGTH].copy_from_slice(&(flags | section_length).to_be_bytes());
    buffer[field::TABLE_ID_EXTENSION].copy_from_slice(&extension.to_be_bytes());
    buffer[field::VERSION] = 0xC0 | ((version & 0x1F) << 1) | 1;
    buffer[field::SECTION_NUMBER] = 0;
    buffer[field::LAST_SECTION_NUMBER] = 0;
    let crc = crc32_mpeg2(&buffer[..len - CRC_LEN]);
    buffer[len - CRC_LEN..].copy_from_slice(&crc.to_be_bytes());
}

/// Reads a 12-bit length behind 4 reserved bits.
pub(crate) fn read_len12(b: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([b[0], b[1]]) & 0x0FFF)
}

/// Writes a 12-bit length behind 4 reserved bits set to one.
pub(crate) fn write_len12(b: &mut [u8], len: usize) {
    b[..2].copy_from_slice(&(0xF000 | (len as u16 & 0x0FFF)).to_be_bytes());
}

/// Reads a 13-bit PID behind 3 reserved bits.
pub(crate) fn read_pid(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]]) & 0x1FFF
}

/// Writes a 13-bit PID behind 3 reserved bits set to one.
pub(crate) fn write_pid(b: &mut [u8], pid: u16) {
    b[..2].copy_from_slice(&(0xE000 | (pid & 0x1FFF)).to_be_bytes());
}

/// One entry of the PAT: a program and the PID of its PMT (or, for
/// program 0, of the network information table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatProgram {
    pub program_number: u16,
    pub pid: u16,
}

/// The program association table, in one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatRepr {
    pub transport_stream_id: u16,
    pub version: u8,
    pub programs: Vec<PatProgram>,
}

impl PatRepr {
    const ENTRY_LEN: usize = 4;

    pub fn parse<T: AsRef<[u8]>>(section: &PsiSection<T>) -> Result<PatRepr> {
        let body = section.body();
        if section.table_id() != TABLE_ID_PAT || !body.len().is_multiple_of(Self::ENTRY_LEN) {
            return Err(Error);
        }
        let programs = body
            .chunks_exact(Self::ENTRY_LEN)
            .map(|e| PatProgram {
                program_number: u16::from_be_bytes([e[0], e[1]]),
                pid: read_pid(&e[2..]),
            })
            .collect();
        Ok(PatRepr {
            transport_stream_id: section.table_id_extension(),
            version: section.version(),
            programs,
        })
    }

    /// The whole section, header and CRC included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.programs.len() * Self::ENTRY_LEN + CRC_LEN
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        let body = &mut buffer[HEADER_LEN..];
        for (entry, program) in body.chunks_exact_mut(Self::ENTRY_LEN).zip(&self.programs) {
            entry[..2].copy_from_slice(&program.program_number.to_be_bytes());
            write_pid(&mut entry[2..], program.pid);
        }
        emit_section(buffer, TABLE_ID_PAT, self.transport_stream_id, self.version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PAT of transport stream 1 with program 1 on PMT PID 0x1000,
    /// assembled from Table 2-30 by hand:
    /// 00: table_id | B0 0D: syntax 1, '0', reserved '11', section_length 13
    /// (5 header bytes after the length + 4 per program + 4 CRC) |
    /// 00 01: transport_stream_id | C1: reserved '11', version 0, current |
    /// 00 00: section 0 of 0 | 00 01 F0 00: program 1, reserved '111',
    /// PID 0x1000 | 2A B1 04 B2: CRC-32/MPEG-2 of the preceding 12 bytes,
    /// computed bit by bit (polynomial 0x04C11DB7, init 0xFFFFFFFF) by a
    /// separate script, not by this crate. ffmpeg 5.1's mpegts muxer writes
    /// the same 16 bytes for its defaults, which checks the derivation.
    pub(crate) const GOLDEN_PAT: [u8; 16] = [
        0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1, 0x04,
        0xB2,
    ];

    fn golden_repr() -> PatRepr {
        PatRepr {
            transport_stream_id: 1,
            version: 0,
            programs: vec![PatProgram {
                program_number: 1,
                pid: 0x1000,
            }],
        }
    }

    #[test]
    fn golden_pat_emits_and_parses() {
        let repr = golden_repr();
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buffer);
        assert_eq!(buffer, GOLDEN_PAT);

        let section = PsiSection::new_checked(&GOLDEN_PAT[..]).unwrap();
        assert!(section.current_next());
        assert_eq!(
            (section.section_number(), section.last_section_number()),
            (0, 0)
        );
        assert_eq!(PatRepr::parse(&section).unwrap(), repr);
    }

    #[test]
    fn any_flipped_bit_fails_the_check() {
        for bit in 0..GOLDEN_PAT.len() * 8 {
            let mut bytes = GOLDEN_PAT;
            bytes[bit / 8] ^= 0x80 >> (bit % 8);
            let parsed = PsiSection::new_checked(&bytes[..]).and_then(|s| PatRepr::parse(&s));
            assert!(parsed.is_err(), "bit {bit}");
        }
    }

    #[test]
    fn section_len_reads_the_length_field() {
        assert_eq!(section_len(&GOLDEN_PAT), Some(16));
        assert_eq!(section_len(&GOLDEN_PAT[..2]), None);
    }
}
