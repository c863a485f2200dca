//! Local recordings of groups of outputs, through `makara-recorder`.
//!
//! A recording has one track per output; each track's sink takes the
//! output's stream from an engine tap (`Engine::tap`), which copies what
//! the output sends whichever stream sends it. The taps come off when the
//! recording finishes, however it finishes: a stop, a full disk, a failed
//! write (the recorder's notices, and a sweep that catches any notice
//! missed), or shutdown. Whoever takes a recording's taps off (a stop
//! command, or the watch) records its "recording stopped" event, so there
//! is exactly one.
//!
//! Starts run on the supervisor thread, in order with the changes to
//! groups; the rest (pause, resume, stop, reads, assets) on the caller's
//! thread: they never wait for the configuration to be saved, and a stop
//! that waits for a slow disk holds up nobody else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use makara_config::Id;
use makara_engine::{TapId, TsTap};
use makara_recorder::{
    self as recorder, Asset, AssetEdit, FinishReason, Finished, NewRecording, Recorder, Recording,
    Recovery, State, TrackSink,
};

use crate::error::CommandError;
use crate::events::{EventKind, EventLog};
use crate::recording_error::{
    full_message, AssetLookupError, DeleteAssetError, RecordingError, StartRecordingError,
    StopRecordingError, TrackFileError, UpdateAssetError,
};
use crate::shared::SharedEngine;

/// The local recorder as `makarad` opened it (on `DATA_DIR/recordings`),
/// or why it could not: the appliance serves without recordings then,
/// and every command on them fails saying why.
#[derive(Debug)]
pub enum LocalRecorder {
    /// Opened; `Recovery` says what was finalised at this start.
    Open(Recorder, Recovery),
    /// Not opened, for this reason.
    Unavailable(String),
}

impl LocalRecorder {
    /// Opens the recorder on `root` with the recorder's own limits (which
    /// finalises what a crash left recording, and logs what it did), or
    /// says why it could not: makarad serves either way.
    pub fn open(root: &Path) -> LocalRecorder {
        match Recorder::open(root, recorder::Limits::default()) {
            Ok((recorder, recovery)) => {
                log_recovery(root, &recovery);
                LocalRecorder::Open(recorder, recovery)
            }
            Err(e) => {
                let why = full_message(&e);
                tracing::error!(root = %root.display(), error = %why, "the recorder could not be opened; recordings are unavailable");
                LocalRecorder::Unavailable(why)
            }
        }
    }
}

fn log_recovery(root: &Path, recovery: &Recovery) {
    for id in &recovery.finalised {
        tracing::warn!(recording = %id, "a recording interrupted by a restart was finalised");
    }
    for path in &recovery.removed {
        tracing::info!(path = %path.display(), "removed what a crash left of a recording's start or delete");
    }
    for problem in &recovery.problems {
        tracing::error!(path = %problem.path.display(), problem = %problem.detail, "a recording could not be read; it is left as it is and not listed");
    }
    tracing::info!(root = %root.display(), "recorder ready");
}

/// The recorder and the engine taps of the recordings it runs.
pub(crate) struct Recordings {
    recorder: Result<Recorder, String>,
    /// The taps of each live recording started here, until they come off.
    taps: Mutex<HashMap<Id, Vec<TapId>>>,
}

/// Hands an output's packets to one track of a recording; never blocks.
struct SinkTap(TrackSink);

impl TsTap for SinkTap {
    fn packets(&self, ts: &[u8]) {
        self.0.write(ts);
    }
}

impl Recordings {
    pub fn new(recorder: LocalRecorder, events: &EventLog) -> Recordings {
        let recorder = match recorder {
            LocalRecorder::Open(recorder, recovery) => {
                record_recovery(&recorder, &recovery, events);
                Ok(recorder)
            }
            LocalRecorder::Unavailable(why) => Err(why),
        };
        Recordings {
            recorder,
            taps: Mutex::default(),
        }
    }

    pub fn recorder(&self) -> Result<&Recorder, CommandError> {
        self.recorder
            .as_ref()
            .map_err(|why| CommandError::RecorderUnavailable(why.clone()))
    }

