//! When to feed the watchdog, without clocks or devices: only while the
//! supervisor answers its liveness probes in time.
//!
//! The caller probes the supervisor every [`PROBE_INTERVAL`], tells the
//! feeder when each probe went out and when its answer came, and feeds the
//! [`crate::Watchdog`] whenever [`WatchdogFeeder::should_feed`] says so. A
//! supervisor that stops answering, or answers later than the deadline,
//! stops the feeding; the watchdog then resets the box one driver timeout
//! later.

#![deny(missing_docs)]

use std::time::{Duration, Instant};

/// How often the supervisor is probed (and the watchdog fed).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long an answer may take, and how long one keeps the supervisor
/// counted as healthy. With a driver timeout of 15-20 s, a hung supervisor
/// resets the box 25-30 s after its last good answer.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(10);

/// The feeding decision.
#[derive(Debug, Clone)]
pub struct WatchdogFeeder {
    deadline: Duration,
    /// When the last timely answer came.
    healthy_at: Option<Instant>,
    /// When the probe not yet answered went out.
    outstanding: Option<Instant>,
}

/// What became of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// In time: the supervisor counts as healthy from now.
    Timely,
    /// Later than the deadline after its probe: it does not count.
    Late {
        /// How long the probe waited.
        waited: Duration,
    },
}

impl WatchdogFeeder {
    /// A feeder that has heard nothing yet, so does not feed until the first
    /// answer: the watchdog must be opened after the supervisor started.
    pub fn new(deadline: Duration) -> WatchdogFeeder {
        WatchdogFeeder {
            deadline,
            healthy_at: None,
            outstanding: None,
        }
    }

    /// The deadline this feeder holds answers to.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// A probe went out at `now`. While one is unanswered, a second one
    /// does not restart its clock.
    pub fn probe_sent(&mut self, now: Instant) {
        self.outstanding.get_or_insert(now);
    }

    /// The supervisor answered at `now`. It counts when it came within the
    /// deadline of its probe (or no probe was recorded).
    pub fn probe_answered(&mut self, now: Instant) -> Answer {
        let waited = self
            .outstanding
            .take()
            .map_or(Duration::ZERO, |sent| now.saturating_duration_since(sent));
        if waited > self.deadline {
            return Answer::Late { waited };
        }
        self.healthy_at = Some(now);
        Answer::Timely
    }

    /// Whether to feed the watchdog at `now`: the last timely answer is at
    /// most the deadline old. (A probe still unanswered after the deadline
    /// was sent after that answer, so it needs no rule of its own.)
    pub fn should_feed(&self, now: Instant) -> bool {
        self.healthy_at
            .is_some_and(|at| now.saturating_duration_since(at) <= self.deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEADLINE: Duration = Duration::from_secs(10);

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn nothing_is_fed_before_the_first_answer() {
        let t0 = Instant::now();
        let mut feeder = WatchdogFeeder::new(DEADLINE);
        assert!(!feeder.should_feed(t0));
        feeder.probe_sent(t0);
        assert!(!feeder.should_feed(at(t0, 1)));
        assert_eq!(feeder.probe_answered(at(t0, 1)), Answer::Timely);
        assert!(feeder.should_feed(at(t0, 1)));
    }

    #[test]
    fn answers_keep_it_fed_and_silence_stops_it_after_the_deadline() {
        let t0 = Instant::now();
        let mut feeder = WatchdogFeeder::new(DEADLINE);
        for s in 0..30 {
            feeder.probe_sent(at(t0, s));
            feeder.probe_answered(at(t0, s));
            assert!(feeder.should_feed(at(t0, s)));
        }
        // Answered at 29 s; the probe of 30 s hangs.
        feeder.probe_sent(at(t0, 30));
        assert!(feeder.should_feed(at(t0, 39)));
        assert!(!feeder.should_feed(at(t0, 39) + Duration::from_millis(1)));
        assert!(!feeder.should_feed(at(t0, 100)));
    }

    #[test]
    fn a_late_answer_does_not_count() {
        let t0 = Instant::now();
        let mut feeder = WatchdogFeeder::new(DEADLINE);
        feeder.probe_sent(t0);
        feeder.probe_answered(t0);
        feeder.probe_sent(at(t0, 1));
        assert_eq!(
            feeder.probe_answered(at(t0, 12)),
            Answer::Late {
                waited: Duration::from_secs(11)
            }
        );
        assert!(!feeder.should_feed(at(t0, 12)));
        // The next timely answer makes it healthy again.
        feeder.probe_sent(at(t0, 13));
        assert_eq!(feeder.probe_answered(at(t0, 14)), Answer::Timely);
        assert!(feeder.should_feed(at(t0, 14)));
    }

    #[test]
    fn a_second_probe_does_not_restart_the_first_ones_clock() {
        let t0 = Instant::now();
        let mut feeder = WatchdogFeeder::new(DEADLINE);
        feeder.probe_sent(t0);
        feeder.probe_sent(at(t0, 8));
        assert_eq!(
            feeder.probe_answered(at(t0, 11)),
            Answer::Late {
                waited: Duration::from_secs(11)
            }
        );
        assert!(!feeder.should_feed(at(t0, 11)));
    }

    #[test]
    fn the_clock_going_backwards_counts_as_no_time() {
        let t0 = Instant::now() + Duration::from_secs(100);
        let mut feeder = WatchdogFeeder::new(DEADLINE);
        feeder.probe_sent(t0);
        assert_eq!(feeder.probe_answered(at(t0, 1)), Answer::Timely);
        assert!(feeder.should_feed(t0 - Duration::from_secs(5)));
    }
}
