//! Limits on failed authorisations, per client address and per consumer
//! key, so that secrets cannot be guessed at speed, and a bound on the log
//! lines refused requests cause.
//!
//! Only guesses count: an unknown consumer key or a wrong signature (see
//! [`crate::oauth::OAuthError::is_guess`]). An address may make
//! [`POLICY`]`.burst` of them a minute; then it is blocked, first for a
//! second, and each further failure doubles the block up to a maximum.
//! A known key whose signature keeps failing is limited the same way,
//! which catches guessing spread over many addresses. A blocked subject is
//! answered 429 before its signature is checked, so a block also stops the
//! guessing, not just the answers.
//!
//! A stranger must not be able to lock a key's real clients out, so the
//! key's limit does not apply to addresses that authenticated with that key
//! within [`TRUST_FOR`]. (An address's own limit applies to everyone
//! behind it.) Nor does it apply to requests whose address is unknown
//! (the connection layer always gives one; requests built in memory have
//! none), since they could not be told from the key's clients.
//!
//! Memory is bounded: at most [`MAX_ADDRESSES`] address records (idle ones
//! are swept; when all are busy, new addresses go uncounted, the key
//! limit still holding), key records only for keys the caller still
//! configures ([`Guard::retain_keys`]), and [`MAX_TRUSTED_PER_KEY`]
//! trusted addresses per key.

mod log;
mod record;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

pub use log::{Turn, LOG_LINES_PER_WINDOW, LOG_WINDOW};
pub use record::{Policy, POLICY};

use log::LogBudget;
use record::Record;

/// Address records kept at most.
pub const MAX_ADDRESSES: usize = 4096;
/// How long a successful authentication exempts its address from its
/// key's limit.
pub const TRUST_FOR: Duration = Duration::from_secs(60 * 60);
/// Trusted addresses remembered per key; the least recently seen goes.
pub const MAX_TRUSTED_PER_KEY: usize = 16;
/// Idle address records are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Who failed: an IPv4 address, or the /64 network of an IPv6 address
/// (one host commonly has a whole /64 to pick addresses from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    V4([u8; 4]),
    V6Net([u8; 8]),
}

impl Peer {
    pub fn of(ip: IpAddr) -> Peer {
        match ip {
            IpAddr::V4(v4) => Peer::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Peer::V4(v4.octets()),
                None => {
                    let mut net = [0; 8];
                    net.copy_from_slice(&v6.octets()[..8]);
                    Peer::V6Net(net)
                }
            },
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::V4(o) => write!(f, "{}.{}.{}.{}", o[0], o[1], o[2], o[3]),
            Peer::V6Net(n) => {
                let mut octets = [0; 16];
                octets[..8].copy_from_slice(n);
                write!(f, "{}/64", std::net::Ipv6Addr::from(octets))
            }
        }
    }
}

/// What a block is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Address,
    Key,
}

/// A request refused before its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub subject: Subject,
    pub retry_after: Duration,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match self.subject {
            Subject::Address => "from this address",
            Subject::Key => "for this consumer key",
        };
        let secs = self.retry_after_secs();
        write!(
            f,
            "too many failed authorisations {whose}; try again in {secs} s"
        )
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The wait in whole seconds, rounded up (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        let whole = self.retry_after.as_secs();
        whole + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

/// Blocks a failure started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewBlocks {
    pub address: Option<Duration>,
    pub key: Option<Duration>,
}

/// The shared state: failure records and the log budget.
#[derive(Debug)]
pub struct Guard {
    policy: Policy,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    addresses: HashMap<Peer, Record>,
    keys: HashMap<String, KeyRecord>,
    next_sweep: Option<Instant>,
    log: LogBudget,
}

/// A key's failures and the addresses it trusts.
#[derive(Debug, Default)]
struct KeyRecord {
    failures: Option<Record>,
    trusted: Vec<(Peer, Instant)>,
}

impl KeyRecord {
    fn trusts(&self, peer: Peer, now: Instant) -> bool {
        self.trusted
            .iter()
            .any(|(p, seen)| *p == peer && now.saturating_duration_since(*seen) < TRUST_FOR)
    }

