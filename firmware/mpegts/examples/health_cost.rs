//! `health_cost [SECONDS]`: what judging an output's packets costs
//! (`makara_mpegts::health`), as the packet sink pays it: batches of seven
//! packets of a 20 Mbit/s stream (video with a PCR every 20 ms, audio,
//! PSI, null packets), each batch under a lock as `OutputStatus::took`
//! takes one. Prints the time per packet and the share of one core at
//! 20 Mbit/s. Run it in release mode.

use std::sync::Mutex;
use std::time::Instant;

use makara_media::MonotonicNs;
use makara_mpegts::health::Analyser;

const RATE_BPS: u64 = 20_000_000;
const BATCH: usize = 7;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let per_second = RATE_BPS / (188 * 8);
    let total = per_second * seconds;
    let packets = stream(total as usize, per_second);
    let status = Mutex::new(Analyser::new());
    let started = Instant::now();
    for (i, batch) in packets.chunks(BATCH).enumerate() {
        // The departure time the stream would have had.
        let at = MonotonicNs(i as u64 * BATCH as u64 * 1_000_000_000 / per_second);
        let mut analyser = status.lock().unwrap_or_else(|e| e.into_inner());
        analyser.packets(batch.iter(), at);
    }
    let spent = started.elapsed();
    let report = status
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .report(MonotonicNs(seconds * 1_000_000_000));
    let ns_per_packet = spent.as_nanos() as f64 / total as f64;
    println!(
        "{total} packets ({seconds} s at 20 Mbit/s) in {:.1} ms: {ns_per_packet:.1} ns per packet, \
         {:.3} % of one core at 20 Mbit/s (cc errors {}, PCR jitter {} ns)",
        spent.as_secs_f64() * 1e3,
        ns_per_packet * per_second as f64 / 1e9 * 100.0,
        report.cc_errors,
        report.pcr_jitter_max_ns,
    );
}

/// A stream of `total` packets at `per_second`: video on 0x100 (a PCR
/// every 20 ms), audio on 0x101 every 40th packet, a PAT and PMT every
/// 100 ms, a null packet every 50th.
fn stream(total: usize, per_second: u64) -> Vec<[u8; 188]> {
    let mut counters = [0u8; 3];
    let pcr_every = (per_second / 50) as usize;
    let psi_every = (per_second / 10) as usize;
    (0..total)
        .map(|i| {
            let (pid, slot) = match i {
                i if i % 50 == 49 => (0x1FFF, None),
                i if i % psi_every == 0 => (0x0000, Some(2)),
                i if i % 40 == 0 => (0x101, Some(1)),
                _ => (0x100, Some(0)),
            };
            let cc = slot.map_or(0, |s| {
                let cc = counters[s];
                counters[s] = (cc + 1) & 0x0F;
                cc
            });
            let mut p = [0xFFu8; 188];
            p[..4].copy_from_slice(&[0x47, (pid >> 8) as u8, pid as u8, 0x10 | cc]);
            if pid == 0x100 && i % pcr_every == 1 {
                let pcr = i as u64 * 27_000_000 / per_second;
                p[3] |= 0x20;
                p[4] = 7;
                p[5] = 0x10;
                let bits = ((pcr / 300) << 15) | (0x3F << 9) | (pcr % 300);
                p[6..12].copy_from_slice(&bits.to_be_bytes()[2..]);
            }
            p
        })
        .collect()
}
