//! The zero-copy frame ring: capture writes each frame once into a pooled
//! slot, every consumer reads it by reference, and the slot returns to the
//! pool when the last reader lets go.
//!
//! ```text
//!  capture ─write_with─▶ FramePool slot ─Frame─▶ Fanout ─▶ Consumer (encoder 1)
//!                                                  ├────▶ Consumer (encoder 2)
//!                                                  └────▶ Consumer (thumbnailer)
//! ```
//!
//! - Slot memory is allocated once, when the pool is built. In steady state
//!   nothing allocates: frames are recycled `Arc`s, queues are preallocated.
//! - Each consumer has a bounded queue. When it is full, the consumer loses
//!   its oldest frame, counted; capture never waits on a consumer.
//! - If readers hold every slot, the new frame is dropped at the source and
//!   counted. [`Fanout::subscribe`] refuses a consumer whose queue could make
//!   that happen: a pool needs `1 + sum(depth + 1)` slots over its consumers
//!   (a V4L2 pool, a few more, so the driver always has buffers queued).
//! - The ring never copies pixels; a stage that must copy reports the bytes
//!   ([`Consumer::count_copy`]), so `bytes_copied` stays 0 for YUYV, UYVY,
//!   NV12 and I420 sources that reach the encoder as they are.
//! - Memory is pluggable: [`FramePool::with_memory`] takes a driver's
//!   buffers (V4L2 mmap) and a hook that gets each slot index back when its
//!   last reader lets go, to re-queue it. Such a slot is *lent to the
//!   driver* from before the hook runs until the driver takes it back with
//!   its [`DriverSlots`], the only way out; writers get none
//!   ([`AcquireError::DriverMemory`], [`Written::DriverMemory`]). So no
//!   writer or reader can reach a buffer the device may be filling.
//! - There is no `unsafe` code: exclusivity comes from `Arc::get_mut`.
//!
//! ```
//! use std::time::Duration;
//! use makara_framering::{Fanout, FramePool, Written};
//! use makara_media::{MonotonicNs, PixelFormat, VideoFormat};
//!
//! let format = VideoFormat::new(64, 36, PixelFormat::Nv12, 30, 1).unwrap();
//! let fanout = Fanout::new(FramePool::new(format, 8));
//! let encoder = fanout.subscribe("encoder", 2).unwrap();
//!
//! let written = fanout.write_with(MonotonicNs(0), 0, |buf| {
//!     buf.fill(0x80);
//!     Ok::<(), std::convert::Infallible>(())
//! });
//! assert_eq!(written, Ok(Written::Published));
//!
//! let frame = encoder.recv(Duration::from_millis(10)).unwrap().unwrap();
//! assert_eq!(frame.len(), format.frame_len());
//! assert_eq!(fanout.counters().bytes_copied, 0);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod driver;
mod fanout;
mod frame;
mod pool;

pub use driver::{DriverSlots, TakeError};
pub use fanout::{
    Closed, Consumer, ConsumerCounters, Fanout, RingCounters, SubscribeError, Written,
};
pub use frame::{Frame, FrameMut};
pub use pool::{AcquireError, FramePool, OnRelease, PoolError, PoolStats, SlotMemory};
