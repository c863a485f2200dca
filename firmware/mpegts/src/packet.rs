//! The 188-byte transport packet (ISO/IEC 13818-1 §2.4.3.2) and its
//! adaptation field (§2.4.3.4).
//!
//! [`TsPacket`] reads a packet in place; [`TsHeaderRepr`] writes one. Only
//! the adaptation-field features the muxer uses are modelled:
//! discontinuity, random access and PCR. A parsed packet with others (OPCR,
//! splicing, private data) still reads correctly; they are just not exposed.

use makara_media::Pcr27M;

use crate::{Error, Result};

/// Every transport packet is this long.
pub const PACKET_LEN: usize = 188;
/// The first byte of every packet.
pub const SYNC_BYTE: u8 = 0x47;
/// The bytes after the 4-byte header, shared by adaptation field and payload.
pub const BODY_LEN: usize = 184;
/// The PID of the program association table.
pub const PAT_PID: u16 = 0x0000;
/// The PID of null (stuffing) packets, which a receiver discards.
pub const NULL_PID: u16 = 0x1FFF;

mod field {
    pub type Field = core::ops::Range<usize>;

    pub const SYNC: usize = 0;
    /// transport_error_indicator, payload_unit_start_indicator,
    /// transport_priority, then the 13-bit PID.
    pub const PID: Field = 1..3;
    /// transport_scrambling_control (2 bits), adaptation_field_control (2),
    /// continuity_counter (4).
    pub const CONTROL: usize = 3;
    /// adaptation_field_length: the bytes of the field after this one.
    pub const AF_LENGTH: usize = 4;
    /// discontinuity, random_access, ES priority, PCR, OPCR, splicing
    /// point, private data, extension.
    pub const AF_FLAGS: usize = 5;
    /// program_clock_reference: 33-bit base, 6 reserved bits, 9-bit extension.
    pub const PCR: Field = 6..12;
    /// Where the adaptation field (or, without one, the payload) begins.
    pub const BODY: usize = 4;
}

const TRANSPORT_ERROR: u8 = 0x80;
const PAYLOAD_UNIT_START: u8 = 0x40;
const HAS_ADAPTATION: u8 = 0x20;
const HAS_PAYLOAD: u8 = 0x10;
const DISCONTINUITY: u8 = 0x80;
const RANDOM_ACCESS: u8 = 0x40;
const ES_PRIORITY: u8 = 0x20;
const PCR_FLAG: u8 = 0x10;
/// The flags byte and the six PCR bytes.
const PCR_FIELD_LEN: usize = 7;

/// A transport packet over any byte buffer, read in place.
#[derive(Debug, Clone)]
pub struct TsPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TsPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic on bad bytes.
    pub const fn new_unchecked(buffer: T) -> TsPacket<T> {
        TsPacket { buffer }
    }

    /// Wraps a buffer after [`TsPacket::check_len`]; no accessor panics then.
    pub fn new_checked(buffer: T) -> Result<TsPacket<T>> {
        let packet = TsPacket::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer is one packet whose adaptation field fits in
    /// it: exactly 188 bytes, the sync byte, a defined
    /// adaptation_field_control, and a field length that leaves room for
    /// the payload it announces and for a PCR if it flags one.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() != PACKET_LEN || data[field::SYNC] != SYNC_BYTE {
            return Err(Error);
        }
        if !self.has_adaptation() && !self.has_payload() {
            return Err(Error); // '00' is reserved
        }
        if self.has_adaptation() {
            let len = usize::from(data[field::AF_LENGTH]);
            let max = if self.has_payload() { 182 } else { 183 };
            let pcr = len > 0 && data[field::AF_FLAGS] & PCR_FLAG != 0;
            if len > max || (pcr && len < PCR_FIELD_LEN) {
                return Err(Error);
            }
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn transport_error(&self) -> bool {
        self.buffer.as_ref()[field::PID.start] & TRANSPORT_ERROR != 0
    }

    /// Whether a PES packet or a PSI section starts in this packet.
    pub fn payload_unit_start(&self) -> bool {
        self.buffer.as_ref()[field::PID.start] & PAYLOAD_UNIT_START != 0
    }

    pub fn pid(&self) -> u16 {
        let data = self.buffer.as_ref();
        u16::from_be_bytes([data[field::PID.start], data[field::PID.end - 1]]) & 0x1FFF
    }

    pub fn has_adaptation(&self) -> bool {
        self.buffer.as_ref()[field::CONTROL] & HAS_ADAPTATION != 0
    }

    pub fn has_payload(&self) -> bool {
        self.buffer.as_ref()[field::CONTROL] & HAS_PAYLOAD != 0
    }

    pub fn continuity_counter(&self) -> u8 {
        self.buffer.as_ref()[field::CONTROL] & 0x0F
    }

    /// adaptation_field_length, or 0 without an adaptation field.
    pub fn adaptation_len(&self) -> usize {
        if self.has_adaptation() {
            usize::from(self.buffer.as_ref()[field::AF_LENGTH])
        } else {
            0
        }
    }

    /// The adaptation flags byte, 0 when there is none.
    fn adaptation_flags(&self) -> u8 {
        if self.adaptation_len() > 0 {
            self.buffer.as_ref()[field::AF_FLAGS]
        } else {
            0
        }
    }

    pub fn discontinuity(&self) -> bool {
        self.adaptation_flags() & DISCONTINUITY != 0
    }

    pub fn random_access(&self) -> bool {
        self.adaptation_flags() & RANDOM_ACCESS != 0
    }

    pub fn es_priority(&self) -> bool {
        self.adaptation_flags() & ES_PRIORITY != 0
    }

    pub fn pcr(&self) -> Option<Pcr27M> {
        if self.adaptation_flags() & PCR_FLAG == 0 {
            return None;
        }
        let b = &self.buffer.as_ref()[field::PCR];
        let bits = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        let base = bits >> 15;
        let extension = (bits & 0x1FF) as u16;
        Some(Pcr27M::from_base_and_extension(base, extension))
    }

    /// The payload: what follows the adaptation field, empty if none.
    pub fn payload(&self) -> &[u8] {
        if !self.has_payload() {
            return &[];
        }
        let skip = if self.has_adaptation() {
            1 + self.adaptation_len()
        } else {
            0
        };
        &self.buffer.as_ref()[field::BODY + skip..]
    }
}

