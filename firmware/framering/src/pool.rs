//! The slots: memory allocated once, lent out for writing, shared for
//! reading, and taken back when the last reader lets go.
//!
//! Each slot is an `Arc<Slot>` made when the pool is built. A free slot's
//! `Arc` sits in the pool's free list and nobody else holds it, so a writer
//! gets `&mut` to it through `Arc::get_mut`. Readers clone the `Arc`, which
//! is a reference count, not an allocation. Every reader gives its `Arc` back
//! through [`FramePool::release`] under the free-list lock; the one that finds
//! the count at 1 there is the last, and puts the slot back. Because every
//! decrement happens under that lock and only a holder can make a new
//! reference, the count it reads cannot change under it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use makara_media::{MonotonicNs, VideoFormat};
use thiserror::Error;

use crate::frame::FrameMut;

/// The memory behind one slot: heap bytes by default, a driver's mapped
/// buffer for V4L2. Its length must not change while the pool holds it.
pub trait SlotMemory: Send + Sync + 'static {
    /// The slot's bytes, for readers.
    fn bytes(&self) -> &[u8];
    /// The slot's bytes, for the one writer.
    fn bytes_mut(&mut self) -> &mut [u8];
}

impl SlotMemory for Box<[u8]> {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
}

impl SlotMemory for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
}

/// Called with a slot's index when its last reader lets go, on that
/// reader's thread, after the slot is back in the free list and with no
/// lock of the pool held. V4L2 re-queues the buffer (`VIDIOC_QBUF`) here.
pub type OnRelease = Box<dyn Fn(usize) + Send + Sync>;

/// Why a pool could not be built from the memory it was given.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PoolError {
    /// A pool needs at least one slot.
    #[error("a frame pool needs at least one slot")]
    NoSlots,
    /// One buffer cannot hold a frame of the pool's format.
    #[error("slot {slot} holds {got} bytes; a frame needs {needed}")]
    SlotTooSmall {
        /// The slot's index.
        slot: usize,
        /// Bytes in that slot.
        got: usize,
        /// Bytes in one frame of the pool's format.
        needed: usize,
    },
}

/// A snapshot of a pool's state and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Slots in the pool; fixed when it was built.
    pub slots: usize,
    /// Slots nobody holds right now.
    pub free: usize,
    /// Bytes of slot memory the pool holds; fixed when it was built. This is
    /// the ring's whole frame memory, however slow the readers are.
    pub memory_bytes: usize,
    /// Frames written and frozen into a slot.
    pub captured: u64,
    /// Times a writer found no free slot; each is a frame dropped at the source.
    pub exhausted: u64,
    /// Bytes copied between capture and encoder input, as reported by the
    /// stages that copy. The ring itself never copies.
    pub bytes_copied: u64,
}

/// One slot: its memory and the stamp of the frame in it.
pub(crate) struct Slot {
    pub(crate) index: usize,
    pub(crate) memory: Box<dyn SlotMemory>,
    pub(crate) pts: MonotonicNs,
    pub(crate) sequence: u64,
}

/// A fixed set of frame-sized slots, allocated once.
pub struct FramePool {
    format: VideoFormat,
    frame_len: usize,
    slots: usize,
    memory_bytes: usize,
    /// Indexed by slot: `Some` while the slot is free.
    free: Mutex<Vec<Option<Arc<Slot>>>>,
    on_release: Option<OnRelease>,
    captured: AtomicU64,
    exhausted: AtomicU64,
    bytes_copied: AtomicU64,
}

impl FramePool {
    /// A pool of `slots` heap buffers of `format.frame_len()` bytes each.
    ///
    /// # Panics
    ///
    /// If `slots` is 0.
    pub fn new(format: VideoFormat, slots: usize) -> Arc<FramePool> {
        assert!(slots > 0, "a frame pool needs at least one slot");
        let memory = (0..slots)
            .map(|_| {
                Box::new(vec![0u8; format.frame_len()].into_boxed_slice()) as Box<dyn SlotMemory>
            })
            .collect();
        Arc::new(FramePool::build(format, memory, None))
    }

