//! The distribution point: one bounded queue of frame handles per consumer.
//!
//! Publishing never waits. A full queue loses its oldest frame, counted for
//! that consumer, so a slow consumer falls behind alone while capture and the
//! other consumers keep their pace. Lock order is fanout, then queue, then
//! pool; nothing takes them the other way.

use std::collections::VecDeque;
use std::mem;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use makara_media::MonotonicNs;
use thiserror::Error;

use crate::frame::Frame;
use crate::pool::{lock, AcquireError, FramePool};

/// Slots the writer needs for itself, on top of what consumers may hold.
const WRITER_SLOTS: usize = 1;

/// Why [`Fanout::subscribe`] refused a consumer.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SubscribeError {
    /// A queue must hold at least one frame.
    #[error("a consumer queue needs a depth of at least 1")]
    ZeroDepth,
    /// With this consumer, readers could hold every slot and starve capture.
    #[error("consumers could hold {needed} slots with the writer's; the pool has {slots}")]
    PoolTooSmall {
        /// Queued plus in-hand frames of all consumers, plus the writer's.
        needed: usize,
        /// Slots in the pool.
        slots: usize,
    },
}

/// The fanout is gone and the consumer's queue is empty: no frame will come.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the frame source is closed")]
pub struct Closed;

/// What became of a frame offered to [`Fanout::write_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Written {
    /// The frame is in every consumer's queue.
    Published,
    /// Readers held every slot: the frame was dropped at the source, counted.
    PoolExhausted,
    /// The pool's slots are a capture driver's buffers, which only the
    /// driver fills ([`crate::DriverSlots`]): nothing was written. Frames of
    /// such a pool reach the consumers through [`Fanout::publish`].
    DriverMemory,
}

/// One consumer's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerCounters {
    /// The name given at [`Fanout::subscribe`].
    pub name: String,
    /// Frames published since the consumer subscribed.
    pub offered: u64,
    /// Frames the consumer took from its queue.
    pub received: u64,
    /// Frames dropped from its full queue, oldest first.
    pub dropped: u64,
    /// Frames waiting in its queue now. `offered == received + dropped + queued`.
    pub queued: usize,
    /// Bytes this consumer copied on the way to its encoder.
    pub bytes_copied: u64,
}

/// The ring's counters: the pool's, and each attached consumer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingCounters {
    /// Frames written into a slot.
    pub captured: u64,
    /// Frames dropped at the source because readers held every slot.
    pub pool_exhausted: u64,
    /// Bytes copied between capture and encoder input, all stages together.
    pub bytes_copied: u64,
    /// Consumers attached now, in subscription order.
    pub consumers: Vec<ConsumerCounters>,
}

struct Queue {
    name: String,
    depth: usize,
    state: Mutex<QueueState>,
    ready: Condvar,
}

struct QueueState {
    frames: VecDeque<Frame>,
    /// The fanout is gone.
    closed: bool,
    /// The consumer is gone.
    detached: bool,
    offered: u64,
    received: u64,
    dropped: u64,
    bytes_copied: u64,
}

impl Queue {
    /// Queues `frame`, dropping the oldest if full. False if the consumer is gone.
    fn offer(&self, frame: &Frame) -> bool {
        let evicted = {
            let mut state = lock(&self.state);
            if state.detached {
                return false;
            }
            state.offered += 1;
            let evicted = if state.frames.len() >= self.depth {
                state.dropped += 1;
                state.frames.pop_front()
            } else {
                None
            };
            state.frames.push_back(frame.clone());
            evicted
        };
        self.ready.notify_one();
        // Released here, outside the queue lock.
        drop(evicted);
        true
    }

    /// `None` once the consumer is gone.
    fn counters(&self) -> Option<ConsumerCounters> {
        let state = lock(&self.state);
        (!state.detached).then(|| state.counters(&self.name))
    }
}

impl QueueState {
    fn counters(&self, name: &str) -> ConsumerCounters {
        ConsumerCounters {
            name: name.to_string(),
            offered: self.offered,
            received: self.received,
            dropped: self.dropped,
            queued: self.frames.len(),
            bytes_copied: self.bytes_copied,
        }
    }

    fn take(&mut self) -> Result<Option<Frame>, Closed> {
        match self.frames.pop_front() {
            Some(frame) => {
                self.received += 1;
                Ok(Some(frame))
            }
            None if self.closed => Err(Closed),
            None => Ok(None),
        }
    }
}

/// Hands each published frame to every consumer, by reference. Dropping the
/// fanout closes the consumers once they have drained their queues.
pub struct Fanout {
    pool: Arc<FramePool>,
    queues: Mutex<Vec<Arc<Queue>>>,
}

impl Fanout {
    /// A fanout for frames of `pool`, with no consumers yet.
    pub fn new(pool: Arc<FramePool>) -> Fanout {
        Fanout {
            pool,
            queues: Mutex::new(Vec::new()),
        }
    }