/// The adaptation-field flags the muxer sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdaptationRepr {
    pub discontinuity: bool,
    pub random_access: bool,
    /// elementary_stream_priority_indicator: AV1's carriage sets it on
    /// the packet with the start of a key frame.
    pub es_priority: bool,
    pub pcr: Option<Pcr27M>,
}

impl AdaptationRepr {
    pub fn parse<T: AsRef<[u8]>>(packet: &TsPacket<T>) -> AdaptationRepr {
        AdaptationRepr {
            discontinuity: packet.discontinuity(),
            random_access: packet.random_access(),
            es_priority: packet.es_priority(),
            pcr: packet.pcr(),
        }
    }

    /// No flag set: an adaptation field is needed only for stuffing.
    pub fn is_empty(&self) -> bool {
        *self == AdaptationRepr::default()
    }

    /// The shortest field that carries these flags: length byte, flags
    /// byte, and the PCR if any. 0 when nothing needs carrying.
    pub fn buffer_len(&self) -> usize {
        match (self.is_empty(), self.pcr.is_some()) {
            (true, _) => 0,
            (false, false) => 2,
            (false, true) => 1 + PCR_FIELD_LEN,
        }
    }

    /// Writes the field into all of `buffer` (length byte included),
    /// padding it with 0xFF stuffing. `buffer` must be at least one byte
    /// and at least [`AdaptationRepr::buffer_len`] long.
    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[0] = (buffer.len() - 1) as u8;
        if buffer.len() == 1 {
            return; // a lone length byte is a legal single byte of stuffing
        }
        let mut flags = 0;
        if self.discontinuity {
            flags |= DISCONTINUITY;
        }
        if self.random_access {
            flags |= RANDOM_ACCESS;
        }
        if self.es_priority {
            flags |= ES_PRIORITY;
        }
        let mut used = 2;
        if let Some(pcr) = self.pcr {
            flags |= PCR_FLAG;
            let (base, extension) = pcr.base_and_extension();
            let bits = (base << 15) | (0x3F << 9) | u64::from(extension);
            buffer[2..8].copy_from_slice(&bits.to_be_bytes()[2..]);
            used = 8;
        }
        buffer[1] = flags;
        buffer[used..].fill(0xFF);
    }
}

/// Everything of a packet except its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsHeaderRepr {
    pub pid: u16,
    pub payload_unit_start: bool,
    pub continuity_counter: u8,
    pub adaptation: AdaptationRepr,
}

impl TsHeaderRepr {
    pub fn parse<T: AsRef<[u8]>>(packet: &TsPacket<T>) -> TsHeaderRepr {
        TsHeaderRepr {
            pid: packet.pid(),
            payload_unit_start: packet.payload_unit_start(),
            continuity_counter: packet.continuity_counter(),
            adaptation: AdaptationRepr::parse(packet),
        }
    }

    /// The most payload a packet with this header can carry.
    pub fn payload_capacity(&self) -> usize {
        BODY_LEN - self.adaptation.buffer_len()
    }

