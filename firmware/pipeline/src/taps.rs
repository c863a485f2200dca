//! Taps: copies of what a stream sends to one of its outputs, for a local
//! recording of that output.
//!
//! The engine keeps one [`OutputTaps`] per tapped output id, shared with
//! whichever stream sends to that output: a stream looks its outputs'
//! entries up once, at start, and holds them for its whole life, so taps
//! attached or taken off later reach it without a restart, and a tap
//! outlives the stream's stops, starts and the keeper's retries.
//!
//! The sender pays one atomic load per batch and output while no tap is
//! attached; with taps it holds the entry's read lock while it hands them
//! the batch. The only writer is [`Taps::attach`] / [`Taps::detach`] (the
//! supervisor's thread, rarely), so the lock is uncontended on the media
//! path, and a detach that returns has waited out any delivery in
//! progress: the tap is not called again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use makara_config::Id;
use makara_engine::{TapId, TsTap};

/// The most taps on one output: each is a copy on the media path.
pub const MAX_TAPS_PER_OUTPUT: usize = 16;

/// Every output's taps, by output id.
#[derive(Debug, Default)]
pub struct Taps {
    registry: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    outputs: HashMap<Id, Arc<OutputTaps>>,
    owners: HashMap<TapId, Id>,
}

/// The taps on one output, as its sender sees them.
#[derive(Default)]
pub struct OutputTaps {
    /// How many taps `list` holds: the sender's lock-free check.
    attached: AtomicUsize,
    list: RwLock<Vec<(TapId, Arc<dyn TsTap>)>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TapError {
    #[error("output {output} already has {max} taps, the most it can have; take one off first", max = MAX_TAPS_PER_OUTPUT)]
    TooMany { output: Id },
}

impl Taps {
    /// Attaches `tap` to `output`: the next batch any stream sends to it
    /// goes to the tap too.
    pub fn attach(&self, output: &Id, tap: Arc<dyn TsTap>) -> Result<TapId, TapError> {
        let mut registry = lock(&self.registry);
        let entry = Arc::clone(registry.outputs.entry(output.clone()).or_default());
        let mut list = entry.list.write().unwrap_or_else(PoisonError::into_inner);
        if list.len() >= MAX_TAPS_PER_OUTPUT {
            return Err(TapError::TooMany {
                output: output.clone(),
            });
        }
        registry.next += 1;
        let id = TapId(registry.next);
        list.push((id, tap));
        entry.attached.store(list.len(), Ordering::Release);
        registry.owners.insert(id, output.clone());
        Ok(id)
    }

    /// Takes `tap` off. Once this returns, the tap is not called again:
    /// a delivery in progress holds the read lock this waits for.
    pub fn detach(&self, tap: TapId) {
        let mut registry = lock(&self.registry);
        let Some(output) = registry.owners.remove(&tap) else {
            return;
        };
        if let Some(entry) = registry.outputs.get(&output) {
            let mut list = entry.list.write().unwrap_or_else(PoisonError::into_inner);
            list.retain(|(id, _)| *id != tap);
            entry.attached.store(list.len(), Ordering::Release);
        }
        registry.forget_unused();
    }

    /// The taps of `output`, for a stream that sends to it: kept for the
    /// stream's life.
    pub fn of(&self, output: &Id) -> Arc<OutputTaps> {
        let mut registry = lock(&self.registry);
        Arc::clone(registry.outputs.entry(output.clone()).or_default())
    }

    /// Drops the entries of outputs with no tap and no stream, after a
    /// stream stopped: the registry holds no more than the taps and the
    /// running streams' outputs.
    pub fn forget_unused(&self) {
        lock(&self.registry).forget_unused();
    }

    #[cfg(test)]
    fn entries(&self) -> usize {
        lock(&self.registry).outputs.len()
    }
}

impl Registry {
    fn forget_unused(&mut self) {
        self.outputs
            .retain(|_, entry| Arc::strong_count(entry) > 1 || !entry.is_empty());
    }
}

impl OutputTaps {
    /// True while no tap is attached: one atomic load.
    pub fn is_empty(&self) -> bool {
        self.attached.load(Ordering::Acquire) == 0
    }

    /// Hands `ts` (whole packets) to every tap, in attachment order.
    pub fn deliver(&self, ts: &[u8]) {
        if self.is_empty() || ts.is_empty() {
            return;
        }
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        for (_, tap) in list.iter() {
            tap.packets(ts);
        }
    }
}

impl std::fmt::Debug for OutputTaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputTaps")
            .field("attached", &self.attached.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorded(Mutex<Vec<u8>>);

    impl TsTap for Recorded {
        fn packets(&self, ts: &[u8]) {
            lock(&self.0).extend_from_slice(ts);
        }
    }

    #[test]
    fn a_stream_holding_an_entry_sees_taps_attached_and_taken_off_later() {
        let taps = Taps::default();
        let output = Id::new_random();
        let held = taps.of(&output);
        assert!(held.is_empty());
        let copy = Arc::new(Recorded::default());
        let id = taps.attach(&output, copy.clone()).unwrap();
        held.deliver(&[1; 188]);
        taps.detach(id);
        held.deliver(&[2; 188]);
        assert_eq!(*lock(&copy.0), vec![1; 188]);
        assert!(held.is_empty());
    }

    #[test]
    fn every_tap_of_an_output_gets_the_batch_and_other_outputs_nothing() {
        let taps = Taps::default();
        let (a, b) = (Id::new_random(), Id::new_random());
        let copies: Vec<Arc<Recorded>> = (0..3).map(|_| Arc::new(Recorded::default())).collect();
        taps.attach(&a, copies[0].clone()).unwrap();
        taps.attach(&a, copies[1].clone()).unwrap();
        taps.attach(&b, copies[2].clone()).unwrap();
        taps.of(&a).deliver(&[7; 376]);
        assert_eq!(lock(&copies[0].0).len(), 376);
        assert_eq!(lock(&copies[1].0).len(), 376);
        assert!(lock(&copies[2].0).is_empty());
    }

    #[test]
    fn an_output_has_a_bounded_number_of_taps() {
        let taps = Taps::default();
        let output = Id::new_random();
        for _ in 0..MAX_TAPS_PER_OUTPUT {
            taps.attach(&output, Arc::new(Recorded::default())).unwrap();
        }
        let e = taps
            .attach(&output, Arc::new(Recorded::default()))
            .unwrap_err();
        assert_eq!(e, TapError::TooMany { output });
    }

    #[test]
    fn entries_without_taps_or_streams_are_forgotten() {
        let taps = Taps::default();
        let output = Id::new_random();
        let id = taps.attach(&output, Arc::new(Recorded::default())).unwrap();
        let held = taps.of(&output);
        taps.detach(id);
        assert_eq!(taps.entries(), 1, "a stream still sends to it");
        drop(held);
        taps.forget_unused();
        assert_eq!(taps.entries(), 0);
        // Unknown and repeated ids are ignored.
        taps.detach(id);
        taps.detach(TapId(999));
    }
}
