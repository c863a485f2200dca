//! The supervisor thread and the handle the API uses to reach it.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use thiserror::Error;

use crate::command::{Command, Reply};
use crate::document::{OpenError, Store};
use crate::engine::Engine;
use crate::error::CommandError;
use crate::supervisor::Supervisor;

type Envelope = (Command, mpsc::SyncSender<Result<Reply, CommandError>>);

/// A cheap, cloneable way to send commands to the supervisor thread.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::Sender<Envelope>,
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
    /// the streams that ran before) and starts the supervisor thread. The
    /// thread ends, stopping every stream, when the last handle is dropped.
    pub fn start(
        data_dir: &Path,
        engine: Box<dyn Engine>,
    ) -> Result<(Handle, thread::JoinHandle<()>), StartupError> {
        let (store, document) = Store::open(data_dir)?;
        tracing::info!(path = store.path(), "configuration loaded");
        let mut supervisor = Supervisor::new(document, store, engine);
        let (tx, rx) = mpsc::channel::<Envelope>();
        let thread = thread::Builder::new()
            .name("supervisor".into())
            .spawn(move || {
                supervisor.boot();
                for (command, reply) in rx {
                    // The caller may have given up waiting; that is fine.
                    let _ = reply.send(execute_guarded(&mut supervisor, command));
                }
                supervisor.halt_all();
            })
            .map_err(StartupError::Spawn)?;
        Ok((Handle { tx }, thread))
    }

    /// Sends a command and waits for its reply. Blocks: call it from a
    /// thread that may block (in async code, `spawn_blocking`).
    pub fn call(&self, command: Command) -> Result<Reply, CommandError> {
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        self.tx
            .send((command, reply_tx))
            .map_err(|_| CommandError::Gone)?;
        reply_rx.recv().map_err(|_| CommandError::Gone)?
    }
}

/// Carries out a command; a panic (a bug, in an engine or here) fails that
/// command instead of taking the appliance down. The document is still
/// consistent: changes only become current after a successful save.
fn execute_guarded(supervisor: &mut Supervisor, command: Command) -> Result<Reply, CommandError> {
    let name = format!("{command:?}");
    match panic::catch_unwind(AssertUnwindSafe(|| supervisor.execute(command))) {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(command = %name, "command panicked; the supervisor carries on");
            Err(CommandError::Panicked)
        }
    }
}
