//! Reads never wait for the disk: while a save is held, lists, gets and the
//! reports are answered at once, from the state as last saved.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::*;

/// Runs `read` on another thread; fails the test if it takes more than
/// 5 s (the save it could wait for is held at `gate` until the test lets
/// it go, which a failure does first, so that the rig can shut down).
#[track_caller]
fn answered_promptly<T: Send + 'static>(
    gate: &gate::Gate,
    read: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(read());
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(answer) => answer,
        Err(_) => {
            gate.open();
            panic!("a read waited for a save in flight");
        }
    }
}

#[test]
fn reads_are_answered_while_a_save_is_held() {
    let (rig, gate) = Rig::gated("reads-held-save");
    let saved = rig.add_input("saved");
    let chain = rig.add_chain("S");
    rig.start(&chain.stream);
    gate.close();
    let writer = {
        let handle = rig.handle().clone();
        thread::spawn(move || handle.call(Command::CreateInput(input("pending"))))
    };
    gate.wait_for_held_save();

    let handle = rig.handle().clone();
    let (inputs, got, stream, system) = answered_promptly(&gate, move || {
        (
            handle.call(Command::List(Kind::Input)),
            handle.call(Command::Get(Kind::Input, saved)),
            handle.call(Command::Get(Kind::Stream, chain.stream)),
            handle.call(Command::System),
        )
    });
    // The create is not on disk yet, so no read shows it.
    let Ok(Reply::Inputs(inputs)) = inputs else {
        panic!("expected inputs, got {inputs:?}")
    };
    let names: Vec<_> = inputs.iter().map(|v| v.config.name.as_str()).collect();
    assert_eq!(names, ["saved", "S in"]);
    assert!(matches!(got, Ok(Reply::Input(v)) if v.config.name == "saved"));
    // Stream states come from the engine, live.
    assert!(matches!(stream, Ok(Reply::Stream(v)) if v.state == StreamState::Active));
    assert!(matches!(system, Ok(Reply::System(_))));

    gate.open();
    let pending = created(writer.join().expect("writer"));
    // Once acknowledged, the change is what every read shows.
    assert_eq!(rig.get_input(&pending).config.name, "pending");
    assert_eq!(rig.inputs().len(), 3);
}

#[test]
fn a_failed_save_is_never_shown() {
    let (rig, gate) = Rig::gated("reads-failed-save");
    rig.add_input("short");
    gate.set_full(true);
    let reply = rig.call(Command::CreateInput(input("a longer document")));
    assert!(
        matches!(
            reply,
            Err(CommandError::Create(crate::CreateError::Storage(_)))
        ),
        "{reply:?}"
    );
    let names: Vec<_> = rig.inputs().into_iter().map(|v| v.config.name).collect();
    assert_eq!(names, ["short"]);
    assert_eq!(gate.saves(), 2);
}

/// A ping is the supervisor thread's own answer, not the saved state's:
/// while the thread waits on a save, reads are answered and a ping is not.
#[test]
fn a_ping_waits_for_the_supervisor_thread() {
    let (rig, gate) = Rig::gated("reads-ping");
    gate.close();
    let writer = {
        let handle = rig.handle().clone();
        thread::spawn(move || handle.call(Command::CreateInput(input("pending"))))
    };
    gate.wait_for_held_save();
    let (tx, rx) = mpsc::channel();
    let handle = rig.handle().clone();
    thread::spawn(move || {
        let _ = tx.send(handle.call(Command::Ping));
    });
    let early = rx.recv_timeout(Duration::from_millis(300));
    gate.open();
    assert!(
        early.is_err(),
        "a ping was answered while the thread was busy: {early:?}"
    );
    let pong = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the ping's answer");
    assert!(matches!(pong, Ok(Reply::Pong)), "{pong:?}");
    created(writer.join().expect("writer"));
}
