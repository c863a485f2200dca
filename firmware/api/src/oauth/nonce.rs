//! Replay protection: remembers, per consumer key, which nonces were used
//! with which timestamps, for as long as those timestamps are accepted.
//!
//! Every key has its own bounded record, so one key's traffic costs no
//! other key anything. When a key's record is full, the key's oldest second
//! of entries is forgotten and the key's *floor* rises to that second: from
//! then on the key's requests stamped at or below the floor are refused as
//! stale, so nothing forgotten can be replayed. A client signing with the
//! current time meets the floor only if its requests reach the server more
//! than `capacity / rate` seconds after they were signed; at
//! [`SUSTAINED_RATE_PER_KEY`] that is [`LATENESS_AT_SUSTAINED_RATE_SECS`].
//!
//! Nonces are kept as 64-bit keyed hashes (SipHash with keys drawn at
//! random for each process), so an entry has a fixed small size whatever
//! the nonce's length, and nobody outside the process can aim two nonces at
//! the same hash. A collision would refuse a fresh request as a replay
//! (with well under a 10⁻¹³ chance per request at full capacity), never
//! let a replay through.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How far `oauth_timestamp` may be from the server's clock, either way,
/// and so how long a nonce must be remembered.
pub const DEFAULT_WINDOW_SECS: u64 = 600;

/// The sustained request rate of one key that its record is sized for.
pub const SUSTAINED_RATE_PER_KEY: u64 = 2_000;

/// At [`SUSTAINED_RATE_PER_KEY`], how long after its `oauth_timestamp` a
/// request may arrive and still find its second remembered. It also covers
/// clock differences between clients sharing a key.
pub const LATENESS_AT_SUSTAINED_RATE_SECS: u64 = 60;

/// Entries remembered per key: 120 000 keyed hashes, about 2.5 MiB at
/// worst (hash-set slots of 8 bytes at a load factor down to 7/16, plus one
/// control byte each).
pub const DEFAULT_CAPACITY_PER_KEY: usize =
    (SUSTAINED_RATE_PER_KEY * LATENESS_AT_SUSTAINED_RATE_SECS) as usize;

/// Why a nonce could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// The same consumer already used this nonce with this timestamp.
    #[error("nonce already used with this consumer key and timestamp")]
    Replayed,
    /// The timestamp is at or below the key's floor: the key's record no
    /// longer covers that second, so its nonces cannot be checked.
    #[error("timestamp at or before {floor}, where this key's replay record begins")]
    BelowFloor {
        /// The newest second this key's record has forgotten.
        floor: u64,
    },
}

/// A thread-safe set of recently seen nonces, bounded per key.
#[derive(Debug)]
pub struct NonceCache {
    window_secs: u64,
    capacity_per_key: usize,
    hasher: RandomState,
    keys: Mutex<HashMap<String, KeyRecord>>,
}

impl NonceCache {
    /// A cache for a timestamp window of `window_secs` (see
    /// [`DEFAULT_WINDOW_SECS`]) holding up to [`DEFAULT_CAPACITY_PER_KEY`]
    /// nonces per key.
    pub fn new(window_secs: u64) -> Self {
        Self::with_capacity_per_key(window_secs, DEFAULT_CAPACITY_PER_KEY)
    }

