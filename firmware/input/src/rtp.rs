//! Transport streams sent over RTP (RFC 3550, payload per RFC 2250): many
//! encoders and IPTV headends put a 12-byte RTP header before every
//! datagram's packets even when the receiver expects plain UDP. The
//! header carries nothing a receiver of the transport stream needs (the
//! packets have their own continuity counters and PCR), so it is taken
//! off before the packets are looked for; left on, every datagram would
//! count a sync loss.

use makara_mpegts::packet::{PACKET_LEN, SYNC_BYTE};

/// RTP version 2, in the first byte's top two bits.
const VERSION_2: u8 = 0b10;
const FIXED_HEADER: usize = 12;

/// The transport packets of a datagram: after its RTP header when it is
/// an RTP packet whose payload is whole TS packets, else the datagram
/// as it is. A plain TS datagram starts with 0x47, whose top bits are not
/// RTP's version 2, so it is never taken for RTP.
pub fn ts_payload(datagram: &[u8]) -> &[u8] {
    rtp_payload(datagram)
        .filter(|p| !p.is_empty() && p.len() % PACKET_LEN == 0 && p[0] == SYNC_BYTE)
        .unwrap_or(datagram)
}

/// The payload of an RTP packet (header, CSRCs, extension and padding
/// removed), or `None` when `datagram` cannot be one.
fn rtp_payload(datagram: &[u8]) -> Option<&[u8]> {
    let first = *datagram.first()?;
    if first >> 6 != VERSION_2 {
        return None;
    }
    let padded = first & 0x20 != 0;
    let extended = first & 0x10 != 0;
    let csrc_count = usize::from(first & 0x0F);
    let mut start = FIXED_HEADER + 4 * csrc_count;
    if extended {
        let words = datagram.get(start + 2..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    let mut end = datagram.len();
    if padded {
        end = end.checked_sub(usize::from(*datagram.last()?))?;
    }
    datagram.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(count: usize) -> Vec<u8> {
        (0..count)
            .flat_map(|i| {
                let mut p = [i as u8; PACKET_LEN];
                p[0] = SYNC_BYTE;
                p
            })
            .collect()
    }

    /// Version 2, payload type 33 (MP2T), sequence 7, timestamp and SSRC.
    const HEADER: [u8; 12] = [0x80, 33, 0, 7, 0, 0, 0x0B, 0xB8, 0xDE, 0xAD, 0xBE, 0xEF];

    #[test]
    fn the_fixed_header_is_taken_off() {
        let ts = packets(7);
        let datagram = [&HEADER[..], &ts].concat();
        assert_eq!(ts_payload(&datagram), &ts[..]);
    }

    #[test]
    fn csrcs_extension_and_padding_are_taken_off() {
        let ts = packets(2);
        let mut header = HEADER.to_vec();
        header[0] = 0x80 | 0x20 | 0x10 | 2; // padding, extension, 2 CSRCs
        header.extend_from_slice(&[1, 1, 1, 1, 2, 2, 2, 2]); // the CSRCs
        header.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]); // one extension word
        let datagram = [&header[..], &ts, &[0, 0, 3]].concat(); // 3 bytes of padding
        assert_eq!(ts_payload(&datagram), &ts[..]);
    }

    #[test]
    fn plain_transport_streams_pass_unchanged() {
        let ts = packets(7);
        assert_eq!(ts_payload(&ts), &ts[..]);
    }

    #[test]
    fn what_is_not_whole_packets_after_a_header_passes_unchanged() {
        // Version 2 bits, but the rest is not TS: left for the aligner.
        let mut odd = [&HEADER[..], &packets(1)].concat();
        odd.push(0);
        assert_eq!(ts_payload(&odd), &odd[..]);
        let no_sync = [&HEADER[..], &[0u8; PACKET_LEN]].concat();
        assert_eq!(ts_payload(&no_sync), &no_sync[..]);
        assert_eq!(ts_payload(&HEADER), &HEADER[..]);
        assert_eq!(ts_payload(&[]), &[] as &[u8]);
    }

    #[test]
    fn headers_claiming_more_than_the_datagram_are_not_rtp() {
        let mut short = HEADER.to_vec();
        short[0] = 0x80 | 0x0F; // 15 CSRCs, none there
        assert_eq!(ts_payload(&short), &short[..]);
        let mut padded = [&HEADER[..], &packets(1)].concat();
        padded[0] |= 0x20;
        *padded.last_mut().unwrap() = 255; // more padding than bytes
        assert_eq!(ts_payload(&padded), &padded[..]);
    }
}
