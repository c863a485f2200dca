//! What the supervisor thread shares with every [`Handle`](crate::Handle):
//! the last committed state, from which reads are answered on the caller's
//! thread, and the engine behind a lock.
//!
//! Reads (lists, gets, the system and server reports) never queue behind
//! the supervisor thread, which may be waiting for the disk: the thread
//! publishes a [`Snapshot`] after every change it made durable (and after
//! boot), before it replies, so a client that was told a change is done
//! reads it back. Stream states and counters are live: they come from the
//! engine, whose lock the thread holds only while it starts or stops a
//! stream, never while it saves.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::SystemTime;

use makara_config::Id;

use crate::command::{Command, Reply};
use crate::disk::DiskWatch;
use crate::document::Document;
use crate::engine::{Engine, EngineError, StreamPlan};
use crate::error::CommandError;
use crate::events::EventLog;
use crate::recordings::{LocalRecorder, Recordings};
use crate::report::{self, Reading};
use crate::views::{CapacityView, StreamState, SystemView};

/// The configuration as last saved, and why streams last failed to start.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub doc: Arc<Document>,
    pub last_errors: HashMap<Id, String>,
}

impl Snapshot {
    /// Answers a read from this snapshot; `None` for a command that
    /// changes something.
    fn answer(
        &self,
        command: &Command,
        engine: &dyn Engine,
        recordings: &Recordings,
    ) -> Option<Result<Reply, CommandError>> {
        let reading = Reading {
            doc: &self.doc,
            last_errors: &self.last_errors,
            engine,
            recordings,
        };
        reading.answer(command)
    }
}

/// The engine, shared by the supervisor thread (which starts and stops
/// streams) and readers (which ask for states and counters). `Engine` is
/// only `Send`, so readers take turns with the thread through the lock.
#[derive(Clone)]
pub(crate) struct SharedEngine(Arc<Mutex<Box<dyn Engine>>>);

impl SharedEngine {
    pub fn new(engine: Box<dyn Engine>) -> SharedEngine {
        SharedEngine(Arc::new(Mutex::new(engine)))
    }

    /// The engine; a panic in an earlier call (caught by the supervisor)
    /// does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, Box<dyn Engine>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn start(&self, plan: &StreamPlan) -> Result<(), EngineError> {
        self.lock().start(plan)
    }

    pub fn stop(&self, id: &Id) {
        self.lock().stop(id)
    }

    pub fn state(&self, id: &Id) -> Option<StreamState> {
        self.lock().state(id)
    }
}

/// Shared between the supervisor thread and its handles.
pub(crate) struct Shared {
    /// `None` until boot is over: reads before that go to the thread,
    /// which answers them after boot, as before.
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    pub engine: SharedEngine,
    /// When the supervisor started, for the system report.
    pub started: SystemTime,
    pub disk: DiskWatch,
    pub events: EventLog,
    pub recordings: Recordings,
    /// Set when the supervisor thread ends: the watch ends too.
    pub stopping: AtomicBool,
}

impl Shared {
    pub fn new(engine: SharedEngine, disk: DiskWatch, recorder: LocalRecorder) -> Shared {
        let events = EventLog::default();
        let recordings = Recordings::new(recorder, &events);
        Shared {
            snapshot: RwLock::new(None),
            engine,
            started: SystemTime::now(),
            disk,
            events,
            recordings,
            stopping: AtomicBool::new(false),
        }
    }

    /// The configuration as last published; `None` before boot is over.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes `snapshot` what reads see from now on.
    pub fn publish(&self, snapshot: Snapshot) {
        let mut current = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = Some(Arc::new(snapshot));
    }

    /// Answers a read without the supervisor thread; `None` for commands
    /// that change something, and for every command before boot is over.
    pub fn answer(&self, command: &Command) -> Option<Result<Reply, CommandError>> {
        if let Some(answer) = self.at_once(command) {
            return Some(answer);
        }
        let snapshot = self.snapshot()?;
        let engine = self.engine.lock();
        snapshot.answer(command, engine.as_ref(), &self.recordings)
    }

    /// Answers the commands that need no configuration: the system and
    /// server reports, recordings but their start, assets and events.
    /// `None` for the others.
    pub fn at_once(&self, command: &Command) -> Option<Result<Reply, CommandError>> {
        let r = &self.recordings;
        let (engine, events) = (&self.engine, &self.events);
        let answer = match command {
            Command::System => Ok(Reply::System(self.system())),
            Command::Server => Ok(Reply::Server(report::server())),
            Command::ListRecordings => r.list().map(Reply::Recordings),
            Command::GetRecording(id) => r.get(id).map(Reply::Recording),
            Command::PauseRecording(id) => r.pause(id).map(Reply::Recording),
            Command::ResumeRecording(id) => r.resume(id).map(Reply::Recording),
            Command::StopRecording(id) => r.stop(engine, events, id).map(Reply::Asset),
            Command::ListAssets => r.assets().map(Reply::Assets),
            Command::GetAsset(id) => r.asset(id).map(Reply::Asset),
            Command::UpdateAsset(id, edit) => r.update_asset(id, edit.clone()).map(Reply::Asset),
            Command::DeleteAsset(id) => r.delete_asset(id).map(|()| Reply::Deleted),
            Command::AssetTrackFile { asset, track } => {
                r.track_file(asset, *track).map(Reply::TrackFile)
            }
            Command::ListEvents => Ok(Reply::Events(events.list())),
            Command::RecordLockout { username, address } => {
                Ok(Reply::Event(events.lockout(username.clone(), *address)))
            }
            _ => return None,
        };
        Some(answer)
    }

    pub fn system(&self) -> SystemView {
        let ports = {
            let engine = self.engine.lock();
            report::Ports {
                capture: engine.capture_ports(),
                decklink: engine.decklink_ports(),
            }
        };
        let capacity = match crate::EncoderCapacity::load(self.disk.dir()) {
            Ok(None) => CapacityView::NotMeasured,
            Ok(Some(measured)) => CapacityView::Measured(measured),
            Err(e) => CapacityView::Unreadable(e.to_string()),
        };
        report::system(ports, self.started, self.disk.check(), capacity)
    }
}
