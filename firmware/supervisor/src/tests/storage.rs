//! When the configuration cannot be saved, a command fails with its
//! `Storage` variant and nothing changes: not in memory, not on disk, not
//! in the engine.

use std::fs;
use std::path::Path;

use super::*;
use crate::{CreateError, DeleteError, StartError, StopError, UpdateError};

/// Makes every save fail: the temporary files a save writes are
/// directories, which cannot be opened for writing (not even by root).
/// The slot files themselves stay readable.
fn break_storage(dir: &Path) {
    for tmp in ["config.a.tmp", "config.b.tmp"] {
        fs::create_dir_all(dir.join(tmp).join("blocker")).expect("block temp file");
    }
}

fn heal_storage(dir: &Path) {
    for tmp in ["config.a.tmp", "config.b.tmp"] {
        fs::remove_dir_all(dir.join(tmp)).expect("unblock temp file");
    }
}

/// A configuration with something of everything: stream A running (in the
/// running set), stream B stopped, an auto_start stream C started at boot
/// (running, not in the running set), unused spares, and two presets, P
/// the default.
struct World {
    a: Chain,
    b: Chain,
    c: Id,
    spare_input: Id,
    spare_output: Id,
    spare_transcoder: Id,
    p: Id,
    q: Id,
}

fn world(label: &str) -> (Rig, World) {
    let mut rig = Rig::new(label);
    let a = rig.add_chain("A");
    let b = rig.add_chain("B");
    let c = rig.add_stream(auto_start(stream(
        "C",
        &b.input,
        Some(&b.transcoder),
        &[&b.output],
    )));
    let spare_input = rig.add_input("spare");
    let spare_output = rig.add_output("spare");
    let spare_transcoder = rig.add_transcoder("spare");
    rig.start(&a.stream);
    let p = rig.save_preset("P");
    let q = rig.save_preset("Q");
    // Boot without a default, so that C starts as an auto_start stream.
    rig.reboot();
    rig.update_preset(&p, false, Some(true));
    assert_eq!(rig.state(&a.stream), StreamState::Active);
    assert_eq!(rig.state(&b.stream), StreamState::Stopped);
    assert_eq!(rig.state(&c), StreamState::Active);
    rig.probe.clear_calls();
    (
        rig,
        World {
            a,
            b,
            c,
            spare_input,
            spare_output,
            spare_transcoder,
            p,
            q,
        },
    )
}

/// Runs `command` with storage broken, checks the error and that nothing
/// changed; then heals storage and checks that the same command works.
#[track_caller]
fn refused_then_accepted(
    rig: &Rig,
    command: Command,
    is_storage: impl Fn(&CommandError) -> bool,
) -> Result<Reply, CommandError> {
    let before = rig.snapshot();
    let running_before = rig.probe.lock().running.clone();
    break_storage(rig.dir());
    let reply = rig.call(command.clone());
    match &reply {
        Err(e) if is_storage(e) => {
            assert!(
                e.to_string()
                    .contains("the configuration could not be saved"),
                "{e}"
            );
        }
        other => panic!("{command:?}: expected a Storage error, got {other:?}"),
    }
    assert_eq!(rig.snapshot(), before, "{command:?} changed the state");
    assert_eq!(
        rig.probe.lock().running,
        running_before,
        "{command:?} changed what the engine runs"
    );
    heal_storage(rig.dir());
    assert_eq!(rig.snapshot(), before);
    rig.call(command)
}

fn is_create(e: &CommandError) -> bool {
    matches!(e, CommandError::Create(CreateError::Storage(_)))
}
fn is_update(e: &CommandError) -> bool {
    matches!(e, CommandError::Update(UpdateError::Storage(_)))
}
fn is_delete(e: &CommandError) -> bool {
    matches!(e, CommandError::Delete(DeleteError::Storage(_)))
}
fn is_start(e: &CommandError) -> bool {
    matches!(e, CommandError::Start(StartError::Storage(_)))
}
fn is_stop(e: &CommandError) -> bool {
    matches!(e, CommandError::Stop(StopError::Storage(_)))
}

#[test]
fn creates_fail_cleanly() {
    let (rig, w) = world("storage-create");
    created(refused_then_accepted(
        &rig,
        Command::CreateInput(input("new")),
        is_create,
    ));
    created(refused_then_accepted(
        &rig,
        Command::CreateOutput(output("new")),
        is_create,
    ));
    created(refused_then_accepted(
        &rig,
        Command::CreateTranscoder(transcoder("new")),
        is_create,
    ));
    let config = stream(
        "new",
        &w.spare_input,
        Some(&w.spare_transcoder),
        &[&w.spare_output],
    );
    created(refused_then_accepted(
        &rig,
        Command::CreateStream {
            config: config.clone(),
            start: false,
        },
        is_create,
    ));
    rig.probe.clear_calls();
    let id = created(refused_then_accepted(
        &rig,
        Command::CreateStream {
            config,
            start: true,
        },
        is_create,
    ));
    // Only the accepted one was started.
    assert_eq!(rig.probe.starts(), vec![id]);
    created(refused_then_accepted(
        &rig,
        Command::SavePreset { name: "R".into() },
        is_create,
    ));
}

