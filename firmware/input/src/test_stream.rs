//! Transport streams for tests: packets whose bytes say where they came
//! from, with continuity counts the test chooses.

use crate::align::Packet;

/// A payload-only packet of `pid` with count `cc`; the payload repeats
/// `seed` (never 0x47) so packets differ.
pub fn packet(pid: u16, cc: u8, seed: u8) -> Packet {
    let mut p = [seed & 0x3F; 188];
    p[..4].copy_from_slice(&[0x47, (pid >> 8) as u8 & 0x1F, pid as u8, 0x10 | (cc & 0x0F)]);
    p
}

/// `count` packets alternating between PIDs 0x100 and 0x101, each PID
/// counting up from 0 and skipping a count (one continuity error) before
/// each index in `gaps`.
pub fn stream(count: usize, gaps: &[usize]) -> Vec<Packet> {
    let mut counters = [0u8; 2];
    (0..count)
        .map(|i| {
            let which = i % 2;
            if gaps.contains(&i) {
                counters[which] = counters[which].wrapping_add(1);
            }
            let p = packet(0x100 + which as u16, counters[which], i as u8);
            counters[which] = counters[which].wrapping_add(1);
            p
        })
        .collect()
}

/// Bytes that hold no sync byte.
pub fn garbage(len: usize) -> Vec<u8> {
    (0..len).map(|i| 0x80 | (i as u8 & 0x3F)).collect()
}
