//! The driver's side of a pool over its own buffers.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use crate::frame::FrameMut;
use crate::pool::FramePool;

/// Why [`DriverSlots::take`] gave no slot.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TakeError {
    /// The index names no slot of the pool.
    #[error("slot {index} does not exist: the pool has slots 0-{last}")]
    NoSuchSlot {
        /// The index asked for.
        index: usize,
        /// The pool's last slot index.
        last: usize,
    },
    /// A writer or readers hold the slot: the driver does not have it, so
    /// its buffer cannot be the one the device just filled.
    #[error("slot {index} is not lent to the driver: a writer or readers hold it")]
    NotLent {
        /// The index asked for.
        index: usize,
    },
}

/// The one handle that takes slots out of the driver's keeping, made with
/// the pool by [`FramePool::with_memory`] and kept by the driver. It cannot
/// be cloned, and the pool gives out a driver's slot no other way, so only
/// the driver that owns the buffers decides when the device is done with one.
pub struct DriverSlots {
    pool: Arc<FramePool>,
}

impl DriverSlots {
    pub(crate) fn new(pool: Arc<FramePool>) -> DriverSlots {
        DriverSlots { pool }
    }

    /// The pool, for the stages that read its frames.
    pub fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }

    /// Slot `index`, which the device has filled and no longer writes
    /// (V4L2: `VIDIOC_DQBUF` just returned buffer `index`), to stamp with
    /// [`FrameMut::freeze`] and share. Refused unless the slot is lent to
    /// the driver.
    pub fn take(&self, index: usize) -> Result<FrameMut, TakeError> {
        self.pool.take_lent(index)
    }
}

impl fmt::Debug for DriverSlots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverSlots")
            .field("pool", &self.pool)
            .finish()
    }
}
