//! Which stream id each listener serves. libsrt asks (through the accept
//! hook in `ffi`) before it accepts a caller; the hook finds the listener
//! here by its socket id, so no pointer to Rust memory is ever handed to C.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Listener socket id -> the one stream id it accepts.
static FILTERS: Mutex<BTreeMap<i32, String>> = Mutex::new(BTreeMap::new());

fn filters() -> std::sync::MutexGuard<'static, BTreeMap<i32, String>> {
    FILTERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// True if the listener `listener` accepts a caller that sent `stream_id`
/// (empty if it sent none). A listener not registered accepts nobody: the
/// hook only runs on listeners that registered before listening.
pub(crate) fn admits(listener: i32, stream_id: &str) -> bool {
    filters()
        .get(&listener)
        .is_some_and(|wanted| wanted == stream_id)
}

/// A listener's entry, removed on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    listener: i32,
}

/// Makes `listener` accept only callers sending `stream_id`.
pub(crate) fn register(listener: i32, stream_id: &str) -> Registration {
    filters().insert(listener, stream_id.to_owned());
    Registration { listener }
}

impl Drop for Registration {
    fn drop(&mut self) {
        filters().remove(&self.listener);
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
        assert!(admits(-7, "live/cam1"));
        assert!(!admits(-7, "live/cam2"));
        assert!(!admits(-7, ""));
        assert!(!admits(-8, "live/cam1"));
        drop(reg);
        assert!(!admits(-7, "live/cam1"));
    }
}
