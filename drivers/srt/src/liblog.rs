//! libsrt's own log, routed to `tracing` (target `libsrt`) within a
//! budget, so a flapping peer cannot flood the log: at most
//! [`LINES_PER_WINDOW`] lines per [`WINDOW`], then one line saying how many
//! were left out. libsrt is set to log errors only (`ffi::startup`); the
//! errors callers act on come back as `SrtError`s anyway.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one budget lasts.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);
/// Lines passed on per window.
pub(crate) const LINES_PER_WINDOW: u32 = 20;

/// syslog's LOG_ERR: this level and more severe ones are warnings here.
const LOG_ERR: i32 = 3;

/// What the budget says about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Pass this line on.
    pub log: bool,
    /// Lines left out in the window that just ended (0 if none).
    pub suppressed_before: u64,
}

/// The rate limit, sans-IO: time is passed in.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    window_start: Option<Instant>,
    used: u32,
    suppressed: u64,
}

impl Budget {
    pub(crate) const fn new() -> Budget {
        Budget {
            window_start: None,
            used: 0,
            suppressed: 0,
        }
    }

    pub(crate) fn admit(&mut self, now: Instant) -> Verdict {
        let mut suppressed_before = 0;
        let expired = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= WINDOW);
        if expired {
            suppressed_before = std::mem::take(&mut self.suppressed);
            self.window_start = Some(now);
            self.used = 0;
        }
        let log = self.used < LINES_PER_WINDOW;
        if log {
            self.used += 1;
        } else {
            self.suppressed += 1;
        }
        Verdict {
            log,
            suppressed_before,
        }
    }
}

static BUDGET: Mutex<Budget> = Mutex::new(Budget::new());

/// Passes one libsrt log line on, if the budget allows.
pub(crate) fn forward(level: i32, area: &str, message: &str) {
    let verdict = BUDGET
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .admit(Instant::now());
    if verdict.suppressed_before > 0 {
        tracing::warn!(
            target: "libsrt",
            "{} libsrt log lines left out in {} s",
            verdict.suppressed_before,
            WINDOW.as_secs()
        );
    }
    if !verdict.log {
        return;
    }
    // With time, thread and severity left out, libsrt still starts the
    // line with the separator that followed them.
    let message = message.trim_start_matches([':', ' ']).trim_end();
    if level <= LOG_ERR {
        tracing::warn!(target: "libsrt", area, "{message}");
    } else {
        tracing::debug!(target: "libsrt", area, "{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_cut_at_the_budget_and_the_rest_counted() {
        let mut budget = Budget::new();
        let t0 = Instant::now();
        let passed = (0..100).filter(|_| budget.admit(t0).log).count();
        assert_eq!(passed, LINES_PER_WINDOW as usize);
        let next = budget.admit(t0 + WINDOW);
        assert!(next.log);
        assert_eq!(next.suppressed_before, 100 - u64::from(LINES_PER_WINDOW));
        // The count is reported once.
        assert_eq!(budget.admit(t0 + WINDOW).suppressed_before, 0);
    }

    #[test]
    fn a_quiet_log_loses_nothing() {
        let mut budget = Budget::new();
        let t0 = Instant::now();
        for i in 0..50u32 {
            let v = budget.admit(t0 + WINDOW / 4 * i);
            assert!(v.log);
            assert_eq!(v.suppressed_before, 0);
        }
    }
}
