//! Which stream id each listener serves. libsrt asks (through the accept
//! hook in `ffi`) before it accepts a caller; the hook finds the listener
//! here by its socket id, so no pointer to Rust memory is ever handed to C.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// One listener's entry: which registration made it, and the stream id.
type Entry = (u64, String);

/// Listener socket id -> the one stream id it accepts.
static FILTERS: Mutex<BTreeMap<i32, Entry>> = Mutex::new(BTreeMap::new());

fn filters() -> std::sync::MutexGuard<'static, BTreeMap<i32, Entry>> {
    FILTERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// True if the listener `listener` accepts a caller that sent `stream_id`
/// (empty if it sent none), byte for byte. A listener not registered
/// accepts nobody: the hook only runs on listeners that registered before
/// listening.
pub(crate) fn admits(listener: i32, stream_id: &[u8]) -> bool {
    filters()
        .get(&listener)
        .is_some_and(|(_, wanted)| wanted.as_bytes() == stream_id)
}

/// A listener's entry, removed on drop (unless a later listener that
/// libsrt gave the same id has replaced it).
#[derive(Debug)]
pub(crate) struct Registration {
    listener: i32,
    token: u64,
}

/// Makes `listener` accept only callers sending `stream_id`.
pub(crate) fn register(listener: i32, stream_id: &str) -> Registration {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let token = NEXT.fetch_add(1, Ordering::Relaxed);
    filters().insert(listener, (token, stream_id.to_owned()));
    Registration { listener, token }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut filters = filters();
        if filters
            .get(&self.listener)
            .is_some_and(|(t, _)| *t == self.token)
        {
            filters.remove(&self.listener);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_registered_id_passes_and_only_while_registered() {
        // Negative keys: real socket ids are positive, so no clash with
        // listeners of other tests running at the same time.
        let reg = register(-7, "live/cam1");
        assert!(admits(-7, b"live/cam1"));
        assert!(!admits(-7, b"live/cam2"));
        assert!(!admits(-7, b"live/cam1 "));
        assert!(!admits(-7, b""));
        assert!(!admits(-8, b"live/cam1"));
        drop(reg);
        assert!(!admits(-7, b"live/cam1"));
    }

    #[test]
    fn a_stale_registration_leaves_its_successor_alone() {
        let old = register(-9, "old");
        let new = register(-9, "new");
        drop(old);
        assert!(admits(-9, b"new"));
        drop(new);
        assert!(!admits(-9, b"new"));
    }
}
