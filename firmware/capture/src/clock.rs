//! Time for sources: "now" on the monotonic clock, and timelines that turn
//! a frame or sample counter into a timestamp without accumulating error.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use makara_media::MonotonicNs;

const NS_PER_SEC: u128 = 1_000_000_000;

/// Now on the monotonic clock, in nanoseconds since this process first
/// asked.
///
/// `std::time::Instant` is `CLOCK_MONOTONIC` on Linux, but std does not
/// show its absolute value without `unsafe`; one epoch per process keeps
/// every source that uses this function on one time base.
pub fn monotonic_now() -> MonotonicNs {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    MonotonicNs(u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX))
}

/// Sleeps until `monotonic_now()` reaches `due`; returns at once if it has.
pub(crate) fn sleep_until(due: MonotonicNs) {
    let wait = due.saturating_sub(monotonic_now());
    if wait > 0 {
        std::thread::sleep(Duration::from_nanos(wait));
    }
}

/// Ticks at `num / den` per second from `origin`: tick `n` is at
/// `origin + floor(n * den * 1e9 / num)` ns, computed from `n` every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeline {
    origin: MonotonicNs,
    num: u64,
    den: u64,
}

impl Timeline {
    /// `num` and `den` are positive (the callers' settings guarantee it).
    pub(crate) fn new(origin: MonotonicNs, num: u32, den: u32) -> Timeline {
        Timeline {
            origin,
            num: u64::from(num.max(1)),
            den: u64::from(den.max(1)),
        }
    }

    /// When tick `n` falls.
    pub(crate) fn at(&self, n: u64) -> MonotonicNs {
        let offset = u128::from(n) * u128::from(self.den) * NS_PER_SEC / u128::from(self.num);
        let offset = u64::try_from(offset).unwrap_or(u64::MAX);
        MonotonicNs(self.origin.0.saturating_add(offset))
    }

    /// The latest tick at or before `now`, or `None` before the origin.
    pub(crate) fn last_due(&self, now: MonotonicNs) -> Option<u64> {
        if now < self.origin {
            return None;
        }
        let elapsed = u128::from(now.0 - self.origin.0);
        let per = u128::from(self.den) * NS_PER_SEC;
        let n = u64::try_from(elapsed * u128::from(self.num) / per).unwrap_or(u64::MAX);
        // `at` floors, so the next tick may land exactly on `now`; ticks are
        // more than a nanosecond apart, so the one after that cannot.
        Some(if self.at(n + 1) <= now { n + 1 } else { n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_exact_multiples_of_the_period() {
        let t = Timeline::new(MonotonicNs(1_000), 30, 1);
        assert_eq!(t.at(0), MonotonicNs(1_000));
        assert_eq!(t.at(3), MonotonicNs(1_000 + 100_000_000));
        assert_eq!(t.at(30), MonotonicNs(1_000 + 1_000_000_000));
        // 24 hours of frames land on 24 hours to the nanosecond.
        assert_eq!(t.at(30 * 86_400).0, 1_000 + 86_400 * 1_000_000_000);
    }

    #[test]
    fn audio_ticks_do_not_drift() {
        let t = Timeline::new(MonotonicNs(0), 48_000, 1);
        assert_eq!(t.at(1).0, 20_833);
        assert_eq!(t.at(1024).0, 21_333_333);
        assert_eq!(t.at(48_000).0, 1_000_000_000);
        // A week of samples: still exact at every whole second.
        let week = 7 * 86_400;
        assert_eq!(t.at(48_000 * week).0, week * 1_000_000_000);
    }

    #[test]
    fn last_due_is_the_latest_tick_not_after_now() {
        for rate in [1, 7, 24, 25, 29, 30, 48, 50, 59, 60, 48_000] {
            let t = Timeline::new(MonotonicNs(500), rate, 1);
            assert_eq!(t.last_due(MonotonicNs(499)), None);
            for n in [0u64, 1, 2, 17, 1_000, 123_456] {
                assert_eq!(t.last_due(t.at(n)), Some(n), "rate {rate} tick {n}");
                let just_before = MonotonicNs(t.at(n + 1).0 - 1);
                assert_eq!(t.last_due(just_before), Some(n), "rate {rate} tick {n}");
            }
        }
    }

    #[test]
    fn now_moves_forward() {
        let a = monotonic_now();
        sleep_until(MonotonicNs(a.0 + 2_000_000));
        let b = monotonic_now();
        assert!(b.0 >= a.0 + 2_000_000);
    }
}
