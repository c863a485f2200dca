//! The connected peers of one SRT output and what its [`OutputStatus`]
//! says about them: their links, and while there is none, why. The sender thread hands every message to each peer; the output's
//! own thread (connecting or accepting) adds peers and refreshes the
//! report. A peer that fails is dropped without touching the others. (A
//! peer without room for a message loses it inside its link, which counts
//! it in its dropped packets; the send still returns at once.)

use std::sync::{Arc, Mutex, MutexGuard};

use makara_media::SrtLinkStats;

use crate::status::OutputStatus;

/// One connection to a peer, as the peer set uses it.
pub(crate) trait Link: Send {
    /// Hands one message to the connection without waiting; `Err` says
    /// why the connection is gone.
    fn send(&mut self, message: &[u8]) -> Result<(), String>;
    /// The connection's statistics now.
    fn stats(&mut self) -> SrtLinkStats;
}

/// Every peer of one output, at most `capacity`.
pub(crate) struct Peers<L> {
    inner: Mutex<Inner<L>>,
    status: Arc<OutputStatus>,
    capacity: usize,
}

struct Inner<L> {
    peers: Vec<Peer<L>>,
    /// What the report says while no peer is connected.
    waiting: String,
}

struct Peer<L> {
    link: L,
    /// Who it is, for the log.
    who: String,
}

impl<L: Link> Peers<L> {
    pub fn new(status: Arc<OutputStatus>, capacity: usize, waiting: String) -> Peers<L> {
        status.set_links_and_error(Vec::new(), Some(waiting.clone()));
        Peers {
            inner: Mutex::new(Inner {
                peers: Vec::new(),
                waiting,
            }),
            status,
            capacity,
        }
    }

    /// Adds a connected peer; gives it back when the output has as many
    /// as it takes.
    pub fn admit(&self, link: L, who: String) -> Result<usize, L> {
        let mut inner = lock(&self.inner);
        if inner.peers.len() >= self.capacity {
            return Err(link);
        }
        inner.peers.push(Peer { link, who });
        self.publish(&mut inner);
        Ok(inner.peers.len())
    }

    /// Hands `message` to every peer; drops the ones whose connection is
    /// gone, each with its reason. `true` when at least one took it.
    pub fn send(&self, message: &[u8], gone: &mut dyn FnMut(&str, &str)) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.peers.len();
        inner
            .peers
            .retain_mut(|peer| match peer.link.send(message) {
                Ok(()) => true,
                Err(reason) => {
                    gone(&peer.who, &reason);
                    false
                }
            });
        if inner.peers.len() != before {
            self.publish(&mut inner);
        }
        !inner.peers.is_empty()
    }

    /// The report again, with each link's statistics now.
    pub fn refresh(&self) {
        let mut inner = lock(&self.inner);
        self.publish(&mut inner);
    }

    /// What the report says while no peer is connected (why the last
    /// attempt failed, say).
    pub fn set_waiting(&self, waiting: String) {
        let mut inner = lock(&self.inner);
        inner.waiting = waiting;
        self.publish(&mut inner);
    }

    pub fn len(&self) -> usize {
        lock(&self.inner).peers.len()
    }

    /// Drops every peer (the output is closing).
    pub fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.peers.clear();
        self.publish(&mut inner);
    }

    fn publish(&self, inner: &mut Inner<L>) {
        let links: Vec<SrtLinkStats> = inner.peers.iter_mut().map(|p| p.link.stats()).collect();
        let waiting = links.is_empty().then(|| inner.waiting.clone());
        self.status.set_links_and_error(links, waiting);
    }
}

