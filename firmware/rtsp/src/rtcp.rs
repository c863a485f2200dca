//! RTCP (RFC 3550 §6): the sender reports the server sends (with the
//! CNAME every compound packet carries) and what it reads from a
//! client's compound packets: receiver reports, which show the client is
//! there, and BYE, which says it left.

use std::time::Duration;

/// Seconds from 1900 (NTP's epoch) to 1970 (Unix's).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

const SENDER_REPORT: u8 = 200;
const RECEIVER_REPORT: u8 = 201;
const SOURCE_DESCRIPTION: u8 = 202;
const BYE: u8 = 203;

/// A time since the Unix epoch as a 64-bit NTP timestamp (32.32 fixed
/// point seconds since 1900).
pub fn ntp(since_unix_epoch: Duration) -> u64 {
    let seconds = since_unix_epoch.as_secs() + NTP_UNIX_OFFSET;
    let fraction = (u64::from(since_unix_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

/// The sender-info block of a sender report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    pub ssrc: u32,
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

/// A compound packet: a sender report without report blocks, then a
/// source description with the CNAME.
pub fn sender_report(info: &SenderInfo, cname: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    // V=2, RC=0; 6 words after the first.
    out.extend_from_slice(&[0x80, SENDER_REPORT, 0, 6]);
    out.extend_from_slice(&info.ssrc.to_be_bytes());
    out.extend_from_slice(&info.ntp.to_be_bytes());
    out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
    out.extend_from_slice(&info.packets.to_be_bytes());
    out.extend_from_slice(&info.octets.to_be_bytes());
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    // SSRC, CNAME item (type 1, length, text), the terminating zero, and
    // padding to a 32-bit boundary.
    let chunk_len = 4 + 2 + cname.len() + 1;
    let padded = chunk_len.div_ceil(4) * 4;
    out.extend_from_slice(&[0x81, SOURCE_DESCRIPTION]);
    out.extend_from_slice(&((padded / 4) as u16).to_be_bytes());
    out.extend_from_slice(&info.ssrc.to_be_bytes());
    out.extend_from_slice(&[1, cname.len() as u8]);
    out.extend_from_slice(cname);
    out.resize(out.len() + padded - chunk_len + 1, 0);
    out
}

/// The sender info of the first packet, if it is a sender report.
pub fn parse_sender_info(bytes: &[u8]) -> Option<SenderInfo> {
    if bytes.len() < 28 || bytes[0] >> 6 != 2 || bytes[1] != SENDER_REPORT {
        return None;
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some(SenderInfo {
        ssrc: word(4),
        ntp: (u64::from(word(8)) << 32) | u64::from(word(12)),
        rtp_timestamp: word(16),
        packets: word(20),
        octets: word(24),
    })
}

/// What a client's compound packet said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientReport {
    /// The SSRC of the client's receiver reports.
    pub reporter: Option<u32>,
    /// Report blocks about our streams: (our SSRC, cumulative packets
    /// lost).
    pub blocks: Vec<(u32, i32)>,
    /// The client sent BYE: it is leaving.
    pub bye: bool,
}

/// Reads a compound RTCP packet from a client; `None` if it is not one
/// (RTP, a NAT probe, garbage), which the caller ignores.
pub fn parse_client(bytes: &[u8]) -> Option<ClientReport> {
    let mut report = ClientReport::default();
    let mut rest = bytes;
    let mut seen = false;
    while rest.len() >= 4 {
        if rest[0] >> 6 != 2 {
            return None;
        }
        let count = usize::from(rest[0] & 0x1f);
        let packet_type = rest[1];
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        let packet = rest.get(..len)?;
        match packet_type {
            RECEIVER_REPORT | SENDER_REPORT => {
                report.reporter = packet
                    .get(4..8)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                let first = if packet_type == SENDER_REPORT { 28 } else { 8 };
                for i in 0..count {
                    let Some(block) = packet.get(first + i * 24..first + (i + 1) * 24) else {
                        break;
                    };
                    let ssrc = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                    // 24 bits, signed.
                    let lost = i32::from_be_bytes([block[5], block[6], block[7], 0]) >> 8;
                    report.blocks.push((ssrc, lost));
                }
            }
            BYE => report.bye = true,
            192..=223 => {}
            _ => return None,
        }
        seen = true;
        rest = &rest[len..];
    }
    seen.then_some(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_golden() {
        assert_eq!(ntp(Duration::ZERO), NTP_UNIX_OFFSET << 32);
        assert_eq!(
            ntp(Duration::from_millis(1500)),
            ((NTP_UNIX_OFFSET + 1) << 32) | 0x8000_0000
        );
    }

    #[test]
    fn sender_report_golden() {
        let info = SenderInfo {
            ssrc: 0xaabb_ccdd,
            ntp: 0x1111_2222_3333_4444,
            rtp_timestamp: 0x5555_6666,
            packets: 7,
            octets: 0x0102,
        };
        let bytes = sender_report(&info, "mk");
        assert_eq!(
            bytes,
            [
                0x80, 200, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44,
                0x44, 0x55, 0x55, 0x66, 0x66, 0, 0, 0, 7, 0, 0, 1, 2, //
                0x81, 202, 0, 3, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, b'm', b'k', 0, 0, 0, 0,
            ]
        );
        assert_eq!(parse_sender_info(&bytes), Some(info));
        // The whole compound packet parses, and ends on a word boundary.
        assert_eq!(bytes.len() % 4, 0);
        assert!(parse_client(&bytes).is_some());
    }

    #[test]
    fn a_receiver_report_and_a_bye() {
        let mut bytes = vec![0x81, 201, 0, 7, 0, 0, 0, 9];
        bytes.extend_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd, 0, 0xff, 0xff, 0xfe]);
        bytes.extend_from_slice(&[0; 16]);
        let report = parse_client(&bytes).unwrap();
        assert_eq!(report.reporter, Some(9));
        assert_eq!(report.blocks, [(0xaabb_ccdd, -2)]);
        assert!(!report.bye);
        bytes.extend_from_slice(&[0x81, 203, 0, 1, 0, 0, 0, 9]);
        assert!(parse_client(&bytes).unwrap().bye);
    }

    #[test]
    fn rtp_and_garbage_are_not_reports() {
        assert_eq!(parse_client(&[0x80, 96, 0, 1, 0, 0, 0, 0]), None);
        assert_eq!(parse_client(&[0x81, 201, 0, 9, 0, 0]), None);
        assert_eq!(parse_client(&[]), None);
        assert_eq!(parse_client(b"\xce\xfa\xed\xfe"), None);
    }
}
