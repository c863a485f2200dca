//! UDP generic segmentation offload (Linux 4.18 and later): several
//! datagrams of one size leave in one `sendmsg`, and the kernel (or the NIC)
//! cuts the buffer back into those datagrams at the segment size. Receivers
//! and taps on a real NIC see the same datagrams as from single sends.
//!
//! The one control message it takes, `UDP_SEGMENT`, is written here byte by
//! byte in the kernel's `struct cmsghdr` layout: no `unsafe`, no libc macro.
//! A malformed message could only make the kernel refuse the send.

use std::mem::size_of;

/// `SOL_UDP` and `UDP_SEGMENT` of `<linux/udp.h>`.
const SOL_UDP: i32 = 17;
const UDP_SEGMENT: i32 = 103;
/// The kernel's `UDP_MAX_SEGMENTS`: at most this many datagrams per send.
pub const MAX_SEGMENTS: usize = 64;
/// Bytes of payload one IPv4 UDP datagram can carry: the whole batch must
/// fit one (65,535 minus the IPv4 and UDP headers).
pub const MAX_BATCH_BYTES: usize = 65_507;

/// `cmsg_len` is a `size_t`; the data and the next header align to it.
const WORD: usize = size_of::<usize>();
/// `CMSG_LEN(0)`: `cmsg_len`, `cmsg_level`, `cmsg_type`.
const HEADER_LEN: usize = WORD + 2 * size_of::<i32>();
const DATA_OFFSET: usize = align(HEADER_LEN);
/// `CMSG_SPACE(sizeof(u16))`.
pub const CONTROL_LEN: usize = DATA_OFFSET + align(size_of::<u16>());

const fn align(len: usize) -> usize {
    (len + WORD - 1) & !(WORD - 1)
}

/// The control message asking for datagrams of `segment` bytes.
pub fn segment_control(segment: u16) -> [u8; CONTROL_LEN] {
    let mut control = [0u8; CONTROL_LEN];
    let cmsg_len = HEADER_LEN + size_of::<u16>();
    control[..WORD].copy_from_slice(&cmsg_len.to_ne_bytes());
    control[WORD..WORD + 4].copy_from_slice(&SOL_UDP.to_ne_bytes());
    control[WORD + 4..WORD + 8].copy_from_slice(&UDP_SEGMENT.to_ne_bytes());
    control[DATA_OFFSET..DATA_OFFSET + 2].copy_from_slice(&segment.to_ne_bytes());
    control
}

/// Splits datagrams, in order, into runs that one segmentation send can
/// carry: one size, at most [`MAX_SEGMENTS`], at most [`MAX_BATCH_BYTES`].
pub fn runs<'a, 'd>(datagrams: &'a [&'d [u8]]) -> impl Iterator<Item = &'a [&'d [u8]]> {
    let mut rest = datagrams;
    std::iter::from_fn(move || {
        let size = rest.first()?.len();
        let limit = MAX_SEGMENTS.min(MAX_BATCH_BYTES / size.max(1)).max(1);
        let len = rest
            .iter()
            .take(limit)
            .take_while(|d| d.len() == size)
            .count()
            .max(1);
        let (run, tail) = rest.split_at(len);
        rest = tail;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_pointer_width = "64", target_endian = "little"))]
    #[test]
    fn the_control_message_in_the_kernel_layout() {
        // cmsg_len 18 (16 header + 2), SOL_UDP 17, UDP_SEGMENT 103, 1316,
        // padded to CMSG_SPACE(2) = 24.
        let expected = [
            18, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 103, 0, 0, 0, 0x24, 0x05, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(segment_control(1316), expected);
    }

    fn lens(runs: Vec<&[&[u8]]>) -> Vec<(usize, usize)> {
        runs.iter().map(|r| (r.len(), r[0].len())).collect()
    }

    #[test]
    fn runs_respect_the_segment_and_byte_limits() {
        let big = [0u8; 1316];
        let datagrams = vec![&big[..]; 100];
        // 65,507 / 1,316 = 49 datagrams per send.
        assert_eq!(
            lens(runs(&datagrams).collect()),
            [(49, 1316), (49, 1316), (2, 1316)]
        );
        let small = [0u8; 188];
        let datagrams = vec![&small[..]; 100];
        assert_eq!(lens(runs(&datagrams).collect()), [(64, 188), (36, 188)]);
    }

    #[test]
    fn a_size_change_starts_a_new_run() {
        let (a, b) = ([0u8; 1316], [0u8; 940]);
        let datagrams = [&a[..], &a[..], &b[..], &a[..]];
        assert_eq!(
            lens(runs(&datagrams).collect()),
            [(2, 1316), (1, 940), (1, 1316)]
        );
        assert_eq!(runs(&[]).count(), 0);
    }
}
