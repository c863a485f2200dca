//! Streams and the resources they reference: dangling references, and what
//! may be edited or deleted while a stream uses or runs them.

use makara_config::{Id, StreamMode};

use super::*;
use crate::{CreateError, DeleteError, ResourceState, UpdateError};

/// A stream config with one reference replaced by a random id.
fn dangling_variants(c: &Chain, extra_output: &Id) -> Vec<(&'static str, Kind, StreamConfig)> {
    let good = stream("s", &c.input, Some(&c.transcoder), &[&c.output]);
    let ghost = Id::new_random();
    let mut bad_input = good.clone();
    bad_input.input = ghost.clone();
    let mut bad_transcoder = good.clone();
    bad_transcoder.transcoder = Some(ghost.clone());
    let mut bad_output = good.clone();
    bad_output.outputs = vec![c.output.clone(), ghost.clone()];
    let mut bad_passthru = good.clone();
    bad_passthru.mode = StreamMode::Passthru;
    bad_passthru.outputs = vec![extra_output.clone()];
    bad_passthru.passthru = Some(ghost);
    vec![
        ("input", Kind::Input, bad_input),
        ("transcoder", Kind::Transcoder, bad_transcoder),
        ("outputs", Kind::Output, bad_output),
        ("passthru", Kind::Output, bad_passthru),
    ]
}

#[test]
fn create_stream_with_a_dangling_reference_names_the_field() {
    let rig = Rig::new("dangling-create");
    let c = rig.add_chain("base");
    let extra = rig.add_output("extra");
    for (field, kind, config) in dangling_variants(&c, &extra) {
        for start in [false, true] {
            let reply = rig.call(Command::CreateStream {
                config: config.clone(),
                start,
            });
            match reply {
                Err(CommandError::Create(CreateError::UnknownReference {
                    field: f,
                    kind: k,
                    ..
                })) => {
                    assert_eq!(f, field);
                    assert_eq!(k, kind);
                }
                other => panic!("{field}: expected UnknownReference, got {other:?}"),
            }
        }
    }
    assert_eq!(rig.streams().len(), 1, "nothing was created");
    assert!(rig.probe.calls().is_empty(), "nothing was started");
}

