//! A store whose saves a test can hold at a gate, count, and refuse as a
//! full disk would: the slow disk of the read and group-commit tests.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::document::{Document, Persist, PersistError, Store};

/// The test's side of a [`GatedStore`].
#[derive(Clone, Default)]
pub(crate) struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Default)]
struct GateState {
    closed: bool,
    /// Saves the test let through while the gate is closed.
    passes: usize,
    /// Saves held at the gate now.
    waiting: usize,
    /// Saves that reached the disk (or the simulated full disk).
    saves: usize,
    /// Like a full disk with no reserve: saves of a document longer than
    /// the last one saved fail.
    full: bool,
    last_len: usize,
}

/// The real store behind a [`Gate`].
pub(crate) struct GatedStore {
    inner: Store,
    gate: Gate,
}

impl GatedStore {
    pub(crate) fn new(inner: Store) -> (GatedStore, Gate) {
        let gate = Gate::default();
        let store = GatedStore {
            inner,
            gate: gate.clone(),
        };
        (store, gate)
    }
}

impl Persist for GatedStore {
    fn save(&mut self, document: &Document) -> Result<(), PersistError> {
        let len = toml::to_string(document).map_or(0, |t| t.len());
        let mut s = self.gate.lock();
        s.waiting += 1;
        self.gate.0 .1.notify_all();
        while s.closed && s.passes == 0 {
            s = self.gate.0 .1.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if s.closed {
            s.passes -= 1;
        }
        s.waiting -= 1;
        let refuse = s.full && len > s.last_len;
        drop(s);
        let result = if refuse {
            Err(PersistError::Encode("simulated full disk".into()))
        } else {
            self.inner.save(document)
        };
        let mut s = self.gate.lock();
        s.saves += 1;
        if result.is_ok() {
            s.last_len = len;
        }
        self.gate.0 .1.notify_all();
        result
    }
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Saves wait at the gate from now on.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Lets every save through, now and later.
    pub(crate) fn open(&self) {
        self.lock().closed = false;
        self.0 .1.notify_all();
    }

    /// Lets one save waiting at the closed gate through.
    pub(crate) fn pass_one(&self) {
        self.lock().passes += 1;
        self.0 .1.notify_all();
    }

    pub(crate) fn set_full(&self, full: bool) {
        self.lock().full = full;
    }

    /// Saves that reached the store so far.
    pub(crate) fn saves(&self) -> usize {
        self.lock().saves
    }

    /// Waits (at most 10 s) until a save is held at the gate.
    #[track_caller]
    pub(crate) fn wait_for_held_save(&self) {
        self.wait_until(|s| s.waiting > 0, "a save to reach the gate");
    }

    /// Waits (at most 10 s) until `n` saves reached the store.
    #[track_caller]
    pub(crate) fn wait_for_saves(&self, n: usize) {
        self.wait_until(|s| s.saves >= n, "saves to finish");
    }

    #[track_caller]
    fn wait_until(&self, done: impl Fn(&GateState) -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut s = self.lock();
        while !done(&s) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            s = self
                .0
                 .1
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
