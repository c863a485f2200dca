//! At most a few password hashes at once.
//!
//! One argon2id computation takes 19 MiB for ~20 ms. A burst of logins (or
//! of guesses) handed to as many threads would take 19 MiB each; the gate
//! keeps the total to [`AT_ONCE`] of them and makes the rest queue for a
//! while, then give up.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Computations at once: one per core of the smallest appliance.
pub(crate) const AT_ONCE: usize = 2;

/// How long a computation waits for its turn before giving up. A queue
/// this long means a flood of guesses, not a person logging in.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(2);

static GATE: Gate = Gate::new(AT_ONCE);

/// A counting semaphore over threads.
pub(crate) struct Gate {
    free: Mutex<usize>,
    freed: Condvar,
}

/// A turn at the gate; leaving it frees the turn.
pub(crate) struct Turn<'a> {
    gate: &'a Gate,
}

impl Gate {
    const fn new(turns: usize) -> Gate {
        Gate {
            free: Mutex::new(turns),
            freed: Condvar::new(),
        }
    }

    /// Waits up to `wait` for a turn; `None` if none came.
    pub(crate) fn enter(&self, wait: Duration) -> Option<Turn<'_>> {
        let deadline = Instant::now() + wait;
        let mut free = self.lock();
        while *free == 0 {
            let left = deadline.checked_duration_since(Instant::now())?;
            free = match self.freed.wait_timeout(free, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        *free -= 1;
        Some(Turn { gate: self })
    }

    // The counter is consistent at every unlock, so a panic elsewhere while
    // it was held leaves it usable.
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.gate.lock() += 1;
        self.gate.freed.notify_one();
    }
}

/// A turn at the process's one gate for password hashes.
pub(crate) fn enter() -> Option<Turn<'static>> {
    GATE.enter(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_are_limited_and_given_back() {
        let gate = Gate::new(2);
        let first = gate.enter(Duration::ZERO).expect("first");
        let second = gate.enter(Duration::ZERO).expect("second");
        assert!(gate.enter(Duration::from_millis(20)).is_none());
        drop(first);
        let third = gate.enter(Duration::ZERO).expect("a freed turn");
        drop((second, third));
        assert_eq!(*gate.lock(), 2);
    }

    #[test]
    fn a_waiter_gets_the_turn_freed_while_it_waits() {
        let gate = Gate::new(1);
        let held = gate.enter(Duration::ZERO).expect("first");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| gate.enter(Duration::from_secs(10)).is_some());
            std::thread::sleep(Duration::from_millis(50));
            drop(held);
            assert!(waiter.join().expect("waiter"));
        });
    }
}
