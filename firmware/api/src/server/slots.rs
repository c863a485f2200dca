//! Who holds the connection slots, and whom to let go when they run out.
//!
//! Every accepted connection holds one slot until it closes. A peer
//! address holds at most [`Limits::per_peer`] of them and everyone
//! together at most [`Limits::total`]. When a new connection finds either
//! bound reached it is not made to wait: the least valuable connection in
//! the way is shed instead, in this order:
//!
//! 1. a stranger (no answer on it has carried [`crate::handler::Authenticated`])
//!    that is not being served: in its TLS handshake, sending request
//!    headers, or idle after a refusal. Oldest accepted first.
//! 2. a proven connection idle between requests. Longest idle first.
//! 3. a stranger whose request is being served (say a slow body). Oldest
//!    accepted first.
//!
//! A proven connection whose request is being served is never shed; if
//! only those are in the way, the new connection is refused.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How many connections may be held at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub total: usize,
    pub per_peer: usize,
}

/// The table of held slots, shared by the accept loop and every connection.
#[derive(Debug)]
pub struct Slots {
    limits: Limits,
    table: Mutex<Table>,
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address holds `per_peer` connections, all being served.
    PeerFull,
    /// `total` connections are held, all proven and being served.
    Full,
}

/// One connection's hold on a slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    id: u64,
    shed: Arc<Notify>,
}

/// What the idle watch of a connection should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The connection has proved a key; its keep-alive is hyper's.
    Proven,
    /// A stranger: close it if it is still idle at this instant.
    CloseIdleAt(Instant),
    /// The slot was shed or freed: close now.
    Gone,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    held: HashMap<u64, Held>,
    per_peer: HashMap<IpAddr, usize>,
    /// Connections shed or refused since the last warning, and when that was.
    unwarned: u64,
    warned_at: Option<Instant>,
}

#[derive(Debug)]
struct Held {
    peer: IpAddr,
    accepted: Instant,
    proven: bool,
    busy: bool,
    idle_since: Instant,
    shed: Arc<Notify>,
}

/// Shed and refused connections are logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(60);

impl Held {
    /// Lower sheds first; `None` is never shed.
    fn shed_rank(&self) -> Option<(u8, Instant)> {
        match (self.proven, self.busy) {
            (false, false) => Some((0, self.accepted)),
            (true, false) => Some((1, self.idle_since)),
            (false, true) => Some((2, self.accepted)),
            (true, true) => None,
        }
    }
}

impl Slots {
    pub fn new(limits: Limits) -> Slots {
        Slots {
            limits,
            table: Mutex::new(Table::default()),
        }
    }

    /// Lets a connection from `peer` in, shedding another if a bound is
    /// reached (see the module documentation for the order).
    pub fn admit(self: &Arc<Self>, peer: IpAddr, now: Instant) -> Result<Slot, Refused> {
        let peer = peer_key(peer);
        let mut table = self.lock();
        let result = self.make_room(&mut table, peer);
        if result.is_err() || table.unwarned > 0 {
            table.unwarned += u64::from(result.is_err());
            table.warn_if_due(now);
        }
        result?;
        let id = table.next_id;
        table.next_id += 1;
        let shed = Arc::new(Notify::new());
        table.held.insert(
            id,
            Held {
                peer,
                accepted: now,
                proven: false,
                busy: false,
                idle_since: now,
                shed: Arc::clone(&shed),
            },
        );
        *table.per_peer.entry(peer).or_default() += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            id,
            shed,
        })
    }

    fn make_room(&self, table: &mut Table, peer: IpAddr) -> Result<(), Refused> {
        if table.count(peer) >= self.limits.per_peer {
            let victim = table.victim(|h| h.peer == peer).ok_or(Refused::PeerFull)?;
            table.shed(victim);
        }
        if table.held.len() >= self.limits.total {
            let victim = table.victim(|_| true).ok_or(Refused::Full)?;
            table.shed(victim);
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic elsewhere leaves the table consistent: every change to it
        // is a single insert or remove.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many connections are held now.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.lock().held.len()
    }
}

impl Table {
    fn count(&self, peer: IpAddr) -> usize {
        self.per_peer.get(&peer).copied().unwrap_or(0)
    }

    fn victim(&self, among: impl Fn(&Held) -> bool) -> Option<u64> {
        self.held
            .iter()
            .filter(|(_, h)| among(h))
            .filter_map(|(id, h)| h.shed_rank().map(|rank| (rank, *id)))
            .min()
            .map(|(_, id)| id)
    }

    fn shed(&mut self, id: u64) {
        if let Some(held) = self.release(id) {
            held.shed.notify_one();
            self.unwarned += 1;
        }
    }

    fn release(&mut self, id: u64) -> Option<Held> {
        let held = self.held.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&held.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&held.peer);
            }
        }
        Some(held)
    }

    /// Under attack every accept sheds; one line a minute says so.
    fn warn_if_due(&mut self, now: Instant) {
        if self
            .warned_at
            .is_some_and(|t| now.duration_since(t) < WARN_EVERY)
        {
            return;
        }
        tracing::warn!(
            connections = self.unwarned,
            held = self.held.len(),
            "connection slots ran short: shed or refused connections to let new ones in"
        );
        self.unwarned = 0;
        self.warned_at = Some(now);
    }
}

impl Slot {
    /// Completes when the slot is shed to make room for a newer connection.
    pub async fn shed(&self) {
        self.shed.notified().await;
    }

    /// A request's headers have arrived. Returns whether the connection has
    /// proved a key before.
    pub fn begin_request(&self) -> bool {
        let mut table = self.slots.lock();
        match table.held.get_mut(&self.id) {
            Some(held) => {
                held.busy = true;
                held.proven
            }
            None => false,
        }
    }

    /// A request has been answered; `authenticated` if the answer carried
    /// [`crate::handler::Authenticated`]. A connection stays proven once it
    /// has been.
    pub fn end_request(&self, authenticated: bool, now: Instant) {
        let mut table = self.slots.lock();
        if let Some(held) = table.held.get_mut(&self.id) {
            held.busy = false;
            held.proven |= authenticated;
            held.idle_since = now;
        }
    }

    /// When a stranger that stays idle must be closed: `idle_limit` after
    /// it was accepted or last answered. While it is being served, no
    /// sooner than `idle_limit` from `now`.
    pub fn watch(&self, idle_limit: Duration, now: Instant) -> Watch {
        let table = self.slots.lock();
        match table.held.get(&self.id) {
            None => Watch::Gone,
            Some(held) if held.proven => Watch::Proven,
            Some(held) if held.busy => Watch::CloseIdleAt(now + idle_limit),
            Some(held) => Watch::CloseIdleAt(held.idle_since + idle_limit),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().release(self.id);
    }
}

/// The address a per-peer bound counts: IPv4 addresses one by one (an
/// IPv4-mapped IPv6 address as its IPv4 address), IPv6 by /64, the
/// smallest prefix a site is given: counting each address would let one
/// host take every slot.
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests;
