//! One subject's failed authorisations: a leaky bucket for the burst, then
//! blocks that double with every further failure.

use std::time::{Duration, Instant};

/// How failed authorisations are limited; the same for addresses and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before the first block; one more is forgiven every
    /// `window / burst`, so this is also the sustained rate per `window`.
    pub burst: u32,
    /// See `burst`.
    pub window: Duration,
    /// The first block.
    pub first_block: Duration,
    /// Blocks double with each failure after a block, up to this.
    pub max_block: Duration,
    /// A subject without a failure for this long starts again from the
    /// burst and the first block.
    pub forget_after: Duration,
}

/// The policy in force: 10 failures a minute, then blocks of 1 s, 2 s,
/// 4 s … up to 5 minutes; forgiven after 15 quiet minutes.
pub const POLICY: Policy = Policy {
    burst: 10,
    window: Duration::from_secs(60),
    first_block: Duration::from_secs(1),
    max_block: Duration::from_secs(300),
    forget_after: Duration::from_secs(15 * 60),
};

/// The failure record of one address or key.
#[derive(Debug, Clone)]
pub(super) struct Record {
    /// When all failures so far will have been forgiven at one per
    /// `window / burst` (the theoretical arrival time of GCRA).
    clear_at: Instant,
    /// Blocks since the subject was last forgiven.
    strikes: u32,
    blocked_until: Instant,
    last_failure: Instant,
}

impl Record {
    pub(super) fn new(now: Instant) -> Record {
        Record {
            clear_at: now,
            strikes: 0,
            blocked_until: now,
            last_failure: now,
        }
    }

    /// How long the subject stays blocked, if it is.
    pub(super) fn blocked(&self, now: Instant) -> Option<Duration> {
        (self.blocked_until > now).then(|| self.blocked_until - now)
    }

    /// Counts a failure at `now`; returns the block it started, if any.
    /// Once a subject has been blocked, every failure until it is forgiven
    /// blocks it again for twice as long, so waiting out a block buys one
    /// attempt, not a fresh burst.
    pub(super) fn fail(&mut self, now: Instant, policy: &Policy) -> Option<Duration> {
        if now.saturating_duration_since(self.last_failure) >= policy.forget_after {
            self.strikes = 0;
        }
        self.last_failure = now;
        self.clear_at = self.clear_at.max(now) + policy.window / policy.burst.max(1);
        let burst_used = self.clear_at.saturating_duration_since(now) >= policy.window;
        if !burst_used && self.strikes == 0 {
            return None;
        }
        self.strikes = self.strikes.saturating_add(1);
        let doubling = 2u32.saturating_pow(self.strikes - 1);
        let block = policy
            .first_block
            .saturating_mul(doubling)
            .min(policy.max_block);
        self.blocked_until = now + block;
        Some(block)
    }

    /// Whether the record says nothing a new one would not: not blocked,
    /// every failure forgiven.
    pub(super) fn is_idle(&self, now: Instant, policy: &Policy) -> bool {
        self.blocked(now).is_none()
            && self.clear_at <= now
            && (self.strikes == 0
                || now.saturating_duration_since(self.last_failure) >= policy.forget_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_tenth_failure_in_a_burst_starts_a_one_second_block() {
        let t0 = Instant::now();
        let mut record = Record::new(t0);
        for _ in 0..9 {
            assert_eq!(record.fail(t0, &POLICY), None);
        }
        assert_eq!(record.blocked(t0), None);
        assert_eq!(record.fail(t0, &POLICY), Some(secs(1)));
        assert_eq!(record.blocked(t0), Some(secs(1)));
        assert_eq!(record.blocked(t0 + secs(1)), None);
    }

    #[test]
    fn blocks_double_up_to_the_maximum() {
        let t0 = Instant::now();
        let mut record = Record::new(t0);
        let mut now = t0;
        for _ in 0..9 {
            record.fail(now, &POLICY);
        }
        let mut blocks = Vec::new();
        for _ in 0..12 {
            let block = record.fail(now, &POLICY).expect("over the limit");
            blocks.push(block.as_secs());
            now += block;
        }
        assert_eq!(blocks, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    }

    #[test]
    fn ten_failures_a_minute_are_sustained_without_a_block() {
        let t0 = Instant::now();
        let mut record = Record::new(t0);
        for i in 0..100 {
            assert_eq!(record.fail(t0 + secs(6 * i), &POLICY), None, "failure {i}");
        }
    }

    #[test]
    fn quiet_time_forgives_the_strikes() {
        let t0 = Instant::now();
        let mut record = Record::new(t0);
        for _ in 0..12 {
            record.fail(t0, &POLICY);
        }
        assert!(!record.is_idle(t0 + secs(60), &POLICY));
        let later = t0 + secs(60) + POLICY.forget_after;
        assert!(record.is_idle(later, &POLICY));
        assert_eq!(record.fail(later, &POLICY), None);
    }
}
