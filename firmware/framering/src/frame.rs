//! Handles to slots: [`FrameMut`] for the one writer, [`Frame`] for readers.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use makara_media::{Captions, MonotonicNs, Timecode, VideoFormat};

use crate::pool::{FramePool, Slot};

const UNIQUE: &str = "a FrameMut holds the only reference to its slot";
const LIVE: &str = "a frame handle holds its slot until it is dropped";

/// A slot being written: exclusive, and invisible to readers until
/// [`FrameMut::freeze`]. Dropped unfrozen, the slot goes back to the pool.
pub struct FrameMut {
    pool: Arc<FramePool>,
    /// `Some` until `freeze` or `drop` takes it.
    slot: Option<Arc<Slot>>,
}

impl FrameMut {
    pub(crate) fn new(pool: Arc<FramePool>, mut slot: Arc<Slot>) -> FrameMut {
        // The slot's last frame's captions and timecode are not this one's.
        let fresh = Arc::get_mut(&mut slot).expect(UNIQUE);
        fresh.captions = Captions::none();
        fresh.timecode = None;
        FrameMut {
            pool,
            slot: Some(slot),
        }
    }

    /// The whole frame to write, planes laid out as
    /// [`VideoFormat::planes`] says.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let len = self.pool.frame_len();
        let slot = Arc::get_mut(self.slot.as_mut().expect(LIVE)).expect(UNIQUE);
        &mut slot.memory.bytes_mut()[..len]
    }

    /// The format the frame must be written in.
    pub fn format(&self) -> VideoFormat {
        self.pool.format()
    }

    /// The slot's index in its pool (the V4L2 buffer index for driver memory).
    pub fn slot(&self) -> usize {
        self.slot.as_ref().expect(LIVE).index
    }

    /// Gives the frame the closed captions that came with it.
    pub fn set_captions(&mut self, captions: Captions) {
        let slot = Arc::get_mut(self.slot.as_mut().expect(LIVE)).expect(UNIQUE);
        slot.captions = captions;
    }

    /// Gives the frame the timecode its source read or counted.
    pub fn set_timecode(&mut self, timecode: Timecode) {
        let slot = Arc::get_mut(self.slot.as_mut().expect(LIVE)).expect(UNIQUE);
        slot.timecode = Some(timecode);
    }

    /// Ends the write and stamps the frame: from here it is read-only and
    /// may be shared. `pts` is the capture time, `sequence` the source's
    /// frame number.
    pub fn freeze(mut self, pts: MonotonicNs, sequence: u64) -> Frame {
        let mut slot = self.slot.take().expect(LIVE);
        let stamp = Arc::get_mut(&mut slot).expect(UNIQUE);
        stamp.pts = pts;
        stamp.sequence = sequence;
        self.pool.count_captured();
        Frame {
            pool: Arc::clone(&self.pool),
            slot: Some(slot),
        }
    }
}

impl Deref for FrameMut {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.slot.as_ref().expect(LIVE).memory.bytes()[..self.pool.frame_len()]
    }
}

impl DerefMut for FrameMut {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.data_mut()
    }
}

impl Drop for FrameMut {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.release(slot);
        }
    }
}

impl fmt::Debug for FrameMut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameMut")
            .field("slot", &self.slot())
            .finish_non_exhaustive()
    }
}

/// A captured frame, read-only. Cloning it adds a reader and copies no
/// pixels; the slot returns to the pool when the last clone is dropped.
pub struct Frame {
    pool: Arc<FramePool>,
    /// `Some` until `drop` takes it.
    slot: Option<Arc<Slot>>,
}

impl Frame {
    fn slot_ref(&self) -> &Slot {
        self.slot.as_deref().expect(LIVE)
    }

    /// The whole frame, planes laid out as [`VideoFormat::planes`] says.
    pub fn data(&self) -> &[u8] {
        &self.slot_ref().memory.bytes()[..self.pool.frame_len()]
    }

    /// The frame's format.
    pub fn format(&self) -> VideoFormat {
        self.pool.format()
    }

    /// The capture time.
    pub fn pts(&self) -> MonotonicNs {
        self.slot_ref().pts
    }

    /// The source's frame number.
    pub fn sequence(&self) -> u64 {
        self.slot_ref().sequence
    }

    /// The slot's index in its pool.
    pub fn slot(&self) -> usize {
        self.slot_ref().index
    }

    /// The closed captions that came with the frame (none for most
    /// sources).
    pub fn captions(&self) -> &Captions {
        &self.slot_ref().captions
    }

    /// The SMPTE timecode its source gave the frame: read from the
    /// signal (a capture card's RP188 or VITC) or counted (the test
    /// pattern); `None` for sources without one.
    pub fn timecode(&self) -> Option<Timecode> {
        self.slot_ref().timecode
    }

    /// The pool the frame lives in, for stages that report copies.
    pub fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }
}

impl Deref for Frame {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.data()
    }
}

impl Clone for Frame {
    fn clone(&self) -> Frame {
        Frame {
            pool: Arc::clone(&self.pool),
            slot: self.slot.clone(),
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.release(slot);
        }
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("slot", &self.slot())
            .field("sequence", &self.sequence())
            .field("pts", &self.pts())
            .finish_non_exhaustive()
    }
}
