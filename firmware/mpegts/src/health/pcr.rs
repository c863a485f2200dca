//! PCR intervals and jitter per PCR PID, each PID with a ring of one-second
//! records: the smallest and largest offset (departure minus PCR) and the
//! longest interval that second.

use makara_media::{MonotonicNs, Pcr27M};

use super::{MAX_PCR_PIDS, PCR_INTERVAL_LIMIT_NS, PCR_JUMP_NS, WINDOW_SECS};

/// The PCR wraps at 2^33 × 300 ticks of 27 MHz (about 26.5 hours).
const PCR_WRAP: u64 = (1 << 33) * 300;
const NS_PER_SEC: u64 = 1_000_000_000;
/// The window's whole seconds and the one being filled.
const SECONDS: usize = WINDOW_SECS as usize + 1;

/// What the PCR clocks say at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PcrFigures {
    pub interval_errors: u64,
    pub interval_max_ns: u64,
    pub interval_max_ns_overall: u64,
    pub jitter_max_ns: u64,
    pub jitter_max_ns_overall: u64,
}

#[derive(Debug, Clone, Default)]
pub(super) struct PcrClocks {
    clocks: Vec<PcrClock>,
    interval_errors: u64,
    interval_max_ns_overall: u64,
    jitter_max_ns_overall: u64,
}

impl PcrClocks {
    /// The next PCR of every PID starts its clock afresh, and no interval
    /// reaches back over the break.
    pub fn restart(&mut self) {
        for clock in &mut self.clocks {
            clock.restart();
            clock.last_at = None;
        }
    }

    pub fn judge(&mut self, pid: u16, pcr: Pcr27M, at: MonotonicNs, discontinuity: bool) {
        let Some(clock) = clock_of(&mut self.clocks, pid, at) else {
            return;
        };
        if let Some(interval) = clock.interval(at) {
            if interval > PCR_INTERVAL_LIMIT_NS {
                self.interval_errors += 1;
            }
            self.interval_max_ns_overall = self.interval_max_ns_overall.max(interval);
        }
        let jitter = clock.offset(pcr, at, discontinuity);
        self.jitter_max_ns_overall = self.jitter_max_ns_overall.max(jitter);
    }

    pub fn figures(&self, now: MonotonicNs) -> PcrFigures {
        let mut figures = PcrFigures {
            interval_errors: self.interval_errors,
            interval_max_ns_overall: self.interval_max_ns_overall,
            jitter_max_ns_overall: self.jitter_max_ns_overall,
            ..PcrFigures::default()
        };
        for clock in &self.clocks {
            let (interval, jitter) = clock.recent(now);
            figures.interval_max_ns = figures.interval_max_ns.max(interval);
            figures.jitter_max_ns = figures.jitter_max_ns.max(jitter);
        }
        figures
    }
}

/// The clock of `pid`, made if there is room (or one has been quiet for a
/// whole window).
fn clock_of(clocks: &mut Vec<PcrClock>, pid: u16, at: MonotonicNs) -> Option<&mut PcrClock> {
    if let Some(i) = clocks.iter().position(|c| c.pid == pid) {
        return Some(&mut clocks[i]);
    }
    let fresh = PcrClock::new(pid);
    if clocks.len() < MAX_PCR_PIDS {
        clocks.push(fresh);
        return clocks.last_mut();
    }
    let stale = clocks.iter().position(|c| {
        c.last_at
            .is_none_or(|t| at.saturating_sub(t) > WINDOW_SECS * NS_PER_SEC)
    })?;
    clocks[stale] = fresh;
    Some(&mut clocks[stale])
}

#[derive(Debug, Clone)]
struct PcrClock {
    pid: u16,
    /// The last PCR as sent, and how far the clock has run since it
    /// (re)started, in ticks.
    last_pcr: Option<u64>,
    elapsed_ticks: u64,
    last_at: Option<MonotonicNs>,
    seconds: [Second; SECONDS],
}

#[derive(Debug, Clone, Copy)]
struct Second {
    /// Which second since the monotonic clock's zero this record is for.
    n: u64,
    min_offset: i64,
    max_offset: i64,
    interval_max_ns: u64,
}

impl Second {
    const EMPTY: Second = Second {
        n: u64::MAX,
        min_offset: i64::MAX,
        max_offset: i64::MIN,
        interval_max_ns: 0,
    };

    fn has_offsets(&self) -> bool {
        self.min_offset <= self.max_offset
    }
}

impl PcrClock {
    fn new(pid: u16) -> PcrClock {
        PcrClock {
            pid,
            last_pcr: None,
            elapsed_ticks: 0,
            last_at: None,
            seconds: [Second::EMPTY; SECONDS],
        }
    }

    /// The PCR timeline starts again: offsets before this are not
    /// comparable with those after.
    fn restart(&mut self) {
        self.last_pcr = None;
        self.elapsed_ticks = 0;
        for second in &mut self.seconds {
            second.min_offset = i64::MAX;
            second.max_offset = i64::MIN;
        }
    }

    /// The record for the second `at` is in, emptied if it was an old one.
    fn second(&mut self, at: MonotonicNs) -> &mut Second {
        let n = at.0 / NS_PER_SEC;
        let second = &mut self.seconds[(n % SECONDS as u64) as usize];
        if second.n != n {
            *second = Second { n, ..Second::EMPTY };
        }
        second
    }

    /// The time since this PID's previous PCR left, if one did.
    fn interval(&mut self, at: MonotonicNs) -> Option<u64> {
        let interval = self.last_at.map(|t| at.saturating_sub(t));
        self.last_at = Some(at);
        let interval = interval?;
        let second = self.second(at);
        second.interval_max_ns = second.interval_max_ns.max(interval);
        Some(interval)
    }

    /// Records the PCR's offset; returns the window's jitter with it.
    fn offset(&mut self, pcr: Pcr27M, at: MonotonicNs, discontinuity: bool) -> u64 {
        let pcr = pcr.0 % PCR_WRAP;
        match self.last_pcr {
            Some(last) if !discontinuity => {
                let ahead = (pcr + PCR_WRAP - last) % PCR_WRAP;
                if ahead > PCR_WRAP / 2 || ticks_to_ns(ahead) > PCR_JUMP_NS {
                    self.restart(); // back, or too far ahead: a new clock
                } else {
                    self.elapsed_ticks += ahead;
                }
            }
            _ => self.restart(),
        }
        self.last_pcr = Some(pcr);
        let offset = at.0 as i64 - ticks_to_ns(self.elapsed_ticks) as i64;
        let second = self.second(at);
        second.min_offset = second.min_offset.min(offset);
        second.max_offset = second.max_offset.max(offset);
        self.recent(at).1
    }

    /// The longest interval and the jitter over the window ending at `now`.
    fn recent(&self, now: MonotonicNs) -> (u64, u64) {
        let current = now.0 / NS_PER_SEC;
        let window = current.saturating_sub(WINDOW_SECS - 1)..=current;
        let mut interval = 0;
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for second in self.seconds.iter().filter(|s| window.contains(&s.n)) {
            interval = interval.max(second.interval_max_ns);
            if second.has_offsets() {
                min = min.min(second.min_offset);
                max = max.max(second.max_offset);
            }
        }
        let jitter = if min <= max { (max - min) as u64 } else { 0 };
        (interval, jitter)
    }
}

fn ticks_to_ns(ticks: u64) -> u64 {
    (u128::from(ticks) * u128::from(NS_PER_SEC) / 27_000_000) as u64
}