    /// A pool over memory someone else made, such as a driver's mapped
    /// buffers: slot `i` is `memory[i]`, and `on_release(i)` runs each time
    /// slot `i` comes back. Such a pool is fed with [`FramePool::acquire_slot`]
    /// for the index the driver filled; a slot handed back through
    /// `on_release` belongs to the driver until it is filled again.
    pub fn with_memory(
        format: VideoFormat,
        memory: Vec<Box<dyn SlotMemory>>,
        on_release: OnRelease,
    ) -> Result<Arc<FramePool>, PoolError> {
        if memory.is_empty() {
            return Err(PoolError::NoSlots);
        }
        let needed = format.frame_len();
        if let Some((slot, m)) = memory
            .iter()
            .enumerate()
            .find(|(_, m)| m.bytes().len() < needed)
        {
            let got = m.bytes().len();
            return Err(PoolError::SlotTooSmall { slot, got, needed });
        }
        Ok(Arc::new(FramePool::build(format, memory, Some(on_release))))
    }

    fn build(
        format: VideoFormat,
        memory: Vec<Box<dyn SlotMemory>>,
        on_release: Option<OnRelease>,
    ) -> FramePool {
        let slots = memory.len();
        let memory_bytes = memory.iter().map(|m| m.bytes().len()).sum();
        let free = memory
            .into_iter()
            .enumerate()
            .map(|(index, memory)| {
                Some(Arc::new(Slot {
                    index,
                    memory,
                    pts: MonotonicNs(0),
                    sequence: 0,
                }))
            })
            .collect();
        FramePool {
            format,
            frame_len: format.frame_len(),
            slots,
            memory_bytes,
            free: Mutex::new(free),
            on_release,
            captured: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
            bytes_copied: AtomicU64::new(0),
        }
    }

    /// The format of every frame in this pool.
    pub fn format(&self) -> VideoFormat {
        self.format
    }

    /// Slots in the pool; fixed when it was built.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Bytes in one frame: what [`crate::Frame`] derefs to.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// A free slot to write the next frame into, or `None` if readers hold
    /// every slot. `None` never waits: it counts one exhaustion, and the
    /// caller drops that frame.
    pub fn try_acquire(self: &Arc<Self>) -> Option<FrameMut> {
        let slot = lock(&self.free).iter_mut().find_map(Option::take);
        match slot {
            Some(slot) => Some(FrameMut::new(Arc::clone(self), slot)),
            None => {
                self.exhausted.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Slot `index` to write, if it is free: for memory a driver filled in
    /// place, where the driver names the slot. `None` if the index is out of
    /// range or a reader still holds that slot.
    pub fn acquire_slot(self: &Arc<Self>, index: usize) -> Option<FrameMut> {
        let slot = lock(&self.free).get_mut(index).and_then(Option::take)?;
        Some(FrameMut::new(Arc::clone(self), slot))
    }

    /// Adds `bytes` to the count of bytes copied between capture and encoder
    /// input. A stage that must copy (a scaler, a format converter) reports
    /// here; [`crate::Consumer::count_copy`] does it for one consumer.
    pub fn count_copy(&self, bytes: usize) {
        self.bytes_copied.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The pool's state and counters now.
    pub fn stats(&self) -> PoolStats {
        let free = lock(&self.free).iter().filter(|s| s.is_some()).count();
        PoolStats {
            slots: self.slots,
            free,
            memory_bytes: self.memory_bytes,
            captured: self.captured.load(Ordering::Relaxed),
            exhausted: self.exhausted.load(Ordering::Relaxed),
            bytes_copied: self.bytes_copied.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count_captured(&self) {
        self.captured.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back one reference to a slot. If it was the last, the slot is
    /// free again and `on_release` runs.
    pub(crate) fn release(&self, slot: Arc<Slot>) {
        let index = slot.index;
        let mut free = lock(&self.free);
        if Arc::strong_count(&slot) > 1 {
            // Not the last reader. Let go while the lock is held, so the next
            // releaser reads a count that already excludes this reference.
            drop(slot);
            return;
        }
        free[index] = Some(slot);
        drop(free);
        if let Some(on_release) = &self.on_release {
            on_release(index);
        }
    }
}

impl fmt::Debug for FramePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramePool")
            .field("format", &self.format)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Locks `mutex`, even if a thread panicked while holding it: every critical
/// section here leaves the data whole, so a panicking reader must not take
/// capture down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
