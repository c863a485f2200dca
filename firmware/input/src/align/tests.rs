use super::*;

/// A packet whose every byte says where it came from: header for `pid`
/// and `cc`, payload bytes `seed, seed+1, ...` (never a sync byte at 0).
fn packet(pid: u16, cc: u8, seed: u8) -> Packet {
    let mut p = [0u8; PACKET_LEN];
    p[0] = SYNC_BYTE;
    p[1] = (pid >> 8) as u8 & 0x1F;
    p[2] = pid as u8;
    p[3] = 0x10 | (cc & 0x0F);
    for (i, b) in p[4..].iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8);
    }
    p
}

fn stream(count: usize) -> Vec<Packet> {
    (0..count)
        .map(|i| packet(0x100, i as u8, i as u8 * 3))
        .collect()
}

fn bytes(packets: &[Packet]) -> Vec<u8> {
    packets.concat()
}

/// Garbage without a sync byte in it.
fn garbage(len: usize) -> Vec<u8> {
    (0..len).map(|i| 0x80 | (i as u8 & 0x3F)).collect()
}

fn align_all(chunks: &[&[u8]]) -> (Vec<Packet>, PacketAligner) {
    let mut aligner = PacketAligner::new();
    let mut out = Vec::new();
    for chunk in chunks {
        aligner.push(chunk, &mut out);
    }
    (out, aligner)
}

#[test]
fn whole_packets_pass_unchanged() {
    let packets = stream(10);
    let (out, aligner) = align_all(&[&bytes(&packets)]);
    assert_eq!(out, packets);
    assert_eq!(aligner.sync_losses(), 0);
    assert_eq!(aligner.bytes_skipped(), 0);
    assert!(aligner.is_locked());
}

#[test]
fn chunks_of_any_size_give_the_same_packets() {
    let packets = stream(12);
    let all = bytes(&packets);
    for size in 1..=400 {
        let chunks: Vec<&[u8]> = all.chunks(size).collect();
        let (out, aligner) = align_all(&chunks);
        assert_eq!(out, packets, "chunks of {size}");
        assert_eq!(aligner.sync_losses(), 0, "chunks of {size}");
    }
}

#[test]
fn a_partial_packet_waits_for_its_end() {
    let packets = stream(4);
    let all = bytes(&packets);
    let mut aligner = PacketAligner::new();
    let mut out = Vec::new();
    aligner.push(&all[..3 * PACKET_LEN + 100], &mut out);
    assert_eq!(out, packets[..3]);
    assert_eq!(aligner.buffered(), 100);
    aligner.push(&all[3 * PACKET_LEN + 100..], &mut out);
    assert_eq!(out, packets);
}

#[test]
fn garbage_before_the_first_packet_is_one_sync_loss() {
    let packets = stream(5);
    let input = [garbage(100), bytes(&packets)].concat();
    let (out, aligner) = align_all(&[&input]);
    assert_eq!(out, packets);
    assert_eq!(aligner.sync_losses(), 1);
    assert_eq!(aligner.bytes_skipped(), 100);
}

#[test]
fn garbage_between_packets_loses_no_packet() {
    let packets = stream(10);
    let input = [
        bytes(&packets[..4]),
        garbage(50),
        bytes(&packets[4..7]),
        garbage(1000),
        bytes(&packets[7..]),
    ]
    .concat();
    for size in [1, 7, 188, 1316, input.len()] {
        let chunks: Vec<&[u8]> = input.chunks(size).collect();
        let (out, aligner) = align_all(&chunks);
        assert_eq!(out, packets, "chunks of {size}");
        assert_eq!(aligner.sync_losses(), 2, "chunks of {size}");
        assert_eq!(aligner.bytes_skipped(), 1050, "chunks of {size}");
    }
}