    /// A cache with an explicit bound on each key's entries (at least 1).
    pub fn with_capacity_per_key(window_secs: u64, capacity_per_key: usize) -> Self {
        Self {
            window_secs,
            capacity_per_key: capacity_per_key.max(1),
            hasher: RandomState::new(),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// The accepted clock skew, in seconds. [`super::verify`] uses it for
    /// the timestamp check too, so the two can never disagree.
    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }

    /// The bound on each key's entries.
    pub fn capacity_per_key(&self) -> usize {
        self.capacity_per_key
    }

    /// Number of nonces currently remembered for `consumer_key` (expired
    /// ones included until that key's next [`NonceCache::record`]).
    pub fn len_for(&self, consumer_key: &str) -> usize {
        self.lock().get(consumer_key).map_or(0, |r| r.len)
    }

    /// Number of keys with a record.
    pub fn keys_tracked(&self) -> usize {
        self.lock().len()
    }

    /// Drops the records of keys `keep` refuses, such as revoked ones (they
    /// can no longer produce a valid signature, so there is nothing left
    /// to replay). The caller bounds the keys tracked by the keys
    /// configured with this.
    pub fn retain_keys(&self, keep: impl Fn(&str) -> bool) {
        self.lock().retain(|key, _| keep(key));
    }

    /// Records a nonce, failing if it was already seen or if its second is
    /// no longer covered. Check and insert happen under one lock, so of two
    /// concurrent identical requests exactly one succeeds.
    ///
    /// The caller must already have rejected timestamps outside
    /// `now ± window`: an older one would be forgotten straight away and so
    /// could be replayed.
    ///
    /// # Errors
    ///
    /// [`NonceError::Replayed`] for a known triple, [`NonceError::BelowFloor`]
    /// for a timestamp at or below the key's floor.
    pub fn record(
        &self,
        consumer_key: &str,
        nonce: &str,
        timestamp: u64,
        now: u64,
    ) -> Result<(), NonceError> {
        let hash = self.hasher.hash_one(nonce);
        let cutoff = now.saturating_sub(self.window_secs);
        let mut keys = self.lock();
        if !keys.contains_key(consumer_key) {
            keys.insert(consumer_key.to_owned(), KeyRecord::default());
        }
        let record = keys
            .get_mut(consumer_key)
            .expect("the key's record was just ensured");
        record.forget_before(cutoff);
        record.insert(timestamp, hash, self.capacity_per_key)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, KeyRecord>> {
        // Every update keeps a record consistent before it can panic (the
        // count changes with the set), so a poisoned lock is still usable.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for NonceCache {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW_SECS)
    }
}

/// One key's remembered nonce hashes, by second, and its floor.
#[derive(Debug, Default)]
struct KeyRecord {
    by_second: BTreeMap<u64, HashSet<u64>>,
    len: usize,
    floor: Option<u64>,
}

impl KeyRecord {
    /// Forgets the seconds before `cutoff`, which the timestamp check
    /// refuses anyway; a floor below it no longer refuses anything.
    fn forget_before(&mut self, cutoff: u64) {
        while let Some(oldest) = self.by_second.first_entry() {
            if *oldest.key() >= cutoff {
                break;
            }
            self.len -= oldest.remove().len();
        }
        if self.floor.is_some_and(|floor| floor < cutoff) {
            self.floor = None;
        }
    }

    fn insert(&mut self, timestamp: u64, hash: u64, capacity: usize) -> Result<(), NonceError> {
        self.check_floor(timestamp)?;
        if self
            .by_second
            .get(&timestamp)
            .is_some_and(|hashes| hashes.contains(&hash))
        {
            return Err(NonceError::Replayed);
        }
        if self.len >= capacity {
            self.forget_oldest_second();
            self.check_floor(timestamp)?;
        }
        self.by_second.entry(timestamp).or_default().insert(hash);
        self.len += 1;
        Ok(())
    }

    fn check_floor(&self, timestamp: u64) -> Result<(), NonceError> {
        match self.floor {
            Some(floor) if timestamp <= floor => Err(NonceError::BelowFloor { floor }),
            _ => Ok(()),
        }
    }

    /// Makes room by forgetting the oldest second whole, so the floor
    /// stays a plain "at or below this second".
    fn forget_oldest_second(&mut self) {
        if let Some((second, hashes)) = self.by_second.pop_first() {
            self.len -= hashes.len();
            self.floor = Some(self.floor.map_or(second, |floor| floor.max(second)));
        }
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
        assert_eq!(cache.len_for("k"), 2);
        assert_eq!(cache.len_for("other"), 1);
    }

    #[test]
    fn entries_expire_with_their_timestamp_window() {
        let cache = NonceCache::new(600);
        assert_eq!(cache.record("k", "old", NOW - 600, NOW), Ok(()));
        assert_eq!(cache.record("k", "future", NOW + 600, NOW), Ok(()));
        // One second later, `old` can no longer pass the timestamp check.
        assert_eq!(cache.record("k", "x", NOW + 1, NOW + 1), Ok(()));
        assert_eq!(cache.len_for("k"), 2);
        // `future` must still be remembered until NOW + 1200.
        assert_eq!(
            cache.record("k", "future", NOW + 600, NOW + 1200),
            Err(NonceError::Replayed)
        );
    }

    #[test]
    fn a_full_key_forgets_its_oldest_second_and_raises_its_floor() {
        let cache = NonceCache::with_capacity_per_key(600, 3);
        assert_eq!(cache.record("k", "a", NOW, NOW), Ok(()));
        assert_eq!(cache.record("k", "b", NOW, NOW), Ok(()));
        assert_eq!(cache.record("k", "c", NOW + 1, NOW + 1), Ok(()));
        // Full: the second NOW goes, both its entries, and becomes the floor.
        assert_eq!(cache.record("k", "d", NOW + 2, NOW + 2), Ok(()));
        assert_eq!(cache.len_for("k"), 2);
        // What was forgotten cannot be replayed, nor anything else stamped
        // at or below the floor.
        let floor = Err(NonceError::BelowFloor { floor: NOW });
        assert_eq!(cache.record("k", "a", NOW, NOW + 2), floor);
        assert_eq!(cache.record("k", "new", NOW, NOW + 2), floor);
        assert_eq!(cache.record("k", "older", NOW - 5, NOW + 2), floor);
        // Above the floor, replays are still caught exactly.
        assert_eq!(
            cache.record("k", "c", NOW + 1, NOW + 2),
            Err(NonceError::Replayed)
        );
    }

    #[test]
    fn more_than_a_record_in_one_second_refuses_only_that_second() {
        let cache = NonceCache::with_capacity_per_key(600, 2);
        assert_eq!(cache.record("k", "a", NOW, NOW), Ok(()));
        assert_eq!(cache.record("k", "b", NOW, NOW), Ok(()));
        assert_eq!(
            cache.record("k", "c", NOW, NOW),
            Err(NonceError::BelowFloor { floor: NOW })
        );
        assert_eq!(cache.record("k", "c", NOW + 1, NOW + 1), Ok(()));
    }

    #[test]
    fn one_key_at_capacity_leaves_other_keys_untouched() {
        let cache = NonceCache::with_capacity_per_key(600, 100);
        assert_eq!(cache.record("b", "first", NOW, NOW), Ok(()));
        for i in 0..10_000u64 {
            // Key "a" floods: 100 nonces per second for 100 seconds.
            let _ = cache.record("a", &format!("n{i}"), NOW + i / 100, NOW + i / 100);
        }
        assert_eq!(cache.len_for("a"), 100);
        assert_eq!(cache.len_for("b"), 1);
        assert_eq!(cache.record("b", "second", NOW, NOW + 99), Ok(()));
        assert_eq!(
            cache.record("b", "first", NOW, NOW + 99),
            Err(NonceError::Replayed)
        );
    }

    /// The documented rate: a key at 2 000 requests/s whose requests
    /// arrive up to a minute after signing is never refused, long after its
    /// record has filled, and the record never exceeds its bound.
    #[test]
    fn the_sustained_rate_is_served_with_a_minute_of_lateness() {
        let cache = NonceCache::default();
        let rate = SUSTAINED_RATE_PER_KEY;
        let lateness = LATENESS_AT_SUSTAINED_RATE_SECS - 1;
        for second in 0..(3 * LATENESS_AT_SUSTAINED_RATE_SECS) {
            let now = NOW + lateness + second;
            for i in 0..rate {
                // Most requests are fresh; every tenth arrives late.
                let stamped = if i % 10 == 0 { now - lateness } else { now };
                let nonce = format!("{second}-{i}");
                assert_eq!(cache.record("k", &nonce, stamped, now), Ok(()), "{nonce}");
            }
            assert!(cache.len_for("k") <= DEFAULT_CAPACITY_PER_KEY);
        }
    }

    #[test]
    fn revoked_keys_can_be_dropped() {
        let cache = NonceCache::new(600);
        assert_eq!(cache.record("kept", "n", NOW, NOW), Ok(()));
        assert_eq!(cache.record("revoked", "n", NOW, NOW), Ok(()));
        cache.retain_keys(|key| key == "kept");
        assert_eq!(cache.keys_tracked(), 1);
        assert_eq!(cache.len_for("kept"), 1);
    }

    #[test]
    fn a_floor_lapses_with_the_window() {
        let cache = NonceCache::with_capacity_per_key(600, 1);
        assert_eq!(cache.record("k", "a", NOW, NOW), Ok(()));
        assert_eq!(cache.record("k", "b", NOW + 1, NOW + 1), Ok(()));
        assert_eq!(
            cache.record("k", "x", NOW, NOW + 1),
            Err(NonceError::BelowFloor { floor: NOW })
        );
        // Once NOW is outside the window, the floor refuses nothing the
        // timestamp check would let through, and goes.
        assert_eq!(cache.record("k", "c", NOW + 700, NOW + 700), Ok(()));
        assert_eq!(cache.len_for("k"), 1);
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
