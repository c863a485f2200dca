//! The handles of a live recording: [`Recording`] for its owner,
//! [`TrackSink`] for the media pipeline.

use std::fmt;
use std::sync::Arc;

use makara_config::Id;

use crate::asset::{Asset, FinishReason, State};
use crate::error::{ControlError, StopError};
use crate::fsio;
use crate::limits::STOP_WAIT;
use crate::live::Live;
use crate::meta;

/// A live recording. Cheap to clone; every clone controls the same one.
///
/// It finishes when [`Recording::stop`] is called, when a write fails or
/// the disk fills (see [`Asset::state`] and
/// [`Recorder::subscribe`](crate::Recorder::subscribe)), or when the
/// [`Recorder`](crate::Recorder) shuts down.
#[derive(Clone)]
pub struct Recording {
    live: Arc<Live>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recording").field("id", &self.id()).finish()
    }
}

impl Recording {
    pub(crate) fn new(live: Arc<Live>) -> Recording {
        Recording { live }
    }

    /// Also the id of the asset it becomes.
    pub fn id(&self) -> Id {
        self.live.id.clone()
    }

    /// How many tracks (sources) it records.
    pub fn tracks(&self) -> usize {
        self.live.tracks
    }

    /// The sink for track `track` (the source `sources[track]` it was
    /// started with), or `None` if it has no such track.
    pub fn sink(&self, track: usize) -> Option<TrackSink> {
        (track < self.live.tracks).then(|| TrackSink {
            live: self.live.clone(),
            track,
        })
    }

    /// Its state now, with the bytes and seconds recorded so far.
    pub fn asset(&self) -> Asset {
        self.live.record.snapshot()
    }

    pub fn state(&self) -> State {
        self.asset().state
    }

    /// Lets go of what the sinks are given from now on, until
    /// [`Recording::resume`]; the duration stops growing. Saved in the
    /// metadata before it takes effect. Pausing a paused recording does
    /// nothing.
    pub fn pause(&self) -> Result<Asset, ControlError> {
        self.set_paused(true)
    }

    /// Records again, in the same files, each track from its next clean
    /// point (PAT, PMT, keyframe). Resuming a recording that is not
    /// paused does nothing.
    pub fn resume(&self) -> Result<Asset, ControlError> {
        self.set_paused(false)
    }

    fn set_paused(&self, pause: bool) -> Result<Asset, ControlError> {
        let record = &self.live.record;
        let id = self.id();
        let (from, to) = if pause {
            (State::Recording, State::Paused)
        } else {
            (State::Paused, State::Recording)
        };
        let mut changed = false;
        let asset = record.change(
            |asset| match asset.state {
                State::Finished(reason) => Err(ControlError::Finished {
                    id: asset.id.clone(),
                    reason,
                }),
                state if state == from => {
                    asset.state = to;
                    asset.modified = fsio::unix_now();
                    changed = true;
                    Ok(())
                }
                _ => Ok(()),
            },
            |source| ControlError::Save {
                id: id.clone(),
                path: record.dir.join(meta::META_FILE),
                source,
            },
        )?;
        if changed && pause {
            self.live.set_paused(true);
        } else if changed {
            self.live.resume();
        }
        Ok(asset)
    }

    /// Finishes the recording: what the sinks gave before is written, the
    /// files are fsynced, and the metadata says finished. Waits for that
    /// up to [`STOP_WAIT`]. Returns the asset it became.
    pub fn stop(&self) -> Result<Asset, StopError> {
        let asset = self.asset();
        if let State::Finished(reason) = asset.state {
            return Err(StopError::Finished {
                id: asset.id,
                reason,
            });
        }
        self.live.close(FinishReason::Stopped);
        if !self.live.wait_done(STOP_WAIT) {
            return Err(StopError::Slow {
                id: asset.id,
                waited: STOP_WAIT,
            });
        }
        Ok(self.asset())
    }
}

/// Where the media pipeline puts one track's transport stream. Cheap to
/// clone, `Send` and `Sync`.
#[derive(Clone)]
pub struct TrackSink {
    live: Arc<Live>,
    track: usize,
}

impl fmt::Debug for TrackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackSink")
            .field("track", &self.track)
            .field("open", &self.is_open())
            .finish()
    }
}

impl TrackSink {
    /// Hands over whole 188-byte packets (any number). Never blocks: they
    /// are queued for the writer thread, or dropped and counted
    /// ([`Asset::dropped_packets`]) when the queue already holds
    /// [`Limits::queue_bytes`](crate::Limits). A torn packet at the end
    /// is dropped too. While paused, and once finished, packets are let
    /// go without counting.
    pub fn write(&self, ts: &[u8]) {
        self.live.offer(self.track, ts);
    }

    /// False once the recording is finishing or finished: the pipeline
    /// may let this sink go.
    pub fn is_open(&self) -> bool {
        !self.live.is_closed()
    }

    /// Which track this is.
    pub fn track(&self) -> usize {
        self.track
    }
}