#[test]
fn unknown_reference_message_names_field_and_id() {
    let rig = Rig::new("dangling-message");
    let c = rig.add_chain("base");
    let ghost = Id::new_random();
    let mut config = stream("s", &c.input, Some(&c.transcoder), &[&c.output]);
    config.transcoder = Some(ghost.clone());
    let e = rig
        .call(Command::CreateStream {
            config,
            start: false,
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("transcoder: no transcoder with id {ghost}")
    );
}

#[test]
fn replace_stream_with_a_dangling_reference_names_the_field() {
    let rig = Rig::new("dangling-replace");
    let c = rig.add_chain("base");
    let extra = rig.add_output("extra");
    let before = rig.get_stream(&c.stream).config;
    for (field, kind, config) in dangling_variants(&c, &extra) {
        match rig.call(Command::ReplaceStream(c.stream.clone(), config)) {
            Err(CommandError::Update(UpdateError::UnknownReference {
                field: f, kind: k, ..
            })) => {
                assert_eq!(f, field);
                assert_eq!(k, kind);
            }
            other => panic!("{field}: expected UnknownReference, got {other:?}"),
        }
    }
    assert_eq!(rig.get_stream(&c.stream).config, before);
}

#[test]
fn a_reference_to_a_resource_of_another_kind_dangles() {
    let rig = Rig::new("dangling-kind");
    let c = rig.add_chain("base");
    // The output's id given as the input.
    let config = stream("s", &c.output, Some(&c.transcoder), &[&c.output]);
    assert!(matches!(
        rig.call(Command::CreateStream {
            config,
            start: false
        }),
        Err(CommandError::Create(CreateError::UnknownReference {
            field: "input",
            ..
        }))
    ));
}

#[test]
fn resources_used_by_a_stream_cannot_be_deleted() {
    let rig = Rig::new("delete-in-use");
    let c = rig.add_chain("News");
    let raw = rig.add_output("raw");
    let mut pt = stream("Raw copy", &c.input, Some(&c.transcoder), &[&c.output]);
    pt.mode = StreamMode::Passthru;
    pt.passthru = Some(raw.clone());
    rig.add_stream(pt);

    for (kind, id) in [
        (Kind::Input, &c.input),
        (Kind::Transcoder, &c.transcoder),
        (Kind::Output, &c.output),
    ] {
        match rig.call(Command::Delete(kind, id.clone())) {
            Err(CommandError::Delete(DeleteError::InUse {
                kind: k,
                id: got,
                stream,
            })) => {
                assert_eq!(k, kind);
                assert_eq!(&got, id);
                assert_eq!(stream, "News", "the first stream using it");
            }
            other => panic!("{kind:?}: expected InUse, got {other:?}"),
        }
    }
    // Used only as a passthru output.
    match rig.call(Command::Delete(Kind::Output, raw.clone())) {
        Err(CommandError::Delete(DeleteError::InUse { stream, .. })) => {
            assert_eq!(stream, "Raw copy");
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert_eq!(rig.inputs().len(), 1);
    assert_eq!(rig.outputs().len(), 2);
    assert_eq!(rig.transcoders().len(), 1);

    // Once no stream uses them, they go.
    for s in rig.streams() {
        deleted(rig.call(Command::Delete(Kind::Stream, s.id)));
    }
    deleted(rig.call(Command::Delete(Kind::Input, c.input)));
    deleted(rig.call(Command::Delete(Kind::Transcoder, c.transcoder)));
    deleted(rig.call(Command::Delete(Kind::Output, c.output)));
    deleted(rig.call(Command::Delete(Kind::Output, raw)));
}

#[test]
fn a_stopped_streams_resources_can_be_edited() {
    let rig = Rig::new("edit-stopped");
    let c = rig.add_chain("s");
    updated(
        rig.call(Command::ReplaceInput(c.input.clone(), input("in2"))),
        &c.input,
    );
    updated(
        rig.call(Command::ReplaceOutput(c.output.clone(), output("out2"))),
        &c.output,
    );
    updated(
        rig.call(Command::ReplaceTranscoder(
            c.transcoder.clone(),
            transcoder("tx2"),
        )),
        &c.transcoder,
    );
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.input_name, "in2");
    assert_eq!(view.transcoder_name.as_deref(), Some("tx2"));
    assert_eq!(view.output_names, ["out2"]);
}

#[test]
fn a_running_stream_locks_itself_and_its_resources() {
    let rig = Rig::new("running-lock");
    let c = rig.add_chain("Live");
    let free = rig.add_chain("Idle");
    rig.start(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Active);

    // Deleting the stream.
    match rig.call(Command::Delete(Kind::Stream, c.stream.clone())) {
        Err(CommandError::Delete(DeleteError::Running(name))) => assert_eq!(name, "Live"),
        other => panic!("expected Running, got {other:?}"),
    }
    // Editing the stream.
    let edit = stream("Live 2", &c.input, Some(&c.transcoder), &[&c.output]);
    match rig.call(Command::ReplaceStream(c.stream.clone(), edit.clone())) {
        Err(CommandError::Update(UpdateError::Running(name))) => assert_eq!(name, "Live"),
        other => panic!("expected Running, got {other:?}"),
    }
    // Editing its resources.
    let attempts = [
        (
            Kind::Input,
            c.input.clone(),
            Command::ReplaceInput(c.input.clone(), input("x")),
        ),
        (
            Kind::Output,
            c.output.clone(),
            Command::ReplaceOutput(c.output.clone(), output("x")),
        ),
        (
            Kind::Transcoder,
            c.transcoder.clone(),
            Command::ReplaceTranscoder(c.transcoder.clone(), transcoder("x")),
        ),
    ];
    for (kind, id, command) in attempts {
        match rig.call(command) {
            Err(CommandError::Update(UpdateError::InUse {
                kind: k,
                id: got,
                stream,
            })) => {
                assert_eq!(k, kind);
                assert_eq!(got, id);
                assert_eq!(stream, "Live");
            }
            other => panic!("{kind:?}: expected InUse, got {other:?}"),
        }
    }
    // Deleting its resources: used, so refused (by the stream's name).
    for (kind, id) in [
        (Kind::Input, &c.input),
        (Kind::Output, &c.output),
        (Kind::Transcoder, &c.transcoder),
    ] {
        assert!(matches!(
            rig.call(Command::Delete(kind, id.clone())),
            Err(CommandError::Delete(DeleteError::InUse { ref stream, .. })) if stream == "Live"
        ));
    }
    // Nothing changed.
    assert_eq!(rig.get_input(&c.input).config, input("Live in"));
    assert_eq!(rig.get_output(&c.output).config, output("Live out"));
    assert_eq!(
        rig.get_transcoder(&c.transcoder).config,
        transcoder("Live tx")
    );
    assert_eq!(rig.get_stream(&c.stream).config.name, "Live");

    // The other, stopped stream and its resources are not locked.
    updated(
        rig.call(Command::ReplaceInput(free.input.clone(), input("idle in"))),
        &free.input,
    );
    updated(
        rig.call(Command::ReplaceStream(
            free.stream.clone(),
            stream(
                "Idle 2",
                &free.input,
                Some(&free.transcoder),
                &[&free.output],
            ),
        )),
        &free.stream,
    );

    // Once stopped, everything can be edited, then deleted.
    rig.stop(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Stopped);
    updated(
        rig.call(Command::ReplaceInput(c.input.clone(), input("x"))),
        &c.input,
    );
    updated(
        rig.call(Command::ReplaceOutput(c.output.clone(), output("x"))),
        &c.output,
    );
    updated(
        rig.call(Command::ReplaceTranscoder(
            c.transcoder.clone(),
            transcoder("x"),
        )),
        &c.transcoder,
    );
    updated(
        rig.call(Command::ReplaceStream(c.stream.clone(), edit.clone())),
        &c.stream,
    );
    assert_eq!(rig.get_stream(&c.stream).config, edit);
    deleted(rig.call(Command::Delete(Kind::Stream, c.stream.clone())));
}

#[test]
fn a_shared_resource_is_locked_by_any_running_user() {
    let rig = Rig::new("shared-lock");
    let c = rig.add_chain("first");
    // A second stream on the same input and transcoder, another output.
    let out2 = rig.add_output("out2");
    let second = rig.add_stream(stream("second", &c.input, Some(&c.transcoder), &[&out2]));
    rig.start(&second);
    match rig.call(Command::ReplaceInput(c.input.clone(), input("x"))) {
        Err(CommandError::Update(UpdateError::InUse { stream, .. })) => {
            assert_eq!(stream, "second", "names the running user, not the first");
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    // The first stream's own output is not used by a running stream.
    updated(
        rig.call(Command::ReplaceOutput(c.output.clone(), output("x"))),
        &c.output,
    );
    // And the first stream itself is stopped, so it can be edited.
    updated(
        rig.call(Command::ReplaceStream(
            c.stream.clone(),
            stream("first'", &c.input, Some(&c.transcoder), &[&c.output]),
        )),
        &c.stream,
    );
}

#[test]
fn a_waiting_stream_counts_as_running() {
    let rig = Rig::new("waiting-lock");
    rig.probe.set_start_state(StreamState::Waiting);
    let c = rig.add_chain("w");
    rig.start(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Waiting);
    assert_eq!(
        rig.get_input(&c.input).state,
        ResourceState::Stream(StreamState::Waiting)
    );
    assert!(matches!(
        rig.call(Command::ReplaceOutput(c.output.clone(), output("x"))),
        Err(CommandError::Update(UpdateError::InUse { .. }))
    ));
    assert!(matches!(
        rig.call(Command::ReplaceStream(
            c.stream.clone(),
            stream("x", &c.input, None, &[&c.output])
        )),
        Err(CommandError::Update(UpdateError::Running(_)))
    ));
    assert!(matches!(
        rig.call(Command::Delete(Kind::Stream, c.stream.clone())),
        Err(CommandError::Delete(DeleteError::Running(_)))
    ));
}

#[test]
fn a_running_stream_may_be_re_pointed_only_after_stop() {
    // Replacing a stopped stream so it no longer uses a resource frees that
    // resource for deletion.
    let rig = Rig::new("repoint");
    let c = rig.add_chain("s");
    let other_in = rig.add_input("other");
    updated(
        rig.call(Command::ReplaceStream(
            c.stream.clone(),
            stream("s", &other_in, Some(&c.transcoder), &[&c.output]),
        )),
        &c.stream,
    );
    assert_eq!(rig.get_input(&c.input).state, ResourceState::Unset);
    deleted(rig.call(Command::Delete(Kind::Input, c.input.clone())));
}
