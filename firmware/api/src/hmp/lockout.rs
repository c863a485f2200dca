//! Brute-force lockout of HMP logins: [`FAILURES`] failed logins for one
//! user, or from one address, within [`WINDOW`] lock further logins for
//! that user (from anywhere), or from that address (for anyone), for
//! [`LOCK`]. A locked attempt is refused before its password is checked,
//! so a right password does not get in either, and costs no hashing.
//!
//! Only users that exist are counted per user: a name nobody has cannot be
//! broken into, and counting every name an attacker makes up would let the
//! table grow without bound. Addresses are counted as the Kraken failure
//! limits count them (IPv6 by /64), in a bounded table.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::guard::Peer;

/// Failed logins that lock.
pub const FAILURES: usize = 10;
/// The window they are counted in.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);
/// How long a lock lasts.
pub const LOCK: Duration = Duration::from_secs(5 * 60);
/// Addresses tracked at once; past it, the one whose last failure is
/// oldest (and that is not locked) is forgotten.
pub const MAX_ADDRESSES: usize = 4096;

/// What a failed login locked, for the log and the event list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewLocks {
    pub user: Option<String>,
    pub address: Option<Peer>,
}

impl NewLocks {
    pub fn any(&self) -> bool {
        self.user.is_some() || self.address.is_some()
    }
}

#[derive(Debug, Default)]
struct Record {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

impl Record {
    fn locked(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Counts a failure; `true` if it locks.
    fn fail(&mut self, now: Instant) -> bool {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() >= FAILURES {
            self.failures.clear();
            self.locked_until = Some(now + LOCK);
            return true;
        }
        false
    }

    fn last_failure(&self) -> Option<Instant> {
        self.failures.back().copied()
    }
}

#[derive(Debug, Default)]
struct Tables {
    users: HashMap<String, Record>,
    addresses: HashMap<Peer, Record>,
}

#[derive(Debug, Default)]
pub struct Lockout {
    tables: Mutex<Tables>,
}

impl Lockout {
    /// `Err(time left)` if logins for `user` or from `address` are locked.
    pub fn check(&self, user: &str, address: Option<Peer>, now: Instant) -> Result<(), Duration> {
        let tables = self.lock();
        let by_user = tables.users.get(user).and_then(|r| r.locked(now));
        let by_address = address
            .and_then(|a| tables.addresses.get(&a))
            .and_then(|r| r.locked(now));
        match by_user.max(by_address) {
            Some(left) => Err(left),
            None => Ok(()),
        }
    }

    /// Counts a failed login. `existing_user` is the user's name if such a
    /// user exists. Returns what this failure locked.
    pub fn failed(
        &self,
        existing_user: Option<&str>,
        address: Option<Peer>,
        now: Instant,
    ) -> NewLocks {
        let mut tables = self.lock();
        let mut locks = NewLocks::default();
        if let Some(user) = existing_user {
            if tables.users.entry(user.to_owned()).or_default().fail(now) {
                locks.user = Some(user.to_owned());
            }
        }
        if let Some(address) = address {
            make_room(&mut tables.addresses, &address, now);
            if tables.addresses.entry(address).or_default().fail(now) {
                locks.address = Some(address);
            }
        }
        locks
    }

    /// A good login clears the user's count of failures (not a lock: a
    /// locked login never gets this far).
    pub fn succeeded(&self, user: &str) {
        self.lock().users.remove(user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Frees a place for `key` in a full table: the entries with nothing to
/// remember go first, then the unlocked one that failed longest ago.
fn make_room<K: Hash + Eq + Clone>(table: &mut HashMap<K, Record>, key: &K, now: Instant) {
    if table.len() < MAX_ADDRESSES || table.contains_key(key) {
        return;
    }
    table.retain(|_, r| {
        r.locked(now).is_some()
            || r.last_failure()
                .is_some_and(|t| now.duration_since(t) < WINDOW)
    });
    if table.len() < MAX_ADDRESSES {
        return;
    }
    let oldest = table
        .iter()
        .filter(|(_, r)| r.locked(now).is_none())
        .min_by_key(|(_, r)| r.last_failure())
        .map(|(k, _)| k.clone());
    if let Some(k) = oldest {
        table.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn addr(n: u8) -> Option<Peer> {
        Some(Peer::of(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))))
    }

    #[test]
    fn ten_failures_for_a_user_lock_that_user_from_every_address() {
        let lockout = Lockout::default();
        let t = Instant::now();
        for i in 0..FAILURES - 1 {
            let locks = lockout.failed(Some("admin"), addr(i as u8 + 1), t);
            assert!(!locks.any());
        }
        assert!(lockout.check("admin", addr(200), t).is_ok());
        let locks = lockout.failed(Some("admin"), addr(100), t);
        assert_eq!(locks.user.as_deref(), Some("admin"));
        assert_eq!(lockout.check("admin", addr(201), t), Err(LOCK));
        assert!(lockout.check("other", addr(201), t).is_ok());
        assert!(lockout.check("admin", addr(201), t + LOCK).is_ok());
    }

    #[test]
    fn ten_failures_from_an_address_lock_it_for_every_user() {
        let lockout = Lockout::default();
        let t = Instant::now();
        let mut last = NewLocks::default();
        for i in 0..FAILURES {
            last = lockout.failed(None, addr(7), t + Duration::from_secs(i as u64));
        }
        assert_eq!(last.address, addr(7));
        assert!(lockout
            .check("anyone", addr(7), t + Duration::from_secs(20))
            .is_err());
        assert!(lockout.check("anyone", addr(8), t).is_ok());
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let lockout = Lockout::default();
        let t = Instant::now();
        for i in 0..FAILURES - 1 {
            lockout.failed(Some("u"), None, t + Duration::from_secs(i as u64));
        }
        let later = t + WINDOW + Duration::from_secs(FAILURES as u64);
        assert!(!lockout.failed(Some("u"), None, later).any());
        assert!(lockout.check("u", None, later).is_ok());
    }

    #[test]
    fn a_good_login_clears_the_users_count() {
        let lockout = Lockout::default();
        let t = Instant::now();
        for _ in 0..FAILURES - 1 {
            lockout.failed(Some("u"), None, t);
        }
        lockout.succeeded("u");
        assert!(!lockout.failed(Some("u"), None, t).any());
    }

    #[test]
    fn the_address_table_stays_bounded_and_keeps_its_locks() {
        let lockout = Lockout::default();
        let t = Instant::now();
        for _ in 0..FAILURES {
            lockout.failed(None, addr(1), t);
        }
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            lockout.failed(None, Some(Peer::of(ip)), t + Duration::from_millis(1));
        }
        assert!(lockout.lock().addresses.len() <= MAX_ADDRESSES);
        assert!(lockout
            .check("x", addr(1), t + Duration::from_secs(1))
            .is_err());
    }
}