#[test]
fn replaces_fail_cleanly() {
    let (rig, w) = world("storage-replace");
    updated(
        refused_then_accepted(
            &rig,
            Command::ReplaceInput(w.spare_input.clone(), input("x")),
            is_update,
        ),
        &w.spare_input,
    );
    updated(
        refused_then_accepted(
            &rig,
            Command::ReplaceOutput(w.spare_output.clone(), output("x")),
            is_update,
        ),
        &w.spare_output,
    );
    updated(
        refused_then_accepted(
            &rig,
            Command::ReplaceTranscoder(w.spare_transcoder.clone(), transcoder("x")),
            is_update,
        ),
        &w.spare_transcoder,
    );
    updated(
        refused_then_accepted(
            &rig,
            Command::ReplaceStream(
                w.b.stream.clone(),
                stream("B'", &w.spare_input, None, &[&w.spare_output]),
            ),
            is_update,
        ),
        &w.b.stream,
    );
}

#[test]
fn deletes_fail_cleanly() {
    let (rig, w) = world("storage-delete");
    deleted(refused_then_accepted(
        &rig,
        Command::Delete(Kind::Stream, w.b.stream.clone()),
        is_delete,
    ));
    deleted(refused_then_accepted(
        &rig,
        Command::Delete(Kind::Input, w.spare_input.clone()),
        is_delete,
    ));
    deleted(refused_then_accepted(
        &rig,
        Command::Delete(Kind::Output, w.spare_output.clone()),
        is_delete,
    ));
    deleted(refused_then_accepted(
        &rig,
        Command::Delete(Kind::Transcoder, w.spare_transcoder.clone()),
        is_delete,
    ));
    // The default preset: the default stays set when the delete fails.
    deleted(refused_then_accepted(
        &rig,
        Command::Delete(Kind::Preset, w.p.clone()),
        is_delete,
    ));
    deleted(refused_then_accepted(
        &rig,
        Command::Delete(Kind::Preset, w.q.clone()),
        is_delete,
    ));
}

#[test]
fn a_failed_delete_keeps_the_start_error() {
    let rig = Rig::new("storage-delete-last-error");
    let c = rig.add_chain("S");
    rig.probe.fail_all(Some(Failure::Failed));
    assert!(rig.call(Command::StartStream(c.stream.clone())).is_err());
    break_storage(rig.dir());
    assert!(rig
        .call(Command::Delete(Kind::Stream, c.stream.clone()))
        .is_err());
    heal_storage(rig.dir());
    assert!(rig.get_stream(&c.stream).last_error.is_some());
}

#[test]
fn preset_updates_fail_cleanly() {
    let (rig, w) = world("storage-preset");
    updated(
        refused_then_accepted(
            &rig,
            Command::UpdatePreset {
                id: w.q.clone(),
                activate: false,
                make_default: Some(true),
            },
            is_update,
        ),
        &w.q,
    );
    updated(
        refused_then_accepted(
            &rig,
            Command::UpdatePreset {
                id: w.q.clone(),
                activate: false,
                make_default: Some(false),
            },
            is_update,
        ),
        &w.q,
    );
}

#[test]
fn a_failed_activation_leaves_streams_running() {
    let (rig, w) = world("storage-activate");
    // Something to lose: a change made after the presets were saved.
    rig.add_input("after the presets");
    rig.probe.clear_calls();
    updated(
        refused_then_accepted(
            &rig,
            Command::UpdatePreset {
                id: w.q.clone(),
                activate: true,
                make_default: None,
            },
            is_update,
        ),
        &w.q,
    );
    // After the accepted activation, the preset's auto_start stream runs.
    assert_eq!(rig.state(&w.c), StreamState::Active);
    assert_eq!(rig.state(&w.a.stream), StreamState::Stopped);
}

#[test]
fn a_failed_start_leaves_the_stream_stopped() {
    let (rig, w) = world("storage-start");
    updated(
        refused_then_accepted(&rig, Command::StartStream(w.b.stream.clone()), is_start),
        &w.b.stream,
    );
    assert_eq!(rig.state(&w.b.stream), StreamState::Active);
}

#[test]
fn a_failed_start_of_an_auto_started_stream_leaves_it_running() {
    // C runs since boot (auto_start) but is not in the running set: the
    // start has to be saved, and when that fails C must keep running.
    let (rig, w) = world("storage-start-auto");
    updated(
        refused_then_accepted(&rig, Command::StartStream(w.c.clone()), is_start),
        &w.c,
    );
    assert_eq!(rig.state(&w.c), StreamState::Active);
}

#[test]
fn a_failed_stop_leaves_the_stream_running() {
    let (rig, w) = world("storage-stop");
    updated(
        refused_then_accepted(&rig, Command::StopStream(w.a.stream.clone()), is_stop),
        &w.a.stream,
    );
    assert_eq!(rig.state(&w.a.stream), StreamState::Stopped);
}

