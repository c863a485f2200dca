//! Waits between reconnection attempts: short at first, so a peer that
//! comes back is found quickly, and never long, so an input recovers within
//! two seconds of its peer's return.

use std::time::Duration;

/// The first wait after a failure.
pub const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(1);

/// Doubles from [`FIRST_RETRY`] up to [`MAX_RETRY`]; back to the start
/// after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff { next: FIRST_RETRY }
    }

    /// The wait before the next attempt, each one longer up to the cap.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_RETRY);
        wait
    }

    /// An attempt succeeded: the next failure waits the shortest time again.
    pub fn reset(&mut self) {
        self.next = FIRST_RETRY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_resets() {
        let mut b = Backoff::new();
        let waits: Vec<u64> = (0..5).map(|_| b.next_wait().as_millis() as u64).collect();
        assert_eq!(waits, [250, 500, 1000, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_wait(), FIRST_RETRY);
    }
}