    /// The first live recording of `group`, if any.
    pub fn live_of_group(&self, group: &Id) -> Option<Id> {
        let recorder = self.recorder.as_ref().ok()?;
        let live = recorder.recordings().into_iter().map(|r| r.asset());
        live.into_iter().find(|a| &a.group == group).map(|a| a.id)
    }

    /// The first live recording that records `output`, if any.
    pub fn live_of_output(&self, output: &Id) -> Option<Id> {
        let recorder = self.recorder.as_ref().ok()?;
        let live = recorder.recordings().into_iter().map(|r| r.asset());
        live.into_iter()
            .find(|a| a.tracks.iter().any(|t| &t.source == output))
            .map(|a| a.id)
    }

    /// Whether any live recording of `group` runs; for views.
    pub fn is_recording(&self, group: &Id) -> bool {
        self.live_of_group(group).is_some()
    }

    /// Starts recording `new.sources`, one track each, through engine
    /// taps. A tap the engine refuses undoes the whole start.
    pub fn start(
        &self,
        engine: &SharedEngine,
        events: &EventLog,
        new: NewRecording,
    ) -> Result<Asset, CommandError> {
        let recorder = self.recorder()?;
        let sources = new.sources.clone();
        let recording = recorder.start(new).map_err(start_error)?;
        let id = recording.id();
        let mut taps = Vec::with_capacity(sources.len());
        for (track, output) in sources.iter().enumerate() {
            let Some(sink) = recording.sink(track) else {
                break; // one sink per source: not reached
            };
            let tapped = engine.lock().tap(output, Arc::new(SinkTap(sink)));
            match tapped {
                Ok(tap) => taps.push(tap),
                Err(e) => {
                    untap(engine, &taps);
                    discard(recorder, &recording);
                    return Err(StartRecordingError::Tap(e.to_string()).into());
                }
            }
        }
        self.lock_taps().insert(id.clone(), taps);
        let asset = recording.asset();
        tracing::info!(recording = %id, title = %asset.title, tracks = sources.len(), "recording started");
        events.record(EventKind::RecordingStarted, Some(&id), &asset.title, "");
        // A recording that finished at once (a full disk) may have sent its
        // notice before its taps were known: take them off now.
        if let State::Finished(reason) = recording.state() {
            let done = recording.asset();
            self.finished(engine, events, &id, reason, done.detail.as_deref());
        }
        Ok(asset)
    }

    /// Takes the taps of recording `id` off; false when they were off
    /// already (or it was not started here).
    pub fn release(&self, engine: &SharedEngine, id: &Id) -> bool {
        let taps = self.lock_taps().remove(id);
        match taps {
            Some(taps) => {
                untap(engine, &taps);
                true
            }
            None => false,
        }
    }

    /// A recording finished for `reason`: its taps come off and, unless a
    /// stop command did that already, the event is recorded.
    pub fn finished(
        &self,
        engine: &SharedEngine,
        events: &EventLog,
        id: &Id,
        reason: FinishReason,
        detail: Option<&str>,
    ) {
        if !self.release(engine, id) {
            return;
        }
        let title = self.title(id);
        let detail = detail.unwrap_or_default();
        if reason == FinishReason::Stopped {
            tracing::info!(recording = %id, "recording stopped");
        } else {
            tracing::warn!(recording = %id, reason = %reason, detail, "recording stopped");
        }
        events.record(
            EventKind::RecordingStopped(reason),
            Some(id),
            &title,
            detail,
        );
    }

    /// What a watch does with a notice from the recorder.
    pub fn notice(&self, engine: &SharedEngine, events: &EventLog, notice: &Finished) {
        let detail = notice.detail.as_deref();
        self.finished(engine, events, &notice.id, notice.reason, detail);
    }

    /// Takes off the taps of every recording that has finished, in case
    /// its notice was missed (a full notice queue).
    pub fn sweep(&self, engine: &SharedEngine, events: &EventLog) {
        let Ok(recorder) = &self.recorder else {
            return;
        };
        let ids: Vec<Id> = self.lock_taps().keys().cloned().collect();
        for id in ids {
            let asset = recorder.get(&id);
            match asset.as_ref().map(|a| a.state) {
                Some(State::Finished(reason)) => {
                    let detail = asset.as_ref().and_then(|a| a.detail.as_deref());
                    self.finished(engine, events, &id, reason, detail);
                }
                Some(_) => {}
                None => {
                    self.release(engine, &id);
                }
            }
        }
    }

