//! An SRT link's statistics from libsrt's counters (`srt_bstats`), with
//! send and receive rates measured over about the last second.

use std::time::{Duration, Instant};

use makara_media::SrtLinkStats;

use crate::ffi::PerfMon;

/// How long the rates are averaged over (at least).
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// Where the last rate measurement started.
#[derive(Debug, Clone, Copy)]
struct Mark {
    at: Instant,
    sent_bytes: u64,
    received_bytes: u64,
}

/// What one socket remembers between `stats` calls: the last statistics
/// (shown unchanged once libsrt has none, the link being gone) and the
/// rate measurement.
#[derive(Debug, Default)]
pub(crate) struct StatsMeter {
    last: SrtLinkStats,
    /// The drops libsrt counted in `last` (without this crate's own).
    libsrt_drops: u64,
    mark: Option<Mark>,
}

impl StatsMeter {
    /// Statistics from a fresh `srt_bstats` sample taken at `now`, with
    /// `local_drops` messages this crate dropped itself (a full send buffer).
    pub(crate) fn sample(
        &mut self,
        perf: &PerfMon,
        now: Instant,
        local_drops: u64,
    ) -> SrtLinkStats {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let count32 = |n: i32| u64::try_from(n).unwrap_or(0);
        let (send_kbps, receive_kbps) = self.rates(perf, now);
        self.libsrt_drops = count32(perf.pktSndDropTotal) + count32(perf.pktRcvDropTotal);
        self.last = SrtLinkStats {
            rtt_ms: perf.msRTT,
            send_rate_kbps: send_kbps,
            receive_rate_kbps: receive_kbps,
            packets_sent: count(perf.pktSentUniqueTotal),
            packets_received: count(perf.pktRecvUniqueTotal),
            packets_lost: count32(perf.pktSndLossTotal) + count32(perf.pktRcvLossTotal),
            packets_retransmitted: count32(perf.pktRetransTotal),
            packets_dropped: self.libsrt_drops + local_drops,
            buffer_delay_ms: u32::try_from(perf.msRcvTsbPdDelay.max(perf.msSndTsbPdDelay))
                .unwrap_or(0),
        };
        self.last
    }

    /// The last statistics, for a link libsrt no longer reports on: the
    /// totals stay, nothing flows any more.
    pub(crate) fn gone(&mut self, local_drops: u64) -> SrtLinkStats {
        self.last.send_rate_kbps = 0.0;
        self.last.receive_rate_kbps = 0.0;
        self.last.packets_dropped = self.libsrt_drops + local_drops;
        self.last
    }

    /// kbit/s sent and received (UDP payload with SRT and IP headers, as
    /// libsrt counts bytes): over the time since the mark once that is a
    /// second or more; before the first second, libsrt's own average
    /// since the connection began.
    fn rates(&mut self, perf: &PerfMon, now: Instant) -> (f64, f64) {
        let Some(mark) = self.mark else {
            self.mark = Some(Mark {
                at: now,
                sent_bytes: perf.byteSentTotal,
                received_bytes: perf.byteRecvTotal,
            });
            return (perf.mbpsSendRate * 1000.0, perf.mbpsRecvRate * 1000.0);
        };
        let elapsed = now.saturating_duration_since(mark.at);
        if elapsed < RATE_WINDOW {
            return (self.last.send_rate_kbps, self.last.receive_rate_kbps);
        }
        let kbps = |now_bytes: u64, then: u64| {
            now_bytes.saturating_sub(then) as f64 * 8.0 / elapsed.as_secs_f64() / 1000.0
        };
        let rates = (
            kbps(perf.byteSentTotal, mark.sent_bytes),
            kbps(perf.byteRecvTotal, mark.received_bytes),
        );
        self.mark = Some(Mark {
            at: now,
            sent_bytes: perf.byteSentTotal,
            received_bytes: perf.byteRecvTotal,
        });
        rates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perf() -> PerfMon {
        PerfMon {
            msRTT: 0.25,
            pktSentUniqueTotal: 100,
            pktRecvUniqueTotal: 7,
            pktSndLossTotal: 2,
            pktRcvLossTotal: 3,
            pktRetransTotal: 4,
            pktSndDropTotal: 5,
            pktRcvDropTotal: 6,
            msRcvTsbPdDelay: 120,
            msSndTsbPdDelay: 200,
            mbpsSendRate: 2.0,
            mbpsRecvRate: 0.5,
            ..PerfMon::default()
        }
    }

    #[test]
    fn counters_map_to_the_link_stats() {
        let mut meter = StatsMeter::default();
        let s = meter.sample(&perf(), Instant::now(), 10);
        assert_eq!(s.rtt_ms, 0.25);
        assert_eq!(s.packets_sent, 100);
        assert_eq!(s.packets_received, 7);
        assert_eq!(s.packets_lost, 5);
        assert_eq!(s.packets_retransmitted, 4);
        assert_eq!(s.packets_dropped, 5 + 6 + 10);
        assert_eq!(s.buffer_delay_ms, 200);
        // Before a second has passed: libsrt's average.
        assert_eq!(s.send_rate_kbps, 2000.0);
        assert_eq!(s.receive_rate_kbps, 500.0);
    }

    #[test]
    fn rates_are_measured_over_a_second_or_more() {
        let mut meter = StatsMeter::default();
        let t0 = Instant::now();
        let mut p = perf();
        meter.sample(&p, t0, 0);
        p.byteSentTotal = 125_000; // 1 Mbit
        p.byteRecvTotal = 250_000;
        // Within the second: unchanged.
        let s = meter.sample(&p, t0 + Duration::from_millis(500), 0);
        assert_eq!(s.send_rate_kbps, 2000.0);
        let s = meter.sample(&p, t0 + Duration::from_secs(2), 0);
        assert_eq!(s.send_rate_kbps, 500.0);
        assert_eq!(s.receive_rate_kbps, 1000.0);
    }

    #[test]
    fn a_gone_link_keeps_its_totals_and_stops_flowing() {
        let mut meter = StatsMeter::default();
        meter.sample(&perf(), Instant::now(), 0);
        let s = meter.gone(3);
        assert_eq!(s.packets_sent, 100);
        assert_eq!(s.packets_dropped, 5 + 6 + 3);
        assert_eq!(s.send_rate_kbps, 0.0);
    }
}
