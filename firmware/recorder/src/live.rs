//! What a live recording shares between its owner, the media pipeline's
//! sinks and its writer thread: the bounded queue, the pause and close
//! switches, and the signal that it has finished.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use makara_config::Id;
use makara_mpegts::packet::PACKET_LEN;

use crate::asset::{FinishReason, Finished};
use crate::fsio::lock;
use crate::limits::NOTICE_QUEUE;
use crate::record::Record;

/// What the writer thread is given, in order.
#[derive(Debug)]
pub(crate) enum Item {
    Packets {
        track: usize,
        bytes: Vec<u8>,
    },
    /// The recording was paused and goes on now: each track starts again
    /// from a clean point.
    Resume,
    /// Write what came before, then finish.
    Stop(FinishReason),
}

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Item>,
    /// Packet bytes in `items` and in the batch the writer is working on.
    bytes: usize,
}

/// The shared part of one live recording.
pub(crate) struct Live {
    pub id: Id,
    pub record: Arc<Record>,
    pub tracks: usize,
    pub notices: Arc<Notices>,
    queue: Mutex<Queue>,
    wake: Condvar,
    capacity: usize,
    paused: AtomicBool,
    closed: AtomicBool,
    dropped_packets: AtomicU64,
    done: Mutex<bool>,
    done_signal: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("id", &self.id)
            .field("tracks", &self.tracks)
            .finish_non_exhaustive()
    }
}

impl Live {
    pub fn new(record: Arc<Record>, tracks: usize, capacity: usize, notices: Arc<Notices>) -> Live {
        Live {
            id: record.snapshot().id,
            record,
            tracks,
            notices,
            queue: Mutex::default(),
            wake: Condvar::new(),
            capacity,
            paused: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            dropped_packets: AtomicU64::new(0),
            done: Mutex::new(false),
            done_signal: Condvar::new(),
            thread: Mutex::new(None),
        }
    }

    /// The media pipeline's path: queues whole packets, or drops them
    /// (counted) if the queue is full. Never waits but for the queue's
    /// lock, which is only held to move items in or out.
    pub fn offer(&self, track: usize, ts: &[u8]) {
        if self.closed.load(Ordering::Acquire) || self.paused.load(Ordering::Acquire) {
            return;
        }
        let whole = ts.len() - ts.len() % PACKET_LEN;
        if whole < ts.len() {
            self.count_dropped(1); // a torn packet is no packet
        }
        if whole == 0 {
            return;
        }
        let bytes = ts[..whole].to_vec();
        let mut queue = lock(&self.queue);
        if queue.bytes + whole > self.capacity {
            drop(queue);
            return self.count_dropped((whole / PACKET_LEN) as u64);
        }
        queue.bytes += whole;
        queue.items.push_back(Item::Packets { track, bytes });
        drop(queue);
        self.wake.notify_one();
    }

    fn count_dropped(&self, packets: u64) {
        self.dropped_packets.fetch_add(packets, Ordering::Relaxed);
    }

    pub fn dropped_packets(&self) -> u64 {
        self.dropped_packets.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// Goes on after a pause: the writer is told before any new packet.
    pub fn resume(&self) {
        let mut queue = lock(&self.queue);
        queue.items.push_back(Item::Resume);
        self.set_paused(false);
        drop(queue);
        self.wake.notify_one();
    }

    /// Takes no more packets and tells the writer to finish after those
    /// queued. Control items are few, so they are not held to the bound.
    pub fn close(&self, reason: FinishReason) {
        self.closed.store(true, Ordering::Release);
        lock(&self.queue).items.push_back(Item::Stop(reason));
        self.wake.notify_one();
    }

    /// Takes no more packets (the writer is finishing on its own).
    pub fn shut(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The writer's side: everything queued, waiting up to `wait` for
    /// something. Their bytes still count against the bound until
    /// [`Live::processed`].
    pub fn take(&self, wait: Duration) -> VecDeque<Item> {
        let mut queue = lock(&self.queue);
        if queue.items.is_empty() {
            queue = self
                .wake
                .wait_timeout(queue, wait)
                .map(|(q, _)| q)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        std::mem::take(&mut queue.items)
    }

    /// The writer is done with `bytes` of packets it took.
    pub fn processed(&self, bytes: usize) {
        let mut queue = lock(&self.queue);
        queue.bytes = queue.bytes.saturating_sub(bytes);
    }

    pub fn set_thread(&self, handle: JoinHandle<()>) {
        *lock(&self.thread) = Some(handle);
    }

    /// The writer has finished: the metadata says so (or said why not).
    pub fn mark_done(&self) {
        *lock(&self.done) = true;
        self.done_signal.notify_all();
    }

    /// Waits up to `wait` for the writer to finish, then reaps its thread.
    pub fn wait_done(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut done = lock(&self.done);
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .done_signal
                .wait_timeout(done, left)
                .map(|(d, _)| d)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        drop(done);
        if let Some(handle) = lock(&self.thread).take() {
            // It has marked itself done: all that is left is returning.
            let _ = handle.join();
        }
        true
    }
}

/// The subscribers to finish notices.
#[derive(Debug, Default)]
pub(crate) struct Notices {
    subscribers: Mutex<Vec<SyncSender<Finished>>>,
}

impl Notices {
    pub fn subscribe(&self) -> Receiver<Finished> {
        let (tx, rx) = mpsc::sync_channel(NOTICE_QUEUE);
        lock(&self.subscribers).push(tx);
        rx
    }

    /// Tells every subscriber; one that is gone is forgotten, one that is
    /// full misses this notice.
    pub fn send(&self, notice: &Finished) {
        lock(&self.subscribers).retain(|s| {
            !matches!(
                s.try_send(notice.clone()),
                Err(TrySendError::Disconnected(_))
            )
        });
    }
}
