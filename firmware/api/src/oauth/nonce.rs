//! Replay protection: remembers `(consumer key, nonce, timestamp)` triples
//! for as long as their timestamp would still be accepted.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// How far `oauth_timestamp` may be from the server's clock, either way,
/// and so how long a nonce must be remembered.
pub const DEFAULT_WINDOW_SECS: u64 = 600;

/// Default bound on remembered nonces. At a few hundred bytes each this is
/// tens of megabytes at worst, and no legitimate client of an encoder
/// appliance sends anywhere near 100 000 requests in a window.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Why a nonce could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// The same consumer already used this nonce with this timestamp.
    #[error("nonce already used with this consumer key and timestamp")]
    Replayed,
    /// The cache holds `capacity` live nonces; new ones are refused rather
    /// than letting memory grow without bound.
    #[error("nonce cache full ({capacity} live entries)")]
    Full {
        /// The configured bound.
        capacity: usize,
    },
}

/// A thread-safe, bounded set of recently seen nonces.
///
/// Entries are keyed by the request's own timestamp, not by arrival time:
/// a request stamped `t` stays acceptable until `now = t + window`, so that
/// is when its nonce may be forgotten. Ordering the set by timestamp makes
/// that pruning a walk from the front.
#[derive(Debug)]
pub struct NonceCache {
    window_secs: u64,
    capacity: usize,
    seen: Mutex<BTreeSet<(u64, String, String)>>,
}

impl NonceCache {
    /// A cache for a timestamp window of `window_secs` (see
    /// [`DEFAULT_WINDOW_SECS`]) holding up to [`DEFAULT_CAPACITY`] nonces.
    pub fn new(window_secs: u64) -> Self {
        Self::with_capacity(window_secs, DEFAULT_CAPACITY)
    }

    /// A cache with an explicit bound on live entries.
    pub fn with_capacity(window_secs: u64, capacity: usize) -> Self {
        Self {
            window_secs,
            capacity,
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// The accepted clock skew, in seconds. [`super::verify`] uses it for
    /// the timestamp check too, so the two can never disagree.
    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }

    /// Number of nonces currently remembered (expired ones included until
    /// the next [`NonceCache::record`] prunes them).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Records a nonce, failing if it was already seen. Check and insert
    /// happen under one lock, so of two concurrent identical requests
    /// exactly one succeeds.
    ///
    /// The caller must already have rejected timestamps outside
    /// `now ± window`: an older one would be pruned straight away and so
    /// could be replayed.
    ///
    /// # Errors
    ///
    /// [`NonceError::Replayed`] for a known triple, [`NonceError::Full`]
    /// when the cache is at capacity even after pruning.
    pub fn record(
        &self,
        consumer_key: &str,
        nonce: &str,
        timestamp: u64,
        now: u64,
    ) -> Result<(), NonceError> {
        let mut seen = self.lock();
        let cutoff = now.saturating_sub(self.window_secs);
        while seen.first().is_some_and(|(ts, _, _)| *ts < cutoff) {
            seen.pop_first();
        }
        let entry = (timestamp, consumer_key.to_owned(), nonce.to_owned());
        if seen.contains(&entry) {
            return Err(NonceError::Replayed);
        }
        if seen.len() >= self.capacity {
            return Err(NonceError::Full {
                capacity: self.capacity,
            });
        }
        seen.insert(entry);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<(u64, String, String)>> {
        // A panic while holding the lock cannot leave the set half-updated
        // (each operation is a single BTreeSet call), so poisoning is moot.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for NonceCache {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn second_use_is_a_replay() {
        let cache = NonceCache::new(600);
        assert_eq!(cache.record("k", "n", NOW, NOW), Ok(()));
        assert_eq!(
            cache.record("k", "n", NOW, NOW + 5),
            Err(NonceError::Replayed)
        );
    }

    #[test]
    fn nonce_is_scoped_to_key_and_timestamp() {
        let cache = NonceCache::new(600);
        assert_eq!(cache.record("k", "n", NOW, NOW), Ok(()));
        assert_eq!(cache.record("other", "n", NOW, NOW), Ok(()));
        assert_eq!(cache.record("k", "n", NOW + 1, NOW), Ok(()));
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn entries_expire_with_their_timestamp_window() {
        let cache = NonceCache::new(600);
        assert_eq!(cache.record("k", "old", NOW - 600, NOW), Ok(()));
        assert_eq!(cache.record("k", "future", NOW + 600, NOW), Ok(()));
        // One second later, `old` can no longer pass the timestamp check.
        assert_eq!(cache.record("k", "x", NOW + 1, NOW + 1), Ok(()));
        assert_eq!(cache.len(), 2);
        // `future` must still be remembered until NOW + 1200.
        assert_eq!(
            cache.record("k", "future", NOW + 600, NOW + 1200),
            Err(NonceError::Replayed)
        );
    }

    #[test]
    fn full_cache_refuses_instead_of_growing() {
        let cache = NonceCache::with_capacity(600, 2);
        assert_eq!(cache.record("k", "a", NOW, NOW), Ok(()));
        assert_eq!(cache.record("k", "b", NOW, NOW), Ok(()));
        assert_eq!(
            cache.record("k", "c", NOW, NOW),
            Err(NonceError::Full { capacity: 2 })
        );
        // A replay is still reported as such, not as "full".
        assert_eq!(cache.record("k", "a", NOW, NOW), Err(NonceError::Replayed));
        // Once the window has moved on, there is room again.
        assert_eq!(cache.record("k", "c", NOW + 601, NOW + 601), Ok(()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn concurrent_identical_requests_let_exactly_one_through() {
        let cache = NonceCache::new(600);
        let successes = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| cache.record("k", "same", NOW, NOW).is_ok()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(successes, 1);
    }
}
