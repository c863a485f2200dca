//! The supervisor thread's loop, with group commit: the commands that
//! queued up while the last save ran are carried out together and saved
//! once, and then all of them are answered.
//!
//! Nothing is acknowledged before it is durable: a group's replies are sent
//! only after its one save returned. A command that fails its own checks
//! gets its own error and does not fail the others. If the group's save
//! fails, the group is undone and every command in it runs again alone,
//! with its own save, so each gets the answer it would have got alone (on
//! a full disk a delete still works while the creates beside it fail).

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver};

use crate::command::{Command, Reply};
use crate::error::CommandError;
use crate::supervisor::Supervisor;

/// A command and where its reply goes.
pub(crate) type Envelope = (Command, mpsc::SyncSender<Result<Reply, CommandError>>);

/// The most commands carried out before anyone is answered, so that a
/// flood of writes cannot hold the first of them back without bound.
const MAX_BATCH: usize = 64;

/// Serves commands until every handle is gone.
pub(crate) fn serve(supervisor: &mut Supervisor, rx: &Receiver<Envelope>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        run_batch(supervisor, batch);
    }
}

/// Carries out a batch in order: runs of commands that may be grouped are
/// saved together, the others one at a time.
fn run_batch(supervisor: &mut Supervisor, batch: Vec<Envelope>) {
    let mut group = Vec::new();
    for envelope in batch {
        if envelope.0.may_group() {
            group.push(envelope);
            continue;
        }
        run_group(supervisor, std::mem::take(&mut group));
        run_alone(supervisor, envelope);
    }
    run_group(supervisor, group);
}

fn run_alone(supervisor: &mut Supervisor, (command, reply): Envelope) {
    let result = execute_guarded(supervisor, command);
    supervisor.publish();
    // The caller may have given up waiting; that is fine.
    let _ = reply.send(result);
}

fn run_group(supervisor: &mut Supervisor, group: Vec<Envelope>) {
    if group.len() < 2 {
        group.into_iter().for_each(|e| run_alone(supervisor, e));
        return;
    }
    supervisor.begin_group();
    let results: Vec<_> = group
        .iter()
        .map(|(command, _)| execute_guarded(supervisor, command.clone()))
        .collect();
    if let Err(e) = supervisor.end_group() {
        tracing::warn!(commands = group.len(), error = %e, "saving a group of changes failed; saving them one at a time");
        group.into_iter().for_each(|e| run_alone(supervisor, e));
        return;
    }
    supervisor.publish();
    for ((_, reply), result) in group.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

/// Carries out a command; a panic (a bug, in an engine or here) fails that
/// command instead of taking the appliance down. The document is still
/// consistent: a change only becomes current whole, after its save or (in
/// a group) at once, to be saved with the group.
pub(crate) fn execute_guarded(
    supervisor: &mut Supervisor,
    command: Command,
) -> Result<Reply, CommandError> {
    let name = format!("{command:?}");
    match panic::catch_unwind(AssertUnwindSafe(|| supervisor.execute(command))) {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(command = %name, "command panicked; the supervisor carries on");
            Err(CommandError::Panicked)
        }
    }
}
