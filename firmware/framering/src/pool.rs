//! The slots: memory allocated once, lent out for writing, shared for
//! reading, and taken back when the last reader lets go.
//!
//! Each slot is an `Arc<Slot>` made when the pool is built, and is in one of
//! three keepings at any time:
//!
//! - **free**: in the pool, for any writer ([`FramePool::try_acquire`]).
//!   Only pools of heap memory ([`FramePool::new`]) have free slots.
//! - **lent to the driver**: in the pool, but its memory is a driver's
//!   buffer that the device may be filling (V4L2: queued with `VIDIOC_QBUF`).
//!   No writer or reader can reach it; only the driver, through the one
//!   [`DriverSlots`] of the pool, takes it out again, once the device is done
//!   with it. Every slot of a pool over driver memory
//!   ([`FramePool::with_memory`]) starts here and comes back here.
//! - **out**: held by one writer ([`FrameMut`]) or shared by readers
//!   ([`crate::Frame`]).
//!
//! A slot in the pool's keeping has its `Arc` there and nobody else holds it,
//! so a writer gets `&mut` to it through `Arc::get_mut`. Readers clone the
//! `Arc`, which is a reference count, not an allocation. Every reader gives
//! its `Arc` back through [`FramePool::release`] under the keeping lock; the
//! one that finds the count at 1 there is the last, and puts the slot back.
//! Because every decrement happens under that lock and only a holder can
//! make a new reference, the count it reads cannot change under it. A
//! driver's slot is lent to the driver again *before* the release hook hands
//! its buffer to the device, so no writer can reach a buffer the device owns.

use std::fmt;
use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use makara_media::{Captions, MonotonicNs, Timecode, VideoFormat};
use thiserror::Error;

use crate::driver::{DriverSlots, TakeError};
use crate::frame::FrameMut;

/// The memory behind one slot: heap bytes by default, a driver's mapped
/// buffer for V4L2. Its length must not change while the pool holds it.
pub trait SlotMemory: Send + Sync + 'static {
    /// The slot's bytes, for readers.
    fn bytes(&self) -> &[u8];
    /// The slot's bytes, for the one writer.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// How many bytes [`SlotMemory::bytes`] has. The pool asks this, and
    /// never for the bytes, of a slot lent to the driver: an implementation
    /// over device memory answers without looking at that memory.
    fn byte_len(&self) -> usize {
        self.bytes().len()
    }
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
/// reader's thread, after the slot is lent to the driver again and with no
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

/// Why [`FramePool::acquire`] gave no slot to write.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    /// Readers hold every slot: the frame is dropped at the source, counted.
    #[error("readers hold every slot of the frame pool")]
    Exhausted,
    /// The pool's slots are a driver's buffers, which only that driver
    /// fills (through its [`DriverSlots`]); a writer never gets one, because
    /// the device may be filling it.
    #[error("the frame pool's slots are a capture driver's buffers; only the driver fills them")]
    DriverMemory,
}

/// A snapshot of a pool's state and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Slots in the pool; fixed when it was built.
    pub slots: usize,
    /// Slots any writer may take now (heap memory only).
    pub free: usize,
    /// Slots lent to the driver now: its device may be filling them (driver
    /// memory only).
    pub lent: usize,
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
    /// The closed captions of the frame in it.
    pub(crate) captions: Captions,
    /// The SMPTE timecode of the frame in it, if its source gave one.
    pub(crate) timecode: Option<Timecode>,
}

/// Who has a slot now (see the module documentation).
enum Keeping {
    /// In the pool, for any writer.
    Free(Arc<Slot>),
    /// In the pool, for the driver only: the device may be filling it.
    Lent(Arc<Slot>),
    /// With a writer or readers.
    Out,
}

impl Keeping {
    fn take_free(&mut self) -> Option<Arc<Slot>> {
        match self {
            Keeping::Free(_) => self.take(),
            Keeping::Lent(_) | Keeping::Out => None,
        }
    }

    fn take_lent(&mut self) -> Option<Arc<Slot>> {
        match self {
            Keeping::Lent(_) => self.take(),
            Keeping::Free(_) | Keeping::Out => None,
        }
    }

    fn take(&mut self) -> Option<Arc<Slot>> {
        match mem::replace(self, Keeping::Out) {
            Keeping::Free(slot) | Keeping::Lent(slot) => Some(slot),
            Keeping::Out => None,
        }
    }
}

/// A fixed set of frame-sized slots, allocated once.
pub struct FramePool {
    format: VideoFormat,
    frame_len: usize,
    slots: usize,
    memory_bytes: usize,
    /// Indexed by slot.
    keeping: Mutex<Vec<Keeping>>,
    /// `Some` for driver memory: then a slot is never free, only lent to
    /// the driver or out.
    on_release: Option<OnRelease>,
    captured: AtomicU64,
    exhausted: AtomicU64,
    bytes_copied: AtomicU64,
}

impl FramePool {
    /// A pool of `slots` heap buffers of `format.frame_len()` bytes each,
    /// all free.
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

