//! A bound on log lines about refused requests: a few per minute, then a
//! count of the ones left out.

use std::time::{Duration, Instant};

/// Lines about refused requests written per [`LOG_WINDOW`].
pub const LOG_LINES_PER_WINDOW: u32 = 10;
/// See [`LOG_LINES_PER_WINDOW`].
pub const LOG_WINDOW: Duration = Duration::from_secs(60);

/// Whether to write the line about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Write it, after a summary line if `left_out` events of the previous
    /// window were not written.
    Write { left_out: u64 },
    /// Leave it out; it is counted for the next summary.
    LeaveOut,
}

/// Counts lines per window.
#[derive(Debug)]
pub(super) struct LogBudget {
    window_start: Option<Instant>,
    written: u32,
    left_out: u64,
}

impl LogBudget {
    pub(super) fn new() -> LogBudget {
        LogBudget {
            window_start: None,
            written: 0,
            left_out: 0,
        }
    }

    pub(super) fn turn(&mut self, now: Instant) -> Turn {
        let mut left_out_before = 0;
        let expired = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= LOG_WINDOW);
        if expired {
            left_out_before = std::mem::take(&mut self.left_out);
            self.window_start = Some(now);
            self.written = 0;
        }
        if self.written < LOG_LINES_PER_WINDOW {
            self.written += 1;
            Turn::Write {
                left_out: left_out_before,
            }
        } else {
            self.left_out += 1;
            Turn::LeaveOut
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_lines_a_minute_then_a_count_of_the_rest() {
        let t0 = Instant::now();
        let mut budget = LogBudget::new();
        let turns: Vec<Turn> = (0..1000).map(|_| budget.turn(t0)).collect();
        let written = turns
            .iter()
            .filter(|t| matches!(t, Turn::Write { .. }))
            .count();
        assert_eq!(written, 10);
        assert_eq!(budget.turn(t0 + Duration::from_secs(59)), Turn::LeaveOut);
        assert_eq!(budget.turn(t0 + LOG_WINDOW), Turn::Write { left_out: 991 });
        assert_eq!(budget.turn(t0 + LOG_WINDOW), Turn::Write { left_out: 0 });
    }
}
