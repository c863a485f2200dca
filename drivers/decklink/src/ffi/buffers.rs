//! The frame pool's slots as buffers the card captures into (the shim's
//! `mkdl_buffers`, its `IDeckLinkMemoryAllocator`), so a UYVY frame is
//! delivered where the encoder reads it, without a copy. Part of `ffi`,
//! the crate's one `unsafe` module.
//!
//! Every buffer is at any time in exactly one keeping, and only this
//! module moves it between them:
//!
//! - **free**: in the shim's free list; the pool holds the slot lent to
//!   the driver, so nothing in Rust reads or writes it.
//! - **the driver's**: taken by the driver (AllocateBuffer) to capture
//!   into; the slot is still lent.
//! - **Rust's**: the slot is out of the pool's lent keeping, so stages
//!   read (and the one writer writes) it. It got there only through
//!   [`CardBuffers::take_delivered`] (a frame the driver delivered in it,
//!   which is kept, so the driver neither writes to it nor gets it back
//!   until the frame is released) or [`CardBuffers::take_free`] (claimed
//!   from the free list, so the driver cannot get it). When its last
//!   reader lets go, the pool lends the slot back and `on_release` gives
//!   the buffer back: the kept frame is released (the driver frees the
//!   buffer) or the claim is undone.

#![allow(unsafe_code)]

use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use makara_framering::{DriverSlots, FrameMut, FramePool, OnRelease, SlotMemory};
use makara_media::VideoFormat;

use super::input::RawPicture;

/// `mkdl_buffers` (opaque).
#[repr(C)]
pub(super) struct MkdlBuffers {
    _opaque: [u8; 0],
}

extern "C" {
    fn mkdl_buffers_new(count: usize, size: usize) -> *mut MkdlBuffers;
    fn mkdl_buffers_retain(buffers: *mut MkdlBuffers);
    fn mkdl_buffers_release(buffers: *mut MkdlBuffers);
    fn mkdl_buffers_at(buffers: *const MkdlBuffers, index: usize) -> *mut u8;
    fn mkdl_buffers_claim(buffers: *mut MkdlBuffers) -> i64;
    fn mkdl_buffers_free(buffers: *mut MkdlBuffers, index: usize);
    fn mkdl_frame_keep(video_frame: *mut std::ffi::c_void) -> *mut std::ffi::c_void;
    fn mkdl_frame_release(kept: *mut std::ffi::c_void);
}

/// One reference to the shim's buffers; the memory lives while any
/// reference does (this crate's, the driver's, a kept frame's).
pub(super) struct BuffersRef(NonNull<MkdlBuffers>);

// SAFETY: the shim's buffers object is reference counted atomically and
// guards its free list with a mutex; the handle is only a pointer to it.
unsafe impl Send for BuffersRef {}
// SAFETY: as above: every call through `&BuffersRef` is thread-safe.
unsafe impl Sync for BuffersRef {}

impl BuffersRef {
    pub(super) fn as_ptr(&self) -> *mut MkdlBuffers {
        self.0.as_ptr()
    }
}

impl Clone for BuffersRef {
    fn clone(&self) -> BuffersRef {
        // SAFETY: `self.0` is a live object this handle holds a reference to.
        unsafe { mkdl_buffers_retain(self.0.as_ptr()) };
        BuffersRef(self.0)
    }
}

impl Drop for BuffersRef {
    fn drop(&mut self) {
        // SAFETY: the reference this handle holds, given back once.
        unsafe { mkdl_buffers_release(self.0.as_ptr()) }
    }
}

/// A frame the driver delivered, kept: its buffer stays out of the
/// driver's hands until this drops.
struct KeptFrame(NonNull<std::ffi::c_void>);

// SAFETY: DeckLink frame objects are COM objects with thread-safe
// reference counts; this only releases its reference, from any thread.
unsafe impl Send for KeptFrame {}

impl Drop for KeptFrame {
    fn drop(&mut self) {
        // SAFETY: the reference `mkdl_frame_keep` added, released once.
        unsafe { mkdl_frame_release(self.0.as_ptr()) }
    }
}

/// Why a slot is out of the driver's keeping.
enum Holder {
    /// Lent to the driver (free, or the driver's).
    Lent,
    /// Delivered by the driver in it; its frame is kept.
    Delivered(KeptFrame),
    /// Claimed from the free list for a frame written here.
    Claimed,
}

/// What the pool's `on_release` needs: the buffers and who holds each.
struct Holders {
    buffers: BuffersRef,
    held: Mutex<Vec<Holder>>,
}

impl Holders {
    fn set(&self, index: usize, holder: Holder) -> Holder {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut held[index], holder)
    }

    /// The slot is lent to the driver again: give its buffer back.
    fn give_back(&self, index: usize) {
        match self.set(index, Holder::Lent) {
            // Releasing the frame makes the driver free the buffer.
            Holder::Delivered(frame) => drop(frame),
            Holder::Claimed => {
                // SAFETY: `index` was claimed by `take_free` and is a valid
                // index of these buffers.
                unsafe { mkdl_buffers_free(self.buffers.as_ptr(), index) }
            }
            Holder::Lent => {}
        }
    }
}