#[test]
fn no_op_commands_need_no_storage() {
    let (rig, w) = world("storage-no-op");
    break_storage(rig.dir());
    // Already running / already stopped: nothing to save.
    updated(
        rig.call(Command::StartStream(w.a.stream.clone())),
        &w.a.stream,
    );
    updated(
        rig.call(Command::StopStream(w.b.stream.clone())),
        &w.b.stream,
    );
    // Reads.
    rig.snapshot();
    rig.call(Command::System).unwrap();
    heal_storage(rig.dir());
}

#[test]
fn nothing_refused_reaches_the_disk() {
    let (mut rig, w) = world("storage-disk");
    let before = rig.snapshot();
    break_storage(rig.dir());
    let commands = [
        Command::CreateInput(input("x")),
        Command::ReplaceInput(w.spare_input.clone(), input("x")),
        Command::Delete(Kind::Output, w.spare_output.clone()),
        Command::StartStream(w.b.stream.clone()),
        Command::StopStream(w.a.stream.clone()),
        Command::SavePreset { name: "x".into() },
        Command::UpdatePreset {
            id: w.q.clone(),
            activate: true,
            make_default: Some(true),
        },
        Command::Delete(Kind::Preset, w.p.clone()),
    ];
    for command in commands {
        assert!(rig.call(command.clone()).is_err(), "{command:?}");
    }
    heal_storage(rig.dir());
    // With P the default, a reboot activates P: compare against that.
    rig.update_preset(&w.p, false, Some(false));
    rig.reboot();
    let after = rig.snapshot();
    assert_eq!(after.inputs, before.inputs);
    assert_eq!(after.outputs, before.outputs);
    assert_eq!(after.transcoders, before.transcoders);
    assert_eq!(
        after.presets.iter().map(|p| &p.1).collect::<Vec<_>>(),
        before.presets.iter().map(|p| &p.1).collect::<Vec<_>>()
    );
    assert_eq!(after.streams, before.streams, "same running streams");
}

#[test]
fn a_data_directory_replaced_by_a_file_fails_cleanly() {
    let (rig, w) = world("storage-dir-gone");
    let before = rig.snapshot();
    let dir = rig.dir().to_path_buf();
    let aside = rig.aside();
    fs::rename(&dir, &aside).expect("move the data directory aside");
    fs::write(&dir, b"not a directory").expect("put a file in its place");

    let reply = rig.call(Command::CreateInput(input("x")));
    assert!(matches!(reply, Err(ref e) if is_create(e)), "{reply:?}");
    let reply = rig.call(Command::StopStream(w.a.stream.clone()));
    assert!(matches!(reply, Err(ref e) if is_stop(e)), "{reply:?}");
    let reply = rig.call(Command::StartStream(w.b.stream.clone()));
    assert!(matches!(reply, Err(ref e) if is_start(e)), "{reply:?}");
    assert_eq!(rig.snapshot(), before);

    fs::remove_file(&dir).unwrap();
    fs::rename(&aside, &dir).unwrap();
    created(rig.call(Command::CreateInput(input("x"))));
}

#[test]
fn create_and_start_whose_start_cannot_be_saved_records_why() {
    // The stream is saved, then the disk fails while the engine starts it:
    // the stream exists (Created), is stopped, and says why.
    let mut rig = Rig::new("storage-create-start");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let dir = rig.dir().to_path_buf();
    rig.probe.lock().on_start = Some(Box::new(move |_| break_storage(&dir)));
    let id = created(rig.call(Command::CreateStream {
        config: stream("S", &input, Some(&tx), &[&out]),
        start: true,
    }));
    assert_eq!(rig.probe.starts(), vec![id.clone()]);
    assert!(!rig.probe.is_running(&id), "the unsaved start was undone");
    let view = rig.get_stream(&id);
    assert_eq!(view.state, StreamState::Stopped);
    let why = view.last_error.expect("the reason is shown");
    assert!(why.contains("could not be saved"), "{why}");

    // The stream itself was saved; its start was not.
    rig.probe.lock().on_start = None;
    heal_storage(rig.dir());
    rig.reboot();
    assert_eq!(rig.state(&id), StreamState::Stopped);
    assert!(rig.probe.calls().is_empty());
}

#[test]
fn a_start_that_cannot_be_saved_is_undone() {
    let rig = Rig::new("storage-start-midway");
    let c = rig.add_chain("S");
    let dir = rig.dir().to_path_buf();
    rig.probe.lock().on_start = Some(Box::new(move |_| break_storage(&dir)));
    let reply = rig.call(Command::StartStream(c.stream.clone()));
    assert!(matches!(reply, Err(ref e) if is_start(e)), "{reply:?}");
    assert_eq!(
        rig.probe.calls(),
        [Call::Start(c.stream.clone()), Call::Stop(c.stream.clone())]
    );
    assert_eq!(rig.state(&c.stream), StreamState::Stopped);
    heal_storage(rig.dir());
}
