//! Metadata for the KLV PID: a test pattern has no camera metadata of its
//! own, so it sends the smallest valid MISB ST 0601 local set per frame: a
//! precision time stamp (when the frame was captured, as UTC microseconds),
//! the standard's version, and its checksum.

/// The ST 0601 UAS Datalink Local Set key.
const UAS_LOCAL_SET_KEY: [u8; 16] = [
    0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00,
];
const TAG_CHECKSUM: u8 = 1;
const TAG_PRECISION_TIME_STAMP: u8 = 2;
const TAG_VERSION: u8 = 65;
/// ST 0601.11.
const VERSION: u8 = 11;

/// One ST 0601 packet stamped `unix_micros`.
pub fn st0601_packet(unix_micros: u64) -> Vec<u8> {
    let mut body = Vec::with_capacity(17);
    body.extend_from_slice(&[TAG_PRECISION_TIME_STAMP, 8]);
    body.extend_from_slice(&unix_micros.to_be_bytes());
    body.extend_from_slice(&[TAG_VERSION, 1, VERSION]);
    body.extend_from_slice(&[TAG_CHECKSUM, 2]);
    let value_len = body.len() + 2;
    let mut packet = Vec::with_capacity(16 + 1 + value_len);
    packet.extend_from_slice(&UAS_LOCAL_SET_KEY);
    // Short-form BER length: the set is far below 128 bytes.
    packet.push(value_len as u8);
    packet.extend_from_slice(&body);
    let sum = checksum(&packet);
    packet.extend_from_slice(&sum.to_be_bytes());
    packet
}

/// ST 0601's running 16-bit sum: even bytes count as the high byte, odd
/// bytes as the low one, over the packet up to the checksum's length.
fn checksum(bytes: &[u8]) -> u16 {
    bytes.iter().enumerate().fold(0u16, |sum, (i, &b)| {
        let shifted = if i % 2 == 0 {
            u16::from(b) << 8
        } else {
            u16::from(b)
        };
        sum.wrapping_add(shifted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_checksum() {
        let p = st0601_packet(0x0004_59F4_A6AA_4AA8);
        assert_eq!(&p[..16], &UAS_LOCAL_SET_KEY);
        assert_eq!(usize::from(p[16]), p.len() - 17);
        assert_eq!(&p[17..19], &[2, 8]);
        assert_eq!(&p[19..27], &0x0004_59F4_A6AA_4AA8u64.to_be_bytes());
        assert_eq!(&p[27..30], &[65, 1, 11]);
        assert_eq!(&p[30..32], &[1, 2]);
        // A receiver recomputes the sum over everything before the value.
        let stored = u16::from_be_bytes([p[32], p[33]]);
        assert_eq!(stored, checksum(&p[..32]));
    }

    #[test]
    fn checksum_weights_alternate_bytes() {
        assert_eq!(checksum(&[0x01, 0x02, 0x03]), 0x0102 + 0x0300);
        assert_eq!(
            checksum(&[0xFF, 0xFF, 0xFF, 0xFF]),
            0xFFFFu16.wrapping_add(0xFFFF)
        );
    }
}
