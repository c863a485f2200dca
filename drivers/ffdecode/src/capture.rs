//! [`NetworkCapture`]: a network input as a live source, and the threads
//! behind it.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use makara_capture::{AudioSource, DeviceError, LiveCapture, MetadataUnit};
use makara_framering::{Frame, FramePool};
use makara_media::{InputReport, MonotonicNs, VideoFormat};

use crate::state::State;
use makara_capture::LineSound;

/// The threads of a capture: stopped and joined when dropped.
#[derive(Debug)]
pub(crate) struct Threads {
    pub(crate) state: Arc<State>,
    pub(crate) handles: Vec<JoinHandle<()>>,
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.state
            .stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        for handle in self.handles.drain(..) {
            if handle.join().is_err() {
                tracing::error!(input = %self.state.label, "a decoder thread panicked");
            }
        }
    }
}

/// A network input, decoded: pictures of one fixed I420 size land in its
/// own pool's slots; its sound, KLV and report go with them. Dropping it
/// stops its threads.
pub struct NetworkCapture {
    pub(crate) format: VideoFormat,
    pub(crate) pool: Arc<FramePool>,
    pub(crate) frames: Receiver<Frame>,
    pub(crate) state: Arc<State>,
    /// Last, so the threads stop after the rest is gone.
    pub(crate) _threads: Threads,
}

impl std::fmt::Debug for NetworkCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkCapture")
            .field("input", &self.state.label)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl LiveCapture for NetworkCapture {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }

    /// The next picture: decoded, or the slate while the input is lost.
    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        match self.frames.recv_timeout(timeout) {
            Ok(frame) => Ok(Some(frame)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(DeviceError::Device {
                device: self.state.label.clone(),
                what: self
                    .state
                    .failure()
                    .unwrap_or_else(|| "the decoder stopped".into()),
            }),
        }
    }

    /// The decoded sound on the pictures' clock, silence where the input
    /// has none.
    fn audio(&self, _origin: MonotonicNs) -> Box<dyn AudioSource> {
        Box::new(LineSound {
            line: Arc::clone(&self.state.sound),
        })
    }

    fn report(&self) -> Option<InputReport> {
        Some(self.state.report())
    }

    fn take_metadata(&mut self, out: &mut Vec<MetadataUnit>) -> bool {
        self.state.take_metadata(out)
    }
}