    /// A pool over a driver's buffers, such as V4L2's mapped ones: slot `i`
    /// is `memory[i]`. Every slot starts lent to the driver, and only the
    /// returned [`DriverSlots`] takes one out ([`DriverSlots::take`]), when
    /// the device has filled it. When its last reader lets go, the slot is
    /// lent to the driver again and then `on_release(i)` runs, to give the
    /// buffer back to the device. Writers never get a slot of such a pool
    /// ([`AcquireError::DriverMemory`]).
    pub fn with_memory(
        format: VideoFormat,
        memory: Vec<Box<dyn SlotMemory>>,
        on_release: OnRelease,
    ) -> Result<DriverSlots, PoolError> {
        if memory.is_empty() {
            return Err(PoolError::NoSlots);
        }
        let needed = format.frame_len();
        if let Some((slot, got)) = memory
            .iter()
            .map(|m| m.byte_len())
            .enumerate()
            .find(|&(_, got)| got < needed)
        {
            return Err(PoolError::SlotTooSmall { slot, got, needed });
        }
        let pool = Arc::new(FramePool::build(format, memory, Some(on_release)));
        Ok(DriverSlots::new(pool))
    }

    fn build(
        format: VideoFormat,
        memory: Vec<Box<dyn SlotMemory>>,
        on_release: Option<OnRelease>,
    ) -> FramePool {
        let slots = memory.len();
        let memory_bytes = memory.iter().map(|m| m.byte_len()).sum();
        let driver_memory = on_release.is_some();
        let keeping = memory
            .into_iter()
            .enumerate()
            .map(|(index, memory)| {
                let slot = Arc::new(Slot {
                    index,
                    memory,
                    pts: MonotonicNs(0),
                    sequence: 0,
                    captions: Captions::none(),
                    timecode: None,
                });
                if driver_memory {
                    Keeping::Lent(slot)
                } else {
                    Keeping::Free(slot)
                }
            })
            .collect();
        FramePool {
            format,
            frame_len: format.frame_len(),
            slots,
            memory_bytes,
            keeping: Mutex::new(keeping),
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

    /// Whether the slots are a driver's buffers ([`FramePool::with_memory`]),
    /// which only that driver fills.
    pub fn is_driver_memory(&self) -> bool {
        self.on_release.is_some()
    }

    /// A free slot to write the next frame into. Never waits: if readers
    /// hold every slot, it counts one exhaustion and the caller drops that
    /// frame. A pool over driver memory refuses every writer.
    pub fn acquire(self: &Arc<Self>) -> Result<FrameMut, AcquireError> {
        if self.is_driver_memory() {
            return Err(AcquireError::DriverMemory);
        }
        let slot = lock(&self.keeping).iter_mut().find_map(Keeping::take_free);
        match slot {
            Some(slot) => Ok(FrameMut::new(Arc::clone(self), slot)),
            None => {
                self.exhausted.fetch_add(1, Ordering::Relaxed);
                Err(AcquireError::Exhausted)
            }
        }
    }

    /// [`FramePool::acquire`], for callers that only need to know whether
    /// they got a slot: `None` if readers hold every slot (counted) or the
    /// pool is a driver's memory.
    pub fn try_acquire(self: &Arc<Self>) -> Option<FrameMut> {
        self.acquire().ok()
    }

    /// Slot `index` out of the driver's keeping, for [`DriverSlots::take`].
    pub(crate) fn take_lent(self: &Arc<Self>, index: usize) -> Result<FrameMut, TakeError> {
        let mut keeping = lock(&self.keeping);
        let Some(state) = keeping.get_mut(index) else {
            let last = self.slots - 1;
            return Err(TakeError::NoSuchSlot { index, last });
        };
        let slot = state.take_lent().ok_or(TakeError::NotLent { index })?;
        drop(keeping);
        Ok(FrameMut::new(Arc::clone(self), slot))
    }

    /// Adds `bytes` to the count of bytes copied between capture and encoder
    /// input. A stage that must copy (a scaler, a format converter) reports
    /// here; [`crate::Consumer::count_copy`] does it for one consumer.
    pub fn count_copy(&self, bytes: usize) {
        self.bytes_copied.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The pool's state and counters now.
    pub fn stats(&self) -> PoolStats {
        let (mut free, mut lent) = (0, 0);
        for state in lock(&self.keeping).iter() {
            match state {
                Keeping::Free(_) => free += 1,
                Keeping::Lent(_) => lent += 1,
                Keeping::Out => {}
            }
        }
        PoolStats {
            slots: self.slots,
            free,
            lent,
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
    /// free again, or for driver memory lent to the driver again and then
    /// `on_release` runs.
    pub(crate) fn release(&self, slot: Arc<Slot>) {
        let index = slot.index;
        let mut keeping = lock(&self.keeping);
        if Arc::strong_count(&slot) > 1 {
            // Not the last reader. Let go while the lock is held, so the next
            // releaser reads a count that already excludes this reference.
            drop(slot);
            return;
        }
        keeping[index] = match self.on_release {
            Some(_) => Keeping::Lent(slot),
            None => Keeping::Free(slot),
        };
        drop(keeping);
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