    /// Writes a whole packet: this header, then an adaptation field grown
    /// with stuffing so that `payload` ends exactly at byte 188. An empty
    /// payload makes an adaptation-only packet. `payload` must be at most
    /// [`TsHeaderRepr::payload_capacity`] bytes, else this panics.
    pub fn emit(&self, payload: &[u8], buffer: &mut [u8; PACKET_LEN]) {
        assert!(
            payload.len() <= self.payload_capacity(),
            "payload of {} bytes exceeds the packet's {}",
            payload.len(),
            self.payload_capacity()
        );
        let adaptation_len = BODY_LEN - payload.len();
        let pid = (self.pid & 0x1FFF).to_be_bytes();
        buffer[field::SYNC] = SYNC_BYTE;
        buffer[field::PID.start] = pid[0];
        buffer[field::PID.start + 1] = pid[1];
        if self.payload_unit_start {
            buffer[field::PID.start] |= PAYLOAD_UNIT_START;
        }
        let mut control = self.continuity_counter & 0x0F;
        if adaptation_len > 0 {
            control |= HAS_ADAPTATION;
            self.adaptation
                .emit(&mut buffer[field::BODY..field::BODY + adaptation_len]);
        }
        if !payload.is_empty() {
            control |= HAS_PAYLOAD;
        }
        buffer[field::CONTROL] = control;
        buffer[field::BODY + adaptation_len..].copy_from_slice(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An adaptation-only packet on PID 0x100 carrying PCR = 1 s + 1 tick
    /// (base 90 000 = 0x15F90, extension 1), assembled from §2.4.3.4 by hand:
    /// 47 | 01 00: no error, no PUSI, PID 0x100 | 2F: not scrambled, AFC '10'
    /// (field only), CC 15 | B7: 183 bytes of field | 10: PCR flag |
    /// 00 00 AF C8 7E 01: the 48 bits base << 15 | 0x3F << 9 (reserved
    /// ones) | extension = 0xAFC80000 + 0x7E00 + 1 | then 0xFF stuffing.
    #[test]
    fn golden_pcr_adaptation_field() {
        let mut expected = [0xFFu8; PACKET_LEN];
        expected[..12].copy_from_slice(&[
            0x47, 0x01, 0x00, 0x2F, 0xB7, 0x10, 0x00, 0x00, 0xAF, 0xC8, 0x7E, 0x01,
        ]);
        let header = TsHeaderRepr {
            pid: 0x100,
            payload_unit_start: false,
            continuity_counter: 15,
            adaptation: AdaptationRepr {
                pcr: Some(Pcr27M(27_000_001)),
                ..AdaptationRepr::default()
            },
        };
        let mut packet = [0u8; PACKET_LEN];
        header.emit(&[], &mut packet);
        assert_eq!(packet, expected);

        let parsed = TsPacket::new_checked(&expected[..]).unwrap();
        assert_eq!(parsed.pcr(), Some(Pcr27M(27_000_001)));
        assert!(!parsed.has_payload());
        assert_eq!(parsed.payload(), &[] as &[u8]);
        assert_eq!(TsHeaderRepr::parse(&parsed), header);
    }

    #[test]
    fn stuffing_grows_the_adaptation_field() {
        for len in 0..=BODY_LEN {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let header = TsHeaderRepr {
                pid: 0x1234 & 0x1FFF,
                payload_unit_start: true,
                continuity_counter: 7,
                adaptation: AdaptationRepr::default(),
            };
            let mut packet = [0u8; PACKET_LEN];
            header.emit(&payload, &mut packet);
            let parsed = TsPacket::new_checked(&packet[..]).unwrap();
            assert_eq!(parsed.payload(), &payload[..], "len {len}");
            assert_eq!(parsed.has_adaptation(), len < BODY_LEN);
            assert_eq!(TsHeaderRepr::parse(&parsed), header);
        }
    }

    #[test]
    fn random_access_and_pcr_share_the_field() {
        let header = TsHeaderRepr {
            pid: 0x101,
            payload_unit_start: true,
            continuity_counter: 3,
            adaptation: AdaptationRepr {
                random_access: true,
                discontinuity: false,
                es_priority: true,
                pcr: Some(Pcr27M((1 << 33) * 300 - 1)),
            },
        };
        assert_eq!(header.payload_capacity(), 176);
        let mut packet = [0u8; PACKET_LEN];
        header.emit(&[0xAB; 176], &mut packet);
        // 47 41 01 33 | 07: adaptation_field_length | 70: random_access
        // 0x40, ES priority 0x20, PCR 0x10.
        assert_eq!(packet[..6], [0x47, 0x41, 0x01, 0x33, 0x07, 0x70]);
        let parsed = TsPacket::new_checked(&packet[..]).unwrap();
        assert!(parsed.es_priority());
        assert_eq!(TsHeaderRepr::parse(&parsed), header);
        assert_eq!(parsed.payload(), &[0xAB; 176]);
    }

    #[test]
    fn checks_reject_bad_framing() {
        let mut packet = [0u8; PACKET_LEN];
        packet[0] = SYNC_BYTE;
        packet[3] = 0x10;
        assert!(TsPacket::new_checked(&packet[..]).is_ok());
        assert!(TsPacket::new_checked(&packet[..187]).is_err());
        packet[3] = 0x00; // reserved adaptation_field_control
        assert!(TsPacket::new_checked(&packet[..]).is_err());
        packet[3] = 0x30;
        packet[4] = 183; // leaves no room for the payload it announces
        assert!(TsPacket::new_checked(&packet[..]).is_err());
        packet[4] = 3;
        packet[5] = PCR_FLAG; // too short for the PCR it flags
        assert!(TsPacket::new_checked(&packet[..]).is_err());
        packet[0] = 0x48;
        packet[5] = 0;
        assert!(TsPacket::new_checked(&packet[..]).is_err());
    }
}
