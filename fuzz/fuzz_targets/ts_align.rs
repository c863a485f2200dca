//! The packet aligner (`makara_input::PacketAligner`) on fuzzed bytes: the
//! first two bytes seed the sizes of the chunks the rest is cut into
//! (1 to 1500 bytes, as datagrams and SRT messages come), the rest is the
//! stream. Checked: every packet starts with the sync byte; every byte is
//! emitted, skipped or held, and at most `MAX_HELD` are held; cutting the
//! same bytes differently gives the same packets and counts; the
//! continuity checker's count agrees with the errors it reported. Each
//! chunk also goes through the RTP header remover (`makara_input::rtp`),
//! whose result must be the chunk itself or whole packets inside it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_input::align::MAX_HELD;
use makara_input::{rtp, ContinuityChecker, Packet, PacketAligner};

fuzz_target!(|data: &[u8]| {
    let [a, b, stream @ ..] = data else {
        return;
    };
    let mut seed = u32::from(u16::from_le_bytes([*a, *b])) | 1;
    let mut chunked = PacketAligner::new();
    let mut packets = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        // A small LCG: chunk sizes vary along the stream.
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = (1 + (seed >> 16) as usize % 1500).min(rest.len());
        let (chunk, tail) = rest.split_at(len);
        check_rtp(chunk);
        chunked.push(chunk, &mut packets);
        assert!(chunked.buffered() <= MAX_HELD);
        rest = tail;
    }
    assert!(packets.iter().all(|p| p[0] == 0x47));
    let accounted =
        packets.len() as u64 * 188 + chunked.bytes_skipped() + chunked.buffered() as u64;
    assert_eq!(accounted, stream.len() as u64);

    let mut whole = PacketAligner::new();
    let mut at_once: Vec<Packet> = Vec::new();
    whole.push(stream, &mut at_once);
    assert!(packets == at_once, "chunking changed the packets");
    assert_eq!(whole.sync_losses(), chunked.sync_losses());
    assert_eq!(whole.bytes_skipped(), chunked.bytes_skipped());

    let mut continuity = ContinuityChecker::new();
    let errors = packets.iter().filter(|p| continuity.check(p)).count();
    assert_eq!(errors as u64, continuity.errors());
});

/// `ts_payload` gives the datagram back, or whole TS packets from inside it.
fn check_rtp(datagram: &[u8]) {
    let payload = rtp::ts_payload(datagram);
    if payload.len() != datagram.len() {
        let start = payload.as_ptr() as usize - datagram.as_ptr() as usize;
        assert!(start + payload.len() <= datagram.len());
        assert!(payload.len() % 188 == 0 && payload[0] == 0x47);
    }
}
