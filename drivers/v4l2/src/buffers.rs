//! A device's MMAP buffers as the frame pool's slots. This is the only code
//! that maps them, queues them to the device (`VIDIOC_QBUF`) and takes them
//! back (`VIDIOC_DQBUF`), so the rule that makes lending their memory out
//! as `&[u8]` sound is kept in this one module:
//!
//! - the device writes a buffer only while it is queued;
//! - a buffer is queued only while its slot is lent to the driver, where
//!   the pool lets no writer or reader reach it: at start (every slot
//!   starts lent), from the pool's release hook (which runs after the pool
//!   has lent the slot back), and after a damaged `DQBUF` (whose slot was
//!   never taken out);
//! - a slot is taken out of the driver's keeping only for the buffer
//!   `DQBUF` has just returned, through the pool's one [`DriverSlots`],
//!   which only [`BufferQueue`] holds;
//! - the device descriptor is owned here and never lent out, so no other
//!   code of this process can queue a buffer (another open file of the same
//!   node cannot either: the kernel refuses `QBUF` to all but the file that
//!   requested the buffers).

#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use makara_framering::{DriverSlots, FrameMut, FramePool, PoolError, SlotMemory, TakeError};
use makara_media::VideoFormat;
use thiserror::Error;

use crate::calls::{self, DqBufError, QBufError, QueryBufError, ReqBufsError, StreamError};
use crate::device::Device;
use crate::ioctl::{poll_readable, Errno};
use crate::sys::{BUF_CAP_SUPPORTS_DMABUF, BUF_FLAG_ERROR};

