//! The supervisor thread and the handle the API uses to reach it.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread;

use thiserror::Error;

use crate::command::{Command, Reply};
use crate::disk::DiskWatch;
use crate::document::{Document, OpenError, Persist, Store};
use crate::engine::Engine;
use crate::error::CommandError;
use crate::group::{self, Envelope};
use crate::limits::BoardLimits;
use crate::recordings::LocalRecorder;
use crate::shared::{Shared, SharedEngine};
use crate::supervisor::Supervisor;
use crate::watch;

/// A cheap, cloneable way to reach the supervisor: reads are answered from
/// the last saved state on the caller's thread; changes go to the
/// supervisor thread.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Envelope>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

#[derive(Debug, Error)]
pub enum StartupError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("the supervisor thread could not be started: {0}")]
    Spawn(#[source] std::io::Error),
}

impl Handle {
    /// Loads the configuration from `data_dir`, boots it (default preset or
    /// the streams that ran before) and starts the supervisor thread,
    /// without a recorder: every command on recordings fails saying so.
    /// The thread ends, stopping every stream, when the last handle is
    /// dropped.
    pub fn start(
        data_dir: &Path,
        engine: Box<dyn Engine>,
    ) -> Result<(Handle, thread::JoinHandle<()>), StartupError> {
        let none =
            LocalRecorder::Unavailable("this supervisor was started without a recorder".into());
        Handle::start_with_recorder(data_dir, engine, none)
    }

    /// [`Handle::start`] with the recorder that local recordings use. The
    /// thread ends, stopping every stream and finishing every recording
    /// (as interrupted), when the last handle is dropped.
    pub fn start_with_recorder(
        data_dir: &Path,
        engine: Box<dyn Engine>,
        recorder: LocalRecorder,
    ) -> Result<(Handle, thread::JoinHandle<()>), StartupError> {
        Handle::start_on_board(data_dir, engine, recorder, BoardLimits::UPPER)
    }

    /// [`Handle::start_with_recorder`] on a board that carries less than
    /// the supervisor's own bounds: a start past `board`'s count of
    /// streams running at once is refused, and so is a transcoder or test
    /// pattern picture larger than its largest.
    pub fn start_on_board(
        data_dir: &Path,
        engine: Box<dyn Engine>,
        recorder: LocalRecorder,
        board: BoardLimits,
    ) -> Result<(Handle, thread::JoinHandle<()>), StartupError> {
        let (mut store, document) = Store::open(data_dir)?;
        tracing::info!(path = store.path(), "configuration loaded");
        store.keep_reserve();
        Handle::start_with(data_dir, Box::new(store), document, engine, recorder, board)
    }

    /// [`Handle::start`] with the document already loaded and saved
    /// through `store`.
    pub(crate) fn start_with(
        data_dir: &Path,
        store: Box<dyn Persist>,
        document: Document,
        engine: Box<dyn Engine>,
        recorder: LocalRecorder,
        board: BoardLimits,
    ) -> Result<(Handle, thread::JoinHandle<()>), StartupError> {
        let shared = Arc::new(Shared::new(
            SharedEngine::new(engine),
            DiskWatch::new(data_dir),
            recorder,
        ));
        shared.disk.check();
        let mut supervisor = Supervisor::new(document, store, Arc::clone(&shared), board);
        let (tx, rx) = mpsc::channel::<Envelope>();
        let watch = watch::spawn(Arc::clone(&shared)).map_err(StartupError::Spawn)?;
        let stop_watch = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("supervisor".into())
            .spawn(move || {
                supervisor.boot();
                supervisor.publish();
                group::serve(&mut supervisor, &rx);
                supervisor.shared.stopping.store(true, Ordering::Release);
                let _ = watch.join();
                supervisor.halt_all();
            });
        let thread = match spawned {
            Ok(thread) => thread,
            Err(e) => {
                // The watch would wait for a supervisor that never comes.
                stop_watch.stopping.store(true, Ordering::Release);
                return Err(StartupError::Spawn(e));
            }
        };
        Ok((Handle { tx, shared }, thread))
    }

    /// Carries out a command and returns its reply. A read is answered at
    /// once from the last saved state; a change waits until it is on disk.
    /// Blocks: call it from a thread that may block (in async code,
    /// `spawn_blocking`).
    pub fn call(&self, command: Command) -> Result<Reply, CommandError> {
        if let Some(answer) = self.shared.answer(&command) {
            return answer;
        }
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        self.tx
            .send((command, reply_tx))
            .map_err(|_| CommandError::Gone)?;
        reply_rx.recv().map_err(|_| CommandError::Gone)?
    }
}