/// One slot's memory: buffer `index` of the shim's buffers.
struct BufferMemory {
    _owner: BuffersRef,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: plain bytes owned by the shim's buffers object, which `_owner`
// keeps alive; who may touch them is the module's keeping rule.
unsafe impl Send for BufferMemory {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for BufferMemory {}

impl SlotMemory for BufferMemory {
    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is `len` bytes of a buffer `_owner` keeps alive.
        // The pool asks only for slots out of its lent keeping, which by
        // the module's rule the driver neither writes nor can get.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `bytes`; the pool gives `&mut` only to the one
        // writer of a slot, and each buffer is one slot's memory alone.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    fn byte_len(&self) -> usize {
        self.len
    }
}

/// A frame pool whose slots are the buffers the card captures into.
pub(crate) struct CardBuffers {
    slots: DriverSlots,
    holders: Arc<Holders>,
    /// Each slot's first byte, to find the slot of a delivered frame.
    starts: Vec<usize>,
    frame_len: usize,
}

impl std::fmt::Debug for CardBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardBuffers")
            .field("slots", &self.starts.len())
            .field("frame_len", &self.frame_len)
            .finish()
    }
}

impl CardBuffers {
    /// `count` buffers of one `format` frame each; `None` when memory runs
    /// out.
    pub(crate) fn new(format: VideoFormat, count: usize) -> Option<CardBuffers> {
        let frame_len = format.frame_len();
        // SAFETY: plain sizes; the shim checks them and returns null on
        // failure.
        let raw = NonNull::new(unsafe { mkdl_buffers_new(count, frame_len) })?;
        let buffers = BuffersRef(raw);
        let mut memories: Vec<Box<dyn SlotMemory>> = Vec::with_capacity(count);
        let mut starts = Vec::with_capacity(count);
        for index in 0..count {
            // SAFETY: `index < count`: a buffer of the live object.
            let ptr = NonNull::new(unsafe { mkdl_buffers_at(buffers.as_ptr(), index) })?;
            starts.push(ptr.as_ptr() as usize);
            memories.push(Box::new(BufferMemory {
                _owner: buffers.clone(),
                ptr,
                len: frame_len,
            }));
        }
        let holders = Arc::new(Holders {
            buffers,
            held: Mutex::new((0..count).map(|_| Holder::Lent).collect()),
        });
        let releasing = Arc::clone(&holders);
        let on_release: OnRelease = Box::new(move |index| releasing.give_back(index));
        let slots = FramePool::with_memory(format, memories, on_release).ok()?;
        Some(CardBuffers {
            slots,
            holders,
            starts,
            frame_len,
        })
    }

    pub(crate) fn pool(&self) -> &Arc<FramePool> {
        self.slots.pool()
    }

    /// The handle the shim offers the driver as its allocator.
    pub(super) fn raw(&self) -> &BuffersRef {
        &self.holders.buffers
    }

    /// The slot the driver delivered `picture` in, if it is one of these
    /// buffers holding a whole frame: the frame is kept, so the slot's
    /// bytes are the picture, with nothing copied.
    pub(crate) fn take_delivered(&self, picture: &RawPicture<'_>) -> Option<FrameMut> {
        if picture.bytes.len() < self.frame_len {
            return None;
        }
        let start = picture.bytes.as_ptr() as usize;
        let index = self.starts.iter().position(|&s| s == start)?;
        if picture.video_frame.is_null() {
            return None;
        }
        let slot = self.slots.take(index).ok()?;
        // SAFETY: `video_frame` is the frame object of the callback this
        // picture belongs to (its borrow has not ended), live until then;
        // the reference added here is released by `KeptFrame`'s drop.
        let kept = NonNull::new(unsafe { mkdl_frame_keep(picture.video_frame) })?;
        self.holders.set(index, Holder::Delivered(KeptFrame(kept)));
        Some(slot)
    }

    /// A free buffer's slot, for a frame written here (a copy, the slate);
    /// `None` when the driver and the stages hold them all.
    pub(crate) fn take_free(&self) -> Option<FrameMut> {
        // SAFETY: the live object this module holds a reference to.
        let claimed = unsafe { mkdl_buffers_claim(self.holders.buffers.as_ptr()) };
        let index = usize::try_from(claimed).ok()?;
        match self.slots.take(index) {
            Ok(slot) => {
                self.holders.set(index, Holder::Claimed);
                Some(slot)
            }
            Err(_) => {
                // SAFETY: claimed just above, not handed out.
                unsafe { mkdl_buffers_free(self.holders.buffers.as_ptr(), index) };
                None
            }
        }
    }
}
