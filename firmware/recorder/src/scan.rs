//! Reading a track file back: cutting it to whole packets, and measuring
//! how long it lasts, for a file whose writer did not finish it (a crash,
//! a full disk).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use makara_mpegts::packet::{TsPacket, PACKET_LEN, SYNC_BYTE};

use crate::program::ProgramMap;
use crate::timeline::Timeline;

const PACKET: u64 = PACKET_LEN as u64;
/// Packets read at a time.
const CHUNK_PACKETS: usize = 1024;
/// How far into a file the PAT and PMT must be: the gate puts them first.
const HEAD_BYTES: u64 = 4 << 20;

/// Cuts `file` back to its last whole packet and fsyncs it; returns its
/// length. Packets at the end that do not start with the sync byte (the
/// zeros a crash can leave after the last write) go too.
pub(crate) fn cut_to_whole_packets(file: &File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let whole = end_of_last_packet(file, len - len % PACKET)?;
    if whole != len {
        file.set_len(whole)?;
    }
    file.sync_all()?;
    Ok(whole)
}

/// Where the last packet that starts with the sync byte ends, at or
/// before `end` (a multiple of 188).
fn end_of_last_packet(file: &File, mut end: u64) -> io::Result<u64> {
    let mut buffer = vec![0u8; CHUNK_PACKETS * PACKET_LEN];
    while end > 0 {
        let start = end.saturating_sub(buffer.len() as u64);
        let chunk = &mut buffer[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        let synced = chunk
            .chunks_exact(PACKET_LEN)
            .rposition(|p| p[0] == SYNC_BYTE);
        if let Some(i) = synced {
            return Ok(start + (i as u64 + 1) * PACKET);
        }
        end = start;
    }
    Ok(0)
}

/// Seconds of stream in `file` between byte `from` and byte `to` (whole
/// packets; see [`Timeline`] for what counts), with the program learnt
/// from the PAT and PMT at the file's start.
pub(crate) fn measure(file: &File, from: u64, to: u64) -> io::Result<f64> {
    let mut map = ProgramMap::default();
    each_packet(file, 0, to.min(HEAD_BYTES), |p| {
        learn(&mut map, p);
        !map.known()
    })?;
    let mut timeline = Timeline::default();
    each_packet(file, from, to, |p| {
        learn(&mut map, p);
        if let Some(r) = TsPacket::new_checked(p)
            .ok()
            .and_then(|ts| map.reading(&ts))
        {
            if r.discontinuity {
                timeline.cut();
            }
            timeline.observe(r.ticks);
        }
        true
    })?;
    Ok(timeline.seconds())
}

fn learn(map: &mut ProgramMap, packet: &[u8]) {
    if let Ok(ts) = TsPacket::new_checked(packet) {
        if map.is_psi(ts.pid()) {
            map.push(packet);
        }
    }
}

/// Calls `each` with the packets from byte `from` to byte `to` until it
/// returns false.
fn each_packet(
    file: &File,
    from: u64,
    to: u64,
    mut each: impl FnMut(&[u8]) -> bool,
) -> io::Result<()> {
    let mut buffer = vec![0u8; CHUNK_PACKETS * PACKET_LEN];
    let mut at = from - from % PACKET;
    while at < to {
        let n = (to - at).min(buffer.len() as u64) as usize;
        let chunk = &mut buffer[..n - n % PACKET_LEN];
        if chunk.is_empty() {
            break;
        }
        file.read_exact_at(chunk, at)?;
        for packet in chunk.chunks_exact(PACKET_LEN) {
            if !each(packet) {
                return Ok(());
            }
        }
        at += chunk.len() as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};

    use makara_test_support::TestDir;

    use super::*;
    use crate::gate::Gate;
    use crate::testing::{self, StreamShape};

    fn open(path: &std::path::Path) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap()
    }

    #[test]
    fn a_torn_file_is_cut_to_its_last_whole_packet() {
        let dir = TestDir::new("recorder-cut");
        let packets = testing::stream(StreamShape::default(), 0.5);
        let mut bytes = testing::bytes(&packets);
        let whole = bytes.len() as u64;
        bytes.extend_from_slice(&[0x47, 1, 2]); // a write cut short
        let path = dir.write("t.ts", &bytes);
        assert_eq!(cut_to_whole_packets(&open(&path)).unwrap(), whole);
        assert_eq!(fs::read(&path).unwrap(), testing::bytes(&packets));
        // Zeros after the last packet, as a crash may leave.
        let mut zeros = testing::bytes(&packets);
        zeros.resize(zeros.len() + 3000 * PACKET_LEN + 17, 0);
        let path = dir.write("z.ts", &zeros);
        assert_eq!(cut_to_whole_packets(&open(&path)).unwrap(), whole);
        let path = dir.write("e.ts", [0u8; 100]);
        assert_eq!(cut_to_whole_packets(&open(&path)).unwrap(), 0);
    }

    #[test]
    fn a_file_measures_as_the_gate_measured_it() {
        let dir = TestDir::new("recorder-measure");
        let packets = testing::stream(StreamShape::default(), 5.0);
        let mut gate = Gate::default();
        let file: Vec<_> = packets
            .iter()
            .filter(|p| gate.admit(&p[..]))
            .copied()
            .collect();
        let path = dir.write("t.ts", testing::bytes(&file));
        let len = fs::metadata(&path).unwrap().len();
        let seconds = measure(&open(&path), 0, len).unwrap();
        assert!(
            (seconds - gate.seconds()).abs() < 1e-6,
            "{seconds} {}",
            gate.seconds()
        );
        assert!(seconds > 3.9, "{seconds}");
        // From half-way: about half, the program still known from the head.
        let half = len / 2 - (len / 2) % PACKET;
        let rest = measure(&open(&path), half, len).unwrap();
        assert!((rest - seconds / 2.0).abs() < 0.2, "{rest}");
    }
}
