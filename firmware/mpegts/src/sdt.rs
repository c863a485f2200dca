//! The DVB service description table (ETSI EN 300 468 §5.2.3), actual
//! transport stream, with one service and its service_descriptor (§6.2.33):
//! what a receiver lists as the channel's name and provider.

use crate::psi::{emit_dvb_section, read_len12, write_len12, PsiSection, CRC_LEN, HEADER_LEN};
use crate::{Error, Result};

/// The SDT's PID (EN 300 468 §5.1.3).
pub const SDT_PID: u16 = 0x0011;
/// service_description_section for the actual transport stream.
pub const TABLE_ID_SDT_ACTUAL: u8 = 0x42;
pub const SERVICE_DESCRIPTOR_TAG: u8 = 0x48;
/// service_type "digital television service" (Table 87).
pub const SERVICE_TYPE_DIGITAL_TV: u8 = 0x01;
/// ETSI TS 101 162 keeps 0xFF00-0xFFFF for private temporary use: a
/// stream that belongs to no broadcast network.
pub const PRIVATE_ORIGINAL_NETWORK_ID: u16 = 0xFF01;
/// running_status "running" (Table 6).
const RUNNING: u8 = 4;
/// original_network_id and one reserved_future_use byte.
const TABLE_FIELDS_LEN: usize = 3;
/// service_id, the EIT flags byte, running_status and the loop length.
const SERVICE_HEADER_LEN: usize = 5;

/// The longest name a [`DvbName`] keeps, in bytes: two of them and the
/// rest of the SDT fit one transport packet.
pub const MAX_NAME_LEN: usize = 64;
/// Annex A: a first byte 0x15 says the text is UTF-8.
const UTF8_SELECTOR: u8 = 0x15;

/// A name encoded as DVB text (EN 300 468 Annex A), held inline so that
/// configurations carrying it stay `Copy`. Letters, digits, space and
/// common punctuation are the same in the default table (ISO/IEC 6937) as
/// in ASCII and go as they are; any other text goes as UTF-8 behind its
/// selector byte. Longer names are cut, at a character boundary, to
/// [`MAX_NAME_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DvbName {
    bytes: [u8; MAX_NAME_LEN],
    len: u8,
}

impl DvbName {
    pub const EMPTY: DvbName = DvbName {
        bytes: [0; MAX_NAME_LEN],
        len: 0,
    };

    pub fn new(text: &str) -> DvbName {
        let plain = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.,:;/()+&'!?".contains(&b));
        let mut name = DvbName::EMPTY;
        let mut len = 0;
        if !plain {
            name.bytes[0] = UTF8_SELECTOR;
            len = 1;
        }
        for c in text.chars() {
            let room = &mut name.bytes[len..];
            if c.len_utf8() > room.len() {
                break;
            }
            len += c.encode_utf8(room).len();
        }
        name.len = len as u8;
        name
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl Default for DvbName {
    fn default() -> DvbName {
        DvbName::EMPTY
    }
}

/// An SDT section describing one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdtRepr {
    pub transport_stream_id: u16,
    pub original_network_id: u16,
    pub version: u8,
    /// The program_number of the service's PMT.
    pub service_id: u16,
    pub service_type: u8,
    /// Encoded DVB text (Annex A), at most 255 bytes with `service_name`.
    pub provider_name: Vec<u8>,
    pub service_name: Vec<u8>,
}

impl SdtRepr {
    /// Reads the first service of an SDT section and its service descriptor.
    pub fn parse<T: AsRef<[u8]>>(section: &PsiSection<T>) -> Result<SdtRepr> {
        let body = section.body();
        if section.table_id() != TABLE_ID_SDT_ACTUAL || body.len() < TABLE_FIELDS_LEN {
            return Err(Error);
        }
        let original_network_id = u16::from_be_bytes([body[0], body[1]]);
        let service = body.get(TABLE_FIELDS_LEN..).ok_or(Error)?;
        let header = service.get(..SERVICE_HEADER_LEN).ok_or(Error)?;
        let loop_len = read_len12(&header[3..5]);
        let descriptors = service
            .get(SERVICE_HEADER_LEN..SERVICE_HEADER_LEN + loop_len)
            .ok_or(Error)?;
        let (service_type, provider_name, service_name) = crate::pmt::descriptors(descriptors)
            .find(|&(tag, _)| tag == SERVICE_DESCRIPTOR_TAG)
            .and_then(|(_, d)| parse_service_descriptor(d))
            .ok_or(Error)?;
        Ok(SdtRepr {
            transport_stream_id: section.table_id_extension(),
            original_network_id,
            version: section.version(),
            service_id: u16::from_be_bytes([header[0], header[1]]),
            service_type,
            provider_name: provider_name.to_vec(),
            service_name: service_name.to_vec(),
        })
    }

    fn descriptor_len(&self) -> usize {
        2 + 3 + self.provider_name.len() + self.service_name.len()
    }

    /// The whole section, header and CRC included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + TABLE_FIELDS_LEN + SERVICE_HEADER_LEN + self.descriptor_len() + CRC_LEN
    }