    fn trust(&mut self, peer: Peer, now: Instant) {
        if let Some(entry) = self.trusted.iter_mut().find(|(p, _)| *p == peer) {
            entry.1 = now;
        } else if self.trusted.len() < MAX_TRUSTED_PER_KEY {
            self.trusted.push((peer, now));
        } else if let Some(oldest) = self.trusted.iter_mut().min_by_key(|(_, seen)| *seen) {
            *oldest = (peer, now);
        }
    }
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new(POLICY)
    }
}

impl Guard {
    pub fn new(policy: Policy) -> Guard {
        Guard {
            policy,
            state: Mutex::new(State {
                addresses: HashMap::new(),
                keys: HashMap::new(),
                next_sweep: None,
                log: LogBudget::new(),
            }),
        }
    }

    /// Refuses a request whose address, or whose claimed key (unless the
    /// address is trusted by it), is blocked.
    pub fn check(
        &self,
        peer: Option<Peer>,
        key: Option<&str>,
        now: Instant,
    ) -> Result<(), Refusal> {
        let state = self.lock();
        let address_block = peer
            .and_then(|p| state.addresses.get(&p))
            .and_then(|r| r.blocked(now));
        if let Some(retry_after) = address_block {
            return Err(Refusal {
                subject: Subject::Address,
                retry_after,
            });
        }
        let (Some(peer), Some(record)) = (peer, key.and_then(|k| state.keys.get(k))) else {
            return Ok(());
        };
        if record.trusts(peer, now) {
            return Ok(());
        }
        match record.failures.as_ref().and_then(|r| r.blocked(now)) {
            Some(retry_after) => Err(Refusal {
                subject: Subject::Key,
                retry_after,
            }),
            None => Ok(()),
        }
    }

    /// Counts a guess from `peer`; `known_key` is the key when it exists
    /// and the signature was wrong.
    pub fn failed(&self, peer: Option<Peer>, known_key: Option<&str>, now: Instant) -> NewBlocks {
        let policy = self.policy;
        let mut state = self.lock();
        let address = peer.and_then(|p| {
            state
                .address_record(p, now, &policy)
                .and_then(|r| r.fail(now, &policy))
        });
        let key = known_key.and_then(|k| {
            let record = state.keys.entry(k.to_owned()).or_default();
            record
                .failures
                .get_or_insert_with(|| Record::new(now))
                .fail(now, &policy)
        });
        NewBlocks { address, key }
    }

    /// Remembers that `peer` authenticated with `key`, exempting it from
    /// that key's limit for [`TRUST_FOR`].
    pub fn succeeded(&self, peer: Option<Peer>, key: &str, now: Instant) {
        let Some(peer) = peer else { return };
        let mut state = self.lock();
        if let Some(record) = state.keys.get_mut(key) {
            record.trust(peer, now);
        } else {
            let mut record = KeyRecord::default();
            record.trust(peer, now);
            state.keys.insert(key.to_owned(), record);
        }
    }

    /// Number of keys with a record.
    pub fn keys_tracked(&self) -> usize {
        self.lock().keys.len()
    }

    /// Drops the records of keys `keep` refuses (revoked ones).
    pub fn retain_keys(&self, keep: impl Fn(&str) -> bool) {
        self.lock().keys.retain(|key, _| keep(key));
    }

    /// Whether to log one more refused request now.
    pub fn log_turn(&self, now: Instant) -> Turn {
        self.lock().log.turn(now)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Records are plain values updated in place; a panic cannot leave
        // one half-written, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The record of `peer`, made if there is room. When the table is full
    /// the idle records are swept (at most every [`SWEEP_EVERY`], so
    /// a stream of new addresses cannot make every request scan it).
    fn address_record(&mut self, peer: Peer, now: Instant, policy: &Policy) -> Option<&mut Record> {
        if !self.addresses.contains_key(&peer) && self.addresses.len() >= MAX_ADDRESSES {
            if self.next_sweep.is_some_and(|at| now < at) {
                return None;
            }
            self.next_sweep = Some(now + SWEEP_EVERY);
            self.addresses.retain(|_, r| !r.is_idle(now, policy));
            if self.addresses.len() >= MAX_ADDRESSES {
                return None;
            }
        }
        Some(
            self.addresses
                .entry(peer)
                .or_insert_with(|| Record::new(now)),
        )
    }
}

#[cfg(test)]
mod tests;