/// Why [`BufferQueue::start`] could not start streaming.
#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    ReqBufs(#[from] ReqBufsError),
    #[error("the driver gave no capture buffers")]
    NoBuffers,
    #[error("buffer {index}: {source}")]
    QueryBuf { index: u32, source: QueryBufError },
    #[error("mmap of buffer {index}: {}", .errno.describe())]
    Map { index: u32, errno: Errno },
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    QBuf(#[from] QBufError),
    #[error(transparent)]
    StreamOn(#[from] StreamError),
}

/// Why [`BufferQueue::dequeue`] gave no frame.
#[derive(Debug, Error)]
pub enum DequeueError {
    #[error("poll: {}", .0.describe())]
    Poll(Errno),
    #[error(transparent)]
    DqBuf(#[from] DqBufError),
    #[error("buffer {index} came back but its slot cannot be used: {source}")]
    Take { index: usize, source: TakeError },
}

/// A buffer the device filled, as a slot to stamp and share.
#[derive(Debug)]
pub struct Filled {
    pub slot: FrameMut,
    /// The driver's 32-bit frame counter.
    pub sequence: u32,
    /// Capture time on `CLOCK_MONOTONIC`, ns (when the driver says so).
    pub timestamp_ns: Option<u64>,
}

/// A streaming device and its mapped buffers, which are the slots of
/// [`BufferQueue::pool`]. Dropping it stops streaming.
pub struct BufferQueue {
    owner: Arc<Owner>,
    /// The only way to take a slot out of the driver's keeping.
    slots: DriverSlots,
    count: u32,
    dmabuf_slots: usize,
}

/// The device, shared with the pool's release hook.
struct Owner {
    device: Device,
    streaming: AtomicBool,
    requeue_errors: AtomicU64,
}

impl Owner {
    /// The release hook: slot `index` is lent to the driver again.
    fn requeue(&self, index: usize) {
        if !self.streaming.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = calls::qbuf(self.device.fd(), index as u32) {
            self.requeue_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(device = self.device.path(), index, error = %e, "could not queue a capture buffer again");
        }
    }
}

impl BufferQueue {
    /// Asks `device` (format already set) for `count` MMAP buffers, maps
    /// each as a slot of a pool of `format` (exported as DMABUF too where
    /// the device can), queues them all and starts streaming.
    pub fn start(
        device: Device,
        format: VideoFormat,
        count: u32,
    ) -> Result<BufferQueue, StartError> {
        let (count, buffer_caps) = calls::reqbufs(device.fd(), count)?;
        if count == 0 {
            return Err(StartError::NoBuffers);
        }
        let mut memory: Vec<Box<dyn SlotMemory>> = Vec::with_capacity(count as usize);
        let mut dmabuf_slots = 0;
        for index in 0..count {
            let map = Mapping::of_buffer(device.fd(), index)?;
            let dmabuf = if buffer_caps & BUF_CAP_SUPPORTS_DMABUF != 0 {
                calls::expbuf(device.fd(), index).ok()
            } else {
                None
            };
            dmabuf_slots += usize::from(dmabuf.is_some());
            memory.push(Box::new(MappedSlot {
                map,
                _dmabuf: dmabuf,
            }));
        }
        let owner = Arc::new(Owner {
            device,
            streaming: AtomicBool::new(true),
            requeue_errors: AtomicU64::new(0),
        });
        let hook = Arc::clone(&owner);
        let slots = FramePool::with_memory(format, memory, Box::new(move |i| hook.requeue(i)))?;
        // Every slot starts lent to the driver: queuing them all is sound.
        for index in 0..count {
            calls::qbuf(owner.device.fd(), index)?;
        }
        calls::streamon(owner.device.fd())?;
        Ok(BufferQueue {
            owner,
            slots,
            count,
            dmabuf_slots,
        })
    }

    pub fn device(&self) -> &str {
        self.owner.device.path()
    }

    pub fn pool(&self) -> &Arc<FramePool> {
        self.slots.pool()
    }

    /// Buffers the driver made.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Slots whose buffer is also exported as a DMABUF descriptor.
    pub fn dmabuf_slots(&self) -> usize {
        self.dmabuf_slots
    }

    /// The next filled buffer, waiting at most `timeout`. `None` if none
    /// came, or it came damaged (it goes straight back to the device).
    pub fn dequeue(&self, timeout: Duration) -> Result<Option<Filled>, DequeueError> {
        let fd = self.owner.device.fd();
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        if !poll_readable(fd, ms).map_err(DequeueError::Poll)? {
            return Ok(None);
        }
        let Some(d) = calls::dqbuf(fd)? else {
            return Ok(None);
        };
        let index = d.index as usize;
        if d.flags & BUF_FLAG_ERROR != 0 || (d.bytesused as usize) < self.pool().frame_len() {
            // Damaged: its slot was never taken out, so it is still lent to
            // the driver and the buffer can go straight back.
            let _ = calls::qbuf(fd, d.index);
            return Ok(None);
        }
        // DQBUF just returned this buffer: the device is done with it.
        let slot = self
            .slots
            .take(index)
            .map_err(|source| DequeueError::Take { index, source })?;
        Ok(Some(Filled {
            slot,
            sequence: d.sequence,
            timestamp_ns: d.timestamp_ns,
        }))
    }
}

impl Drop for BufferQueue {
    fn drop(&mut self) {
        self.owner.streaming.store(false, Ordering::Release);
        if let Err(e) = calls::streamoff(self.owner.device.fd()) {
            tracing::warn!(device = self.owner.device.path(), error = %e, "stream off failed");
        }
    }
}

/// One mapped buffer as a pool slot, with its DMABUF export if the device
/// offers one.
struct MappedSlot {
    map: Mapping,
    _dmabuf: Option<OwnedFd>,
}

impl SlotMemory for MappedSlot {
    fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.map.bytes_mut()
    }

    fn byte_len(&self) -> usize {
        self.map.len
    }
}

/// One MMAP capture buffer mapped into this process, unmapped on drop.
/// Made only by [`BufferQueue::start`], which moves it into the pool before
/// any buffer is queued.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is memory owned by this value; who may read or write
// it when is decided by the frame pool (one writer or many readers, and
// nobody while the device owns it: see the module documentation), exactly
// as for heap memory.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` only gives out `&[u8]`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps capture buffer `index` of device `fd`, where `VIDIOC_QUERYBUF`
    /// says it is, readable and writable, shared with the device.
    fn of_buffer(fd: BorrowedFd<'_>, index: u32) -> Result<Mapping, StartError> {
        let (offset, len) =
            calls::querybuf(fd, index).map_err(|source| StartError::QueryBuf { index, source })?;
        let map_err = |errno| StartError::Map { index, errno };
        if len == 0 {
            return Err(map_err(Errno(libc::EINVAL)));
        }
        let offset = libc::off_t::try_from(offset).map_err(|_| map_err(Errno(libc::EOVERFLOW)))?;
        // SAFETY: a new mapping at an address the kernel chooses: it cannot
        // overlap memory Rust already uses. The result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(map_err(Errno::last()));
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(map_err(Errno(libc::EFAULT)))?;
        Ok(Mapping { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` is mapped for as long as `self` lives, and
        // the shared borrow of `self` keeps `bytes_mut` from being called.
        // The device writes this buffer only while it is queued, and while
        // it is queued its slot is lent to the driver, where the pool lets
        // nobody reach `self` (see the module documentation).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes this the only view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `of_buffer` mapped; no slice of it
        // outlives `self` (they borrow it).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}