#[test]
fn sync_bytes_in_garbage_do_not_lock_unless_confirmed() {
    let packets = stream(6);
    // Two sync bytes 188 apart in the garbage: one short of a lock.
    let mut junk = garbage(2 * PACKET_LEN + 10);
    junk[5] = SYNC_BYTE;
    junk[5 + PACKET_LEN] = SYNC_BYTE;
    let input = [bytes(&packets[..3]), junk.clone(), bytes(&packets[3..])].concat();
    let (out, aligner) = align_all(&[&input]);
    assert_eq!(out, packets);
    assert_eq!(aligner.sync_losses(), 1);
    assert_eq!(aligner.bytes_skipped(), junk.len() as u64);
}

#[test]
fn garbage_inside_a_packet_emits_it_damaged_then_resyncs() {
    let packets = stream(8);
    let mut damaged = packets[4].to_vec();
    damaged.splice(100..100, garbage(30));
    let input = [bytes(&packets[..4]), damaged.clone(), bytes(&packets[5..])].concat();
    let (out, aligner) = align_all(&[&input]);
    // The packet with garbage in it starts with a sync byte: it goes out
    // as its first 188 bytes; its last 30 bytes are skipped.
    let mut expected = packets.clone();
    expected[4] = Packet::try_from(&damaged[..PACKET_LEN]).unwrap();
    assert_eq!(out, expected);
    assert_eq!(aligner.sync_losses(), 1);
    assert_eq!(aligner.bytes_skipped(), 30);
}

#[test]
fn an_rtp_header_per_datagram_is_skipped_each_time() {
    let packets = stream(21);
    let mut out = Vec::new();
    let mut aligner = PacketAligner::new();
    for group in packets.chunks(7) {
        let datagram = [vec![0x80, 0x21], garbage(10), bytes(group)].concat();
        aligner.push(&datagram, &mut out);
    }
    assert_eq!(out, packets);
    assert_eq!(aligner.sync_losses(), 3);
    assert_eq!(aligner.bytes_skipped(), 36);
}

#[test]
fn a_short_tail_after_garbage_waits_for_confirmation() {
    let packets = stream(6);
    let mut aligner = PacketAligner::new();
    let mut out = Vec::new();
    // Garbage then two packets: not yet enough sync bytes to lock.
    aligner.push(&[garbage(20), bytes(&packets[..2])].concat(), &mut out);
    assert!(out.is_empty());
    assert!(!aligner.is_locked());
    aligner.push(&bytes(&packets[2..]), &mut out);
    assert_eq!(out, packets);
    assert_eq!(aligner.bytes_skipped(), 20);
}

#[test]
fn memory_stays_bounded_under_garbage() {
    let mut aligner = PacketAligner::new();
    let mut out = Vec::new();
    // Sync bytes every 188 bytes, broken every third: a long run of
    // candidates that never confirm.
    let mut junk = garbage(64 * 1024);
    for i in (0..junk.len()).step_by(PACKET_LEN) {
        if (i / PACKET_LEN) % 3 != 2 {
            junk[i] = SYNC_BYTE;
        }
    }
    for chunk in junk.chunks(1000) {
        aligner.push(chunk, &mut out);
        assert!(aligner.buffered() <= MAX_HELD);
    }
    assert!(out.is_empty());
    assert_eq!(aligner.sync_losses(), 1);
}

#[test]
fn all_sync_bytes_are_packets() {
    // Not garbage by any measure the aligner has: 0x47 everywhere lines up.
    let (out, aligner) = align_all(&[&[SYNC_BYTE; 3 * PACKET_LEN]]);
    assert_eq!(out, vec![[SYNC_BYTE; PACKET_LEN]; 3]);
    assert_eq!(aligner.sync_losses(), 0);
}

#[test]
fn restart_forgets_the_partial_packet() {
    let packets = stream(6);
    let all = bytes(&packets);
    let mut aligner = PacketAligner::new();
    let mut out = Vec::new();
    aligner.push(&all[..PACKET_LEN * 3 + 50], &mut out);
    aligner.restart();
    aligner.push(&all[PACKET_LEN * 3..], &mut out);
    assert_eq!(out, packets);
    assert_eq!(aligner.sync_losses(), 0);
}