    /// The pool frames are written into.
    pub fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }

    /// Attaches a consumer that sees every frame published from now on,
    /// keeping at most `depth` of them queued (2 to 4 suits an encoder).
    ///
    /// Refused unless the pool has a slot for the writer even when every
    /// consumer holds a full queue plus the frame in hand: the pool needs
    /// `1 + sum(depth + 1)` slots. Otherwise a slow consumer could starve
    /// capture instead of losing frames.
    pub fn subscribe(
        &self,
        name: impl Into<String>,
        depth: usize,
    ) -> Result<Consumer, SubscribeError> {
        if depth == 0 {
            return Err(SubscribeError::ZeroDepth);
        }
        let mut queues = lock(&self.queues);
        queues.retain(|q| !lock(&q.state).detached);
        let held: usize = queues.iter().map(|q| q.depth + 1).sum();
        let needed = held + depth + 1 + WRITER_SLOTS;
        let slots = self.pool.slots();
        if needed > slots {
            return Err(SubscribeError::PoolTooSmall { needed, slots });
        }
        let queue = Arc::new(Queue {
            name: name.into(),
            depth,
            state: Mutex::new(QueueState {
                frames: VecDeque::with_capacity(depth),
                closed: false,
                detached: false,
                offered: 0,
                received: 0,
                dropped: 0,
                bytes_copied: 0,
            }),
            ready: Condvar::new(),
        });
        queues.push(Arc::clone(&queue));
        Ok(Consumer {
            queue,
            pool: Arc::clone(&self.pool),
        })
    }

    /// Queues `frame` for every consumer. Never waits and never copies
    /// pixels; a consumer whose queue is full loses its oldest frame.
    pub fn publish(&self, frame: Frame) {
        lock(&self.queues).retain(|q| q.offer(&frame));
    }

    /// Captures one frame: takes a free slot, lets `write` fill it, and
    /// publishes it stamped with `pts` and `sequence`. If `write` fails, the
    /// slot goes back unpublished and the error is returned. If no slot is
    /// free, `write` is not called and the frame is counted as dropped; nor
    /// is it called for a pool of driver memory.
    pub fn write_with<E>(
        &self,
        pts: MonotonicNs,
        sequence: u64,
        write: impl FnOnce(&mut [u8]) -> Result<(), E>,
    ) -> Result<Written, E> {
        let mut slot = match self.pool.acquire() {
            Ok(slot) => slot,
            Err(AcquireError::Exhausted) => return Ok(Written::PoolExhausted),
            Err(AcquireError::DriverMemory) => return Ok(Written::DriverMemory),
        };
        write(slot.data_mut())?;
        self.publish(slot.freeze(pts, sequence));
        Ok(Written::Published)
    }

    /// The pool's counters and every attached consumer's.
    pub fn counters(&self) -> RingCounters {
        let pool = self.pool.stats();
        let consumers = lock(&self.queues)
            .iter()
            .filter_map(|q| q.counters())
            .collect();
        RingCounters {
            captured: pool.captured,
            pool_exhausted: pool.exhausted,
            bytes_copied: pool.bytes_copied,
            consumers,
        }
    }
}

impl Drop for Fanout {
    fn drop(&mut self) {
        for queue in lock(&self.queues).iter() {
            lock(&queue.state).closed = true;
            queue.ready.notify_all();
        }
    }
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

/// One reader's end: a bounded queue of frames. Dropping it detaches it and
/// gives its queued frames back at once.
pub struct Consumer {
    queue: Arc<Queue>,
    pool: Arc<FramePool>,
}

impl Consumer {
    /// The next frame, waiting at most `timeout`. `Ok(None)` if none came in
    /// time; `Err(Closed)` once the fanout is gone and the queue is empty.
    pub fn recv(&self, timeout: Duration) -> Result<Option<Frame>, Closed> {
        let state = lock(&self.queue.state);
        let (mut state, _) = self
            .queue
            .ready
            .wait_timeout_while(state, timeout, |s| s.frames.is_empty() && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        state.take()
    }

    /// The next frame if one is queued, without waiting.
    pub fn try_recv(&self) -> Result<Option<Frame>, Closed> {
        lock(&self.queue.state).take()
    }

    /// Frames this consumer lost to a full queue.
    pub fn dropped(&self) -> u64 {
        lock(&self.queue.state).dropped
    }

    /// True once the fanout is gone (frames may still be queued).
    pub fn is_closed(&self) -> bool {
        lock(&self.queue.state).closed
    }

    /// This consumer's counters.
    pub fn counters(&self) -> ConsumerCounters {
        lock(&self.queue.state).counters(&self.queue.name)
    }

    /// Reports `bytes` copied on the way from this consumer to its encoder
    /// (a scaler's output, a format conversion), for this consumer and the
    /// ring's total.
    pub fn count_copy(&self, bytes: usize) {
        lock(&self.queue.state).bytes_copied += bytes as u64;
        self.pool.count_copy(bytes);
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let frames = {
            let mut state = lock(&self.queue.state);
            state.detached = true;
            mem::take(&mut state.frames)
        };
        drop(frames);
    }
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