/// The report is plain data: a thread that panicked holding it left it
/// whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link that records what it took and answers as told.
    struct Fake {
        taken: Arc<Mutex<Vec<Vec<u8>>>>,
        answer: Arc<Mutex<Result<(), String>>>,
    }

    type Handles = (Arc<Mutex<Vec<Vec<u8>>>>, Arc<Mutex<Result<(), String>>>);

    fn fake() -> (Fake, Handles) {
        let taken = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(Ok(())));
        let link = Fake {
            taken: Arc::clone(&taken),
            answer: Arc::clone(&answer),
        };
        (link, (taken, answer))
    }

    impl Link for Fake {
        fn send(&mut self, message: &[u8]) -> Result<(), String> {
            let answer = lock(&self.answer).clone();
            if answer.is_ok() {
                lock(&self.taken).push(message.to_vec());
            }
            answer
        }

        fn stats(&mut self) -> SrtLinkStats {
            SrtLinkStats {
                packets_sent: lock(&self.taken).len() as u64,
                ..SrtLinkStats::default()
            }
        }
    }

    fn peers(capacity: usize) -> (Peers<Fake>, Arc<OutputStatus>) {
        let status = Arc::new(OutputStatus::waiting("out", "starting".into()));
        let peers = Peers::new(Arc::clone(&status), capacity, "no caller".into());
        (peers, status)
    }

    fn no_one_leaves(who: &str, why: &str) {
        panic!("{who} left: {why}");
    }

    #[test]
    fn without_peers_the_report_says_why() {
        let (peers, status) = peers(2);
        assert!(!status.delivering());
        assert_eq!(status.waiting_reason().as_deref(), Some("no caller"));
        assert!(!peers.send(b"m", &mut no_one_leaves));
        peers.set_waiting("rejected: bad passphrase".into());
        assert_eq!(
            status.report().last_error.as_deref(),
            Some("rejected: bad passphrase")
        );
    }

    #[test]
    fn every_peer_gets_every_message() {
        let (peers, status) = peers(4);
        let (a, (taken_a, _)) = fake();
        let (b, (taken_b, _)) = fake();
        assert_eq!(peers.admit(a, "a".into()).ok(), Some(1));
        assert_eq!(peers.admit(b, "b".into()).ok(), Some(2));
        assert!(status.delivering());
        assert_eq!(status.waiting_reason(), None);
        assert!(peers.send(b"one", &mut no_one_leaves));
        assert!(peers.send(b"two", &mut no_one_leaves));
        assert_eq!(*lock(&taken_a), [b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(*lock(&taken_b), *lock(&taken_a));
        peers.refresh();
        let report = status.report();
        assert_eq!(report.name, "out");
        assert_eq!(report.links.len(), 2);
        assert_eq!(report.links[0].packets_sent, 2);
        assert_eq!(report.last_error, None);
    }

    #[test]
    fn a_peer_that_fails_is_dropped_alone() {
        let (peers, status) = peers(4);
        let (a, (taken_a, answer_a)) = fake();
        let (b, (taken_b, _)) = fake();
        peers.admit(a, "a".into()).ok().unwrap();
        peers.admit(b, "b".into()).ok().unwrap();
        *lock(&answer_a) = Err("connection lost".into());
        let mut left = Vec::new();
        assert!(peers.send(b"m", &mut |who, why| left.push(format!("{who}: {why}"))));
        assert_eq!(left, ["a: connection lost"]);
        assert_eq!((lock(&taken_a).len(), lock(&taken_b).len()), (0, 1));
        assert_eq!(peers.len(), 1);
        assert_eq!(status.report().links.len(), 1);
        assert!(peers.send(b"n", &mut no_one_leaves));
        assert_eq!(lock(&taken_b).len(), 2);
    }

    #[test]
    fn when_the_last_peer_leaves_the_report_says_why_again() {
        let (peers, status) = peers(4);
        let (a, (_, answer)) = fake();
        peers.admit(a, "a".into()).ok().unwrap();
        *lock(&answer) = Err("gone".into());
        assert!(!peers.send(b"m", &mut |_, _| {}));
        assert!(!status.delivering());
        assert_eq!(status.waiting_reason().as_deref(), Some("no caller"));
    }

    #[test]
    fn peers_beyond_the_capacity_are_given_back() {
        let (peers, _) = peers(2);
        for who in ["a", "b"] {
            assert!(peers.admit(fake().0, who.into()).is_ok());
        }
        assert!(peers.admit(fake().0, "c".into()).is_err());
        assert_eq!(peers.len(), 2);
        peers.clear();
        assert_eq!(peers.len(), 0);
    }
}