    /// At the supervisor's end: every tap off, every live recording
    /// finished (as interrupted, so that it is never mistaken for a stop).
    pub fn shut_down(&self, engine: &SharedEngine) {
        let all: Vec<Vec<TapId>> = self.lock_taps().drain().map(|(_, t)| t).collect();
        for taps in all {
            untap(engine, &taps);
        }
        if let Ok(recorder) = &self.recorder {
            let slow = recorder.shutdown();
            if !slow.is_empty() {
                tracing::warn!(recordings = ?slow, "recordings still finishing at shutdown; the next start finalises them");
            }
        }
    }

    pub fn list(&self) -> Result<Vec<Asset>, CommandError> {
        let recorder = self.recorder()?;
        Ok(recorder.recordings().iter().map(Recording::asset).collect())
    }

    pub fn get(&self, id: &Id) -> Result<Asset, CommandError> {
        Ok(self.live(id)?.asset())
    }

    pub fn pause(&self, id: &Id) -> Result<Asset, CommandError> {
        self.live(id)?.pause().map_err(control_error)
    }

    pub fn resume(&self, id: &Id) -> Result<Asset, CommandError> {
        self.live(id)?.resume().map_err(control_error)
    }

    /// Stops recording `id`: taps off first, so nothing comes after the
    /// last packet written; then the recording finishes into an asset.
    pub fn stop(
        &self,
        engine: &SharedEngine,
        events: &EventLog,
        id: &Id,
    ) -> Result<Asset, CommandError> {
        let recording = match self.live(id) {
            Ok(recording) => recording,
            Err(CommandError::Recording(RecordingError::Finished { id, reason })) => {
                return Err(StopRecordingError::Finished { id, reason }.into())
            }
            Err(CommandError::Recording(RecordingError::NotFound(id))) => {
                return Err(StopRecordingError::NotFound(id).into())
            }
            Err(e) => return Err(e),
        };
        let ours = self.release(engine, id);
        let title = recording.asset().title;
        let stopped = recording.stop();
        let (reason, detail) = match &stopped {
            Ok(asset) => match asset.state {
                State::Finished(reason) => (reason, asset.detail.clone().unwrap_or_default()),
                _ => (FinishReason::Stopped, String::new()),
            },
            Err(recorder::StopError::Finished { reason, .. }) => {
                let asset = recording.asset();
                (*reason, asset.detail.unwrap_or_default())
            }
            Err(slow) => (FinishReason::Stopped, slow.to_string()),
        };
        if ours {
            tracing::info!(recording = %id, reason = %reason, "recording stopped");
            events.record(
                EventKind::RecordingStopped(reason),
                Some(id),
                &title,
                detail,
            );
        }
        stopped.map_err(|e| match e {
            recorder::StopError::Finished { id, reason } => {
                StopRecordingError::Finished { id, reason }.into()
            }
            slow @ recorder::StopError::Slow { .. } => {
                StopRecordingError::Slow(slow.to_string()).into()
            }
        })
    }

    /// The live recording `id`, or why there is none.
    fn live(&self, id: &Id) -> Result<Recording, CommandError> {
        let recorder = self.recorder()?;
        if let Some(recording) = recorder.recording(id) {
            return Ok(recording);
        }
        let error = match recorder.get(id).map(|a| a.state) {
            Some(State::Finished(reason)) => RecordingError::Finished {
                id: id.clone(),
                reason,
            },
            _ => RecordingError::NotFound(id.clone()),
        };
        Err(error.into())
    }

    pub fn assets(&self) -> Result<Vec<Asset>, CommandError> {
        Ok(self.recorder()?.list())
    }

    pub fn asset(&self, id: &Id) -> Result<Asset, CommandError> {
        let asset = self.recorder()?.get(id);
        Ok(asset.ok_or_else(|| AssetLookupError::NotFound(id.clone()))?)
    }

