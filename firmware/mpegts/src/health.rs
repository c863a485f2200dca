//! What a receiver would make of the packets an output sent: bytes and
//! packets, continuity-counter errors per PID, PCR intervals and PCR
//! jitter, the bitrate over the last second, and when the last packet
//! left. Sans-IO like the rest of the crate: the caller passes each
//! packet with the monotonic time it left, and the time it asks at.
//!
//! The judgements follow ETSI TR 101 290:
//!
//! - **Continuity (1.4).** Per PID but the null PID, a packet with a
//!   payload carries the previous counter plus one. A packet may be sent
//!   twice (one duplicate, same counter); a third copy, or any other
//!   counter, is an error. Packets without a payload do not advance the
//!   counter and are not judged; a packet whose discontinuity_indicator is
//!   set starts the PID's count afresh, as does [`Analyser::interrupted`].
//! - **PCR interval (2.3a).** The time between two departures of PCRs on
//!   one PID; an interval over 40 ms is an error. The longest interval is
//!   kept for the last [`WINDOW_SECS`] seconds and since the start.
//! - **PCR jitter** (the accuracy of 2.4, seen at departure): each PCR's
//!   offset is its departure time minus its PCR value, both in
//!   nanoseconds. A perfect sender keeps the offset constant; the
//!   jitter is how far an offset lies above the smallest of the window
//!   (the earliest-sent PCR, relative to its clock), i.e. the window's
//!   largest offset minus its smallest. Over [`WINDOW_SECS`] seconds a
//!   27 MHz clock within the standard's 30 ppm drifts at most 0.3 ms.
//!   A PCR that goes back, or forward by more than [`PCR_JUMP_NS`], or
//!   carries the discontinuity_indicator, starts the PID's clock afresh.
//!
//! Cost: one look at each packet's 4-byte header, and at the adaptation
//! field only when it has one; no copies. State is bounded: a byte per
//! PID for continuity, [`MAX_PCR_PIDS`] PCR clocks.

mod continuity;
mod pcr;
mod rate;
#[cfg(test)]
mod tests;

use makara_media::MonotonicNs;

use crate::packet::{TsPacket, NULL_PID, PACKET_LEN, SYNC_BYTE};
use continuity::Continuity;
use pcr::PcrClocks;
use rate::RateWindow;

/// The recent figures (PCR interval and jitter) cover this many seconds.
pub const WINDOW_SECS: u64 = 10;
/// The longest PCR interval that is not an error (TR 101 290 2.3a).
pub const PCR_INTERVAL_LIMIT_NS: u64 = 40_000_000;
/// A PCR this far ahead of the previous one on its PID is a new clock,
/// not a late one.
pub const PCR_JUMP_NS: u64 = 500_000_000;
/// PIDs whose PCRs are followed at once; PCRs on more are not judged.
pub const MAX_PCR_PIDS: usize = 8;

/// The health of everything fed so far, as seen at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HealthReport {
    /// Bytes of the packets fed (188 each).
    pub bytes: u64,
    pub packets: u64,
    /// Bits per second over the last whole second.
    pub bitrate_bps: u64,
    pub cc_errors: u64,
    /// PCR intervals over [`PCR_INTERVAL_LIMIT_NS`].
    pub pcr_interval_errors: u64,
    /// The longest PCR interval in the last [`WINDOW_SECS`] seconds.
    pub pcr_interval_max_ns: u64,
    /// The longest since the start.
    pub pcr_interval_max_ns_overall: u64,
    /// The largest PCR jitter in the last [`WINDOW_SECS`] seconds.
    pub pcr_jitter_max_ns: u64,
    /// The largest since the start.
    pub pcr_jitter_max_ns_overall: u64,
    /// Since the last packet left; `None` before the first.
    pub since_last_packet_ns: Option<u64>,
}

/// Judges one output's packets as they leave.
#[derive(Debug, Clone)]
pub struct Analyser {
    continuity: Continuity,
    pcr: PcrClocks,
    rate: RateWindow,
    bytes: u64,
    packets: u64,
    last_packet: Option<MonotonicNs>,
}

impl Default for Analyser {
    fn default() -> Analyser {
        Analyser::new()
    }
}

impl Analyser {
    pub fn new() -> Analyser {
        Analyser {
            continuity: Continuity::new(),
            pcr: PcrClocks::default(),
            rate: RateWindow::default(),
            bytes: 0,
            packets: 0,
            last_packet: None,
        }
    }

    /// Packets that left together at `at`.
    pub fn packets<'p>(
        &mut self,
        packets: impl Iterator<Item = &'p [u8; PACKET_LEN]>,
        at: MonotonicNs,
    ) {
        let mut count = 0u64;
        for packet in packets {
            self.judge(packet, at);
            count += 1;
        }
        if count > 0 {
            let bytes = count * PACKET_LEN as u64;
            self.packets += count;
            self.bytes += bytes;
            self.rate.add(at, bytes);
            self.last_packet = Some(at);
        }
    }

    /// One packet that left at `at`.
    pub fn packet(&mut self, packet: &[u8; PACKET_LEN], at: MonotonicNs) {
        self.packets(std::iter::once(packet), at);
    }

    /// What was sent stopped reaching anyone for a while (no peer, say):
    /// what comes next is judged as a new stream. Counters are kept.
    pub fn interrupted(&mut self) {
        self.continuity.restart();
        self.pcr.restart();
    }

    /// The figures as of `now`.
    pub fn report(&self, now: MonotonicNs) -> HealthReport {
        let pcr = self.pcr.figures(now);
        HealthReport {
            bytes: self.bytes,
            packets: self.packets,
            bitrate_bps: self.rate.bits_per_second(now),
            cc_errors: self.continuity.errors(),
            pcr_interval_errors: pcr.interval_errors,
            pcr_interval_max_ns: pcr.interval_max_ns,
            pcr_interval_max_ns_overall: pcr.interval_max_ns_overall,
            pcr_jitter_max_ns: pcr.jitter_max_ns,
            pcr_jitter_max_ns_overall: pcr.jitter_max_ns_overall,
            since_last_packet_ns: self.last_packet.map(|t| now.saturating_sub(t)),
        }
    }

    fn judge(&mut self, bytes: &[u8; PACKET_LEN], at: MonotonicNs) {
        let packet = TsPacket::new_unchecked(&bytes[..]);
        if bytes[0] != SYNC_BYTE || packet.transport_error() {
            return;
        }
        let pid = packet.pid();
        if pid == NULL_PID || (!packet.has_payload() && !packet.has_adaptation()) {
            return;
        }
        let discontinuity = packet.discontinuity();
        self.continuity.judge(
            pid,
            packet.continuity_counter(),
            packet.has_payload(),
            discontinuity,
        );
        // A PCR needs its whole field inside the adaptation field.
        if packet.adaptation_len() >= 7 {
            if let Some(pcr) = packet.pcr() {
                self.pcr.judge(pid, pcr, at, discontinuity);
            }
        }
    }
}
