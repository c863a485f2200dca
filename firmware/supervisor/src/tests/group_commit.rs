//! Group commit: writes that queue up while a save runs are saved together,
//! and none is acknowledged before that save is done.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::*;
use crate::document::Store;
use crate::{CreateError, DeleteError};

/// Time for threads that only send on a channel to have sent.
const QUEUE_UP: Duration = Duration::from_millis(300);

/// The saved document, read from disk as a reboot would.
fn on_disk(dir: &Path) -> crate::document::Document {
    Store::open(dir).expect("open").1
}

#[test]
fn writes_queued_behind_a_save_share_one_save_and_wait_for_it() {
    const WRITERS: usize = 16;
    let (rig, gate) = Rig::gated("group-commit");
    let used = rig.add_input("in");
    let before = gate.saves();
    gate.close();
    // The first write holds the supervisor thread in its save...
    let first = {
        let handle = rig.handle().clone();
        thread::spawn(move || {
            handle.call(Command::CreateInput(input_at(
                "first",
                "udp://239.1.1.2:5000",
            )))
        })
    };
    gate.wait_for_held_save();
    // ...while the others queue up behind it, with two that fail their
    // own checks among them.
    let acked = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let handle = rig.handle().clone();
            let acked = Arc::clone(&acked);
            let dir = rig.dir().to_path_buf();
            thread::spawn(move || {
                let id = created(handle.call(Command::CreateInput(input(&format!("w{i}")))));
                acked.fetch_add(1, Ordering::SeqCst);
                // Acknowledged, so already durable.
                assert!(
                    on_disk(&dir).current.inputs.contains(&id),
                    "w{i} acknowledged before saved"
                );
            })
        })
        .collect();
    let unknown = rig.handle().clone();
    let bad_delete =
        thread::spawn(move || unknown.call(Command::Delete(Kind::Output, Id::new_random())));
    let dangling = rig.handle().clone();
    let output = Id::new_random();
    let bad_stream = thread::spawn(move || {
        dangling.call(Command::CreateStream {
            config: stream("bad", &used, None, &[&output]),
            start: false,
        })
    });
    thread::sleep(QUEUE_UP);

    gate.pass_one();
    created(first.join().expect("first"));
    // The queued writes are carried out and held at their (one) save.
    gate.wait_for_held_save();
    thread::sleep(QUEUE_UP);
    assert_eq!(
        acked.load(Ordering::SeqCst),
        0,
        "acknowledged before the save"
    );
    gate.open();
    for w in writers {
        w.join().expect("writer");
    }
    let reply = bad_delete.join().expect("delete");
    assert!(
        matches!(
            reply,
            Err(CommandError::Delete(DeleteError::NotFound { .. }))
        ),
        "{reply:?}"
    );
    let reply = bad_stream.join().expect("stream");
    assert!(
        matches!(
            reply,
            Err(CommandError::Create(CreateError::UnknownReference { .. }))
        ),
        "{reply:?}"
    );

    let saves = gate.saves() - before;
    eprintln!("{} writes took {saves} saves", WRITERS + 1);
    assert!(
        saves < WRITERS / 2,
        "{saves} saves for {} writes",
        WRITERS + 1
    );
    assert_eq!(rig.inputs().len(), WRITERS + 2);
    assert_eq!(on_disk(rig.dir()).current.inputs.len(), WRITERS + 2);
}

#[test]
fn when_a_group_cannot_be_saved_each_write_is_tried_alone() {
    let (rig, gate) = Rig::gated("group-full");
    let a = rig.add_input("a");
    let b = rig.add_input("b");
    let c = rig.add_input("c");
    gate.close();
    // A delete holds the thread; a preset save and another delete queue up.
    let hold = {
        let handle = rig.handle().clone();
        thread::spawn(move || handle.call(Command::Delete(Kind::Input, c)))
    };
    gate.wait_for_held_save();
    // A preset copies every resource: more than the delete removes.
    let grow = {
        let handle = rig.handle().clone();
        thread::spawn(move || handle.call(Command::SavePreset { name: "P".into() }))
    };
    let shrink = {
        let handle = rig.handle().clone();
        let a = a.clone();
        thread::spawn(move || handle.call(Command::Delete(Kind::Input, a)))
    };
    thread::sleep(QUEUE_UP);
    // The disk fills: only saves that do not grow the document work.
    gate.set_full(true);
    let before = gate.saves();
    gate.open();

    deleted(hold.join().expect("hold"));
    let reply = grow.join().expect("grow");
    assert!(
        matches!(reply, Err(CommandError::Create(CreateError::Storage(_)))),
        "{reply:?}"
    );
    deleted(shrink.join().expect("shrink"));
    // The hold's save, the group's failed one, then each alone.
    gate.wait_for_saves(before + 4);
    assert_eq!(gate.saves(), before + 4);
    let ids: Vec<_> = rig.inputs().into_iter().map(|v| v.id).collect();
    assert_eq!(ids, std::slice::from_ref(&b));
    assert!(rig.presets().is_empty());
    let saved = on_disk(rig.dir());
    assert_eq!(
        saved
            .current
            .inputs
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<Vec<_>>(),
        [b]
    );
}
