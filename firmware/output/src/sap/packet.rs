//! The SAP packet (RFC 2974 section 3), sans-IO.
//!
//! ```text
//!  0                   1                   2                   3
//! | V=1 |A|R|T|E|C|   auth len    |         msg id hash           |
//! |             originating source (32 or 128 bits)               |
//! | payload type "application/sdp" NUL | payload                  |
//! ```
//!
//! Makara sends no authentication data, no encryption, no compression.

use std::net::IpAddr;

/// What a SAP packet says about its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// The session exists; the payload is its SDP.
    Announcement,
    /// The session is gone; the payload is its SDP `o=` line.
    Deletion,
}

/// Version 1 in the three top bits.
const VERSION_1: u8 = 0b001 << 5;
/// A: the originating source is an IPv6 address.
const ADDRESS_IPV6: u8 = 1 << 4;
/// T: a session deletion packet.
const DELETION: u8 = 1 << 2;
/// The optional payload type, always sent, NUL-terminated.
const PAYLOAD_TYPE: &[u8] = b"application/sdp\0";

/// A whole SAP packet: header, payload type, payload.
pub fn sap_packet(kind: MessageType, origin: IpAddr, hash: u16, payload: &[u8]) -> Vec<u8> {
    let mut flags = VERSION_1;
    if origin.is_ipv6() {
        flags |= ADDRESS_IPV6;
    }
    if kind == MessageType::Deletion {
        flags |= DELETION;
    }
    let mut packet = Vec::with_capacity(20 + PAYLOAD_TYPE.len() + payload.len());
    packet.push(flags);
    packet.push(0); // authentication length, in 32-bit words
    packet.extend_from_slice(&hash.to_be_bytes());
    match origin {
        IpAddr::V4(ip) => packet.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => packet.extend_from_slice(&ip.octets()),
    }
    packet.extend_from_slice(PAYLOAD_TYPE);
    packet.extend_from_slice(payload);
    packet
}

/// The message identifier hash of a session description: with the
/// originating source it names this version of the announcement, so it must
/// change when the SDP does, and RFC 2974 forbids 0. FNV-1a over the SDP,
/// folded to 16 bits.
pub fn message_id_hash(sdp: &[u8]) -> u16 {
    let hash = sdp.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    match (hash >> 16) as u16 ^ hash as u16 {
        0 => 1,
        folded => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_announcement() {
        let packet = sap_packet(
            MessageType::Announcement,
            "192.0.2.10".parse().unwrap(),
            0xbeef,
            b"v=0\r\n",
        );
        let mut expected = vec![0x20, 0, 0xbe, 0xef, 192, 0, 2, 10];
        expected.extend_from_slice(b"application/sdp\0v=0\r\n");
        assert_eq!(packet, expected);
    }

    #[test]
    fn an_ipv6_deletion() {
        let packet = sap_packet(
            MessageType::Deletion,
            "2001:db8::1".parse().unwrap(),
            0x0102,
            b"o=x\r\n",
        );
        let mut expected = vec![0x34, 0, 0x01, 0x02, 0x20, 0x01, 0x0d, 0xb8];
        expected.extend_from_slice(&[0; 11]);
        expected.push(1);
        expected.extend_from_slice(b"application/sdp\0o=x\r\n");
        assert_eq!(packet, expected);
    }

    #[test]
    fn the_hash_follows_the_description() {
        // FNV-1a of the empty input is 0x811c9dc5; 0x811c ^ 0x9dc5 = 0x1cd9.
        assert_eq!(message_id_hash(b""), 0x1cd9);
        assert_ne!(message_id_hash(b"s=a\r\n"), message_id_hash(b"s=b\r\n"));
    }
}