    /// Writes the section into exactly `buffer_len()` bytes. The names
    /// must fit one descriptor: together at most 252 bytes.
    pub fn emit(&self, buffer: &mut [u8]) {
        let body = &mut buffer[HEADER_LEN..];
        body[..2].copy_from_slice(&self.original_network_id.to_be_bytes());
        body[2] = 0xFF; // reserved_future_use
        let service = &mut body[TABLE_FIELDS_LEN..];
        service[..2].copy_from_slice(&self.service_id.to_be_bytes());
        // reserved_future_use '111111', no EIT schedule, no EIT p/f.
        service[2] = 0xFC;
        // running_status, free_CA_mode 0, descriptors_loop_length.
        let loop_len = self.descriptor_len();
        write_len12(&mut service[3..5], loop_len);
        service[3] = (service[3] & 0x0F) | (RUNNING << 5);
        let d = &mut service[SERVICE_HEADER_LEN..SERVICE_HEADER_LEN + loop_len];
        d[0] = SERVICE_DESCRIPTOR_TAG;
        d[1] = (loop_len - 2) as u8;
        d[2] = self.service_type;
        let mut at = 3;
        for name in [&self.provider_name, &self.service_name] {
            d[at] = name.len() as u8;
            d[at + 1..at + 1 + name.len()].copy_from_slice(name);
            at += 1 + name.len();
        }
        emit_dvb_section(
            buffer,
            TABLE_ID_SDT_ACTUAL,
            self.transport_stream_id,
            self.version,
        );
    }
}

/// service_type, provider name, service name.
fn parse_service_descriptor(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&service_type, rest) = d.split_first()?;
    let (&provider_len, rest) = rest.split_first()?;
    let provider = rest.get(..usize::from(provider_len))?;
    let rest = &rest[usize::from(provider_len)..];
    let (&name_len, rest) = rest.split_first()?;
    let name = rest.get(..usize::from(name_len))?;
    Some((service_type, provider, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDT of transport stream 1, service 1, provider "makara", name
    /// "live", assembled from EN 300 468 Table 5 and §6.2.33 by hand:
    /// 42: table_id | F0 20: syntax 1, reserved_future_use 1, reserved '11',
    /// section_length 32 | 00 01: transport_stream_id | C1: version 0,
    /// current | 00 00: section 0 of 0 | FF 01: original_network_id | FF:
    /// reserved | 00 01: service_id | FC: reserved, no EIT | 80 0F: running
    /// (4), not scrambled, descriptors_loop_length 15 | 48 0D 01: service
    /// descriptor, 13 bytes, digital TV | 06 "makara" | 04 "live" | ED 20
    /// 5A 70: CRC-32/MPEG-2 of the preceding 31 bytes, computed bit by bit
    /// by a separate script, not by this crate.
    const GOLDEN_SDT: [u8; 35] = [
        0x42, 0xF0, 0x20, 0x00, 0x01, 0xC1, 0x00, 0x00, 0xFF, 0x01, 0xFF, 0x00, 0x01, 0xFC, 0x80,
        0x0F, 0x48, 0x0D, 0x01, 0x06, b'm', b'a', b'k', b'a', b'r', b'a', 0x04, b'l', b'i', b'v',
        b'e', 0xED, 0x20, 0x5A, 0x70,
    ];

    fn golden_repr() -> SdtRepr {
        SdtRepr {
            transport_stream_id: 1,
            original_network_id: PRIVATE_ORIGINAL_NETWORK_ID,
            version: 0,
            service_id: 1,
            service_type: SERVICE_TYPE_DIGITAL_TV,
            provider_name: b"makara".to_vec(),
            service_name: b"live".to_vec(),
        }
    }

    #[test]
    fn golden_sdt_emits_and_parses() {
        let repr = golden_repr();
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buffer);
        assert_eq!(buffer, GOLDEN_SDT);
        let section = PsiSection::new_checked(&GOLDEN_SDT[..]).unwrap();
        assert_eq!(SdtRepr::parse(&section).unwrap(), repr);
    }

    #[test]
    fn names_are_dvb_text_cut_to_fit() {
        assert_eq!(
            DvbName::new("Studio 1 (main)").as_bytes(),
            b"Studio 1 (main)"
        );
        assert_eq!(DvbName::new("").as_bytes(), b"");
        // '$' and '~' differ in ISO/IEC 6937; 'é' is not ASCII.
        assert_eq!(DvbName::new("a$").as_bytes(), b"\x15a$");
        assert_eq!(DvbName::new("café").as_bytes(), "\u{15}café".as_bytes());
        let long = "é".repeat(40); // 80 bytes: 31 characters fit behind 0x15
        let cut = DvbName::new(&long);
        assert_eq!(cut.as_bytes().len(), 63);
        assert_eq!(&cut.as_bytes()[1..], "é".repeat(31).as_bytes());
        assert_eq!(DvbName::new(&"x".repeat(100)).as_bytes(), [b'x'; 64]);
    }

    #[test]
    fn a_broken_sdt_is_refused() {
        let mut bytes = GOLDEN_SDT;
        bytes[20] ^= 1; // the CRC no longer checks
        assert!(PsiSection::new_checked(&bytes[..]).is_err());
        // A section without a service descriptor parses as nothing.
        let mut repr = golden_repr();
        repr.service_name.clear();
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buffer);
        buffer[16] = 0x49; // the descriptor's tag
        let crc = crate::crc32_mpeg2(&buffer[..buffer.len() - 4]);
        let at = buffer.len() - 4;
        buffer[at..].copy_from_slice(&crc.to_be_bytes());
        let section = PsiSection::new_checked(&buffer[..]).unwrap();
        assert_eq!(SdtRepr::parse(&section), Err(Error));
    }
}