    pub fn update_asset(&self, id: &Id, edit: AssetEdit) -> Result<Asset, CommandError> {
        let updated = self.recorder()?.update(id, edit);
        updated.map_err(|e| {
            match e {
                recorder::UpdateError::NotFound { id } => UpdateAssetError::NotFound(id),
                recorder::UpdateError::TooLong(t) => {
                    UpdateAssetError::Invalid(makara_config::Invalid::TooLong {
                        field: t.field,
                        len: t.len,
                        max: t.max,
                    })
                }
                save @ recorder::UpdateError::Save { .. } => {
                    UpdateAssetError::Save(full_message(&save))
                }
            }
            .into()
        })
    }

    pub fn delete_asset(&self, id: &Id) -> Result<(), CommandError> {
        let deleted = self.recorder()?.delete(id);
        deleted.map_err(|e| {
            match e {
                recorder::DeleteError::NotFound { id } => DeleteAssetError::NotFound(id),
                recorder::DeleteError::Live { id } => DeleteAssetError::Live(id),
                remove @ recorder::DeleteError::Remove { .. } => {
                    tracing::warn!(recording = %id, error = %full_message(&remove), "a deleted recording's files were not all removed");
                    DeleteAssetError::Remove(full_message(&remove))
                }
            }
            .into()
        })
    }

    pub fn track_file(&self, id: &Id, track: usize) -> Result<PathBuf, CommandError> {
        let path = self.recorder()?.track_path(id, track);
        path.map_err(|e| {
            match e {
                recorder::TrackError::NotFound { id } => TrackFileError::NotFound(id),
                recorder::TrackError::NoTrack { id, track, tracks } => {
                    TrackFileError::NoTrack { id, track, tracks }
                }
                recorder::TrackError::Live { id } => TrackFileError::Live(id),
            }
            .into()
        })
    }

    fn title(&self, id: &Id) -> String {
        let asset = self.recorder.as_ref().ok().and_then(|r| r.get(id));
        asset.map_or_else(String::new, |a| a.title)
    }

    fn lock_taps(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Vec<TapId>>> {
        self.taps.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn untap(engine: &SharedEngine, taps: &[TapId]) {
    let mut engine = engine.lock();
    for tap in taps {
        engine.untap(*tap);
    }
}

/// Stops and deletes a recording that could not be fed, so that a start
/// that failed leaves nothing behind.
fn discard(recorder: &Recorder, recording: &Recording) {
    let id = recording.id();
    if let Err(e) = recording.stop() {
        tracing::warn!(recording = %id, error = %e, "an abandoned recording did not stop cleanly");
    }
    if let Err(e) = recorder.delete(&id) {
        tracing::warn!(recording = %id, error = %full_message(&e), "an abandoned recording was not removed");
    }
}

fn start_error(e: recorder::StartError) -> CommandError {
    match e {
        recorder::StartError::TooManyRecordings { max } => StartRecordingError::TooMany { max },
        low @ recorder::StartError::LowSpace { .. } => {
            StartRecordingError::NoSpace(low.to_string())
        }
        other => StartRecordingError::Failed(full_message(&other)),
    }
    .into()
}

fn control_error(e: recorder::ControlError) -> CommandError {
    match e {
        recorder::ControlError::Finished { id, reason } => RecordingError::Finished { id, reason },
        save @ recorder::ControlError::Save { .. } => RecordingError::Save(full_message(&save)),
    }
    .into()
}

/// At boot: the recordings a restart interrupted are finished now; each
/// gets its "recording stopped" event. What recovery could not read is
/// logged by the appliance, which opened the recorder.
fn record_recovery(recorder: &Recorder, recovery: &Recovery, events: &EventLog) {
    for id in &recovery.finalised {
        let asset = recorder.get(id);
        let title = asset.as_ref().map_or("", |a| a.title.as_str());
        let detail = asset.as_ref().and_then(|a| a.detail.clone());
        events.record(
            EventKind::RecordingStopped(FinishReason::Interrupted),
            Some(id),
            title,
            detail.unwrap_or_else(|| "finalised when makarad started again".into()),
        );
    }
}
