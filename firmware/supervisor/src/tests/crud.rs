//! Create, list, get, replace and delete of every kind.

use makara_config::Id;

use super::*;
use crate::{DeleteError, LookupError, ResourceState, UpdateError};

#[track_caller]
fn assert_lookup_not_found(rig: &Rig, kind: Kind, id: &Id) {
    match rig.call(Command::Get(kind, id.clone())) {
        Err(CommandError::Lookup(LookupError::NotFound { kind: k, id: got })) => {
            assert_eq!(k, kind);
            assert_eq!(&got, id);
        }
        other => panic!("expected NotFound for {kind:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_update_not_found(reply: Result<Reply, CommandError>, kind: Kind, id: &Id) {
    match reply {
        Err(CommandError::Update(UpdateError::NotFound { kind: k, id: got })) => {
            assert_eq!(k, kind);
            assert_eq!(&got, id);
        }
        other => panic!("expected UpdateError::NotFound for {kind:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_delete_not_found(reply: Result<Reply, CommandError>, kind: Kind, id: &Id) {
    match reply {
        Err(CommandError::Delete(DeleteError::NotFound { kind: k, id: got })) => {
            assert_eq!(k, kind);
            assert_eq!(&got, id);
        }
        other => panic!("expected DeleteError::NotFound for {kind:?}, got {other:?}"),
    }
}

#[test]
fn a_fresh_appliance_is_empty() {
    let rig = Rig::new("fresh");
    assert!(rig.inputs().is_empty());
    assert!(rig.outputs().is_empty());
    assert!(rig.transcoders().is_empty());
    assert!(rig.streams().is_empty());
    assert!(rig.presets().is_empty());
    assert!(rig.probe.calls().is_empty(), "nothing to boot");
}

#[test]
fn inputs_create_get_replace_delete() {
    let rig = Rig::new("input-crud");
    let id = rig.add_input("Camera 1");
    let view = rig.get_input(&id);
    assert_eq!(view.id, id);
    assert_eq!(view.config, input("Camera 1"));
    assert_eq!(view.state, ResourceState::Unset);

    let new = input_at("Camera 1b", "udp://239.9.9.9:6000");
    updated(
        rig.call(Command::ReplaceInput(id.clone(), new.clone())),
        &id,
    );
    assert_eq!(rig.get_input(&id).config, new);
    assert_eq!(rig.inputs().len(), 1);

    deleted(rig.call(Command::Delete(Kind::Input, id.clone())));
    assert_lookup_not_found(&rig, Kind::Input, &id);
    assert!(rig.inputs().is_empty());
    assert_delete_not_found(
        rig.call(Command::Delete(Kind::Input, id.clone())),
        Kind::Input,
        &id,
    );
}

#[test]
fn outputs_create_get_replace_delete() {
    let rig = Rig::new("output-crud");
    let id = rig.add_output("Out 1");
    let view = rig.get_output(&id);
    assert_eq!(view.id, id);
    assert_eq!(view.config, output("Out 1"));
    assert_eq!(view.state, ResourceState::Unset);

    let new = output_at("Out 1b", "udp://10.0.0.9:1234");
    updated(
        rig.call(Command::ReplaceOutput(id.clone(), new.clone())),
        &id,
    );
    assert_eq!(rig.get_output(&id).config, new);
    assert_eq!(rig.outputs().len(), 1);

    deleted(rig.call(Command::Delete(Kind::Output, id.clone())));
    assert_lookup_not_found(&rig, Kind::Output, &id);
    assert!(rig.outputs().is_empty());
    assert_delete_not_found(
        rig.call(Command::Delete(Kind::Output, id.clone())),
        Kind::Output,
        &id,
    );
}

#[test]
fn transcoders_create_get_replace_delete() {
    let rig = Rig::new("transcoder-crud");
    let id = rig.add_transcoder("HD");
    let view = rig.get_transcoder(&id);
    assert_eq!(view.id, id);
    assert_eq!(view.config, transcoder("HD"));
    assert_eq!(view.state, ResourceState::Unset);

    let new = makara_config::TranscoderRequest {
        name: Some("SD".into()),
        video_bitrate_kbps: Some(1500),
        ..Default::default()
    }
    .validate()
    .unwrap();
    updated(
        rig.call(Command::ReplaceTranscoder(id.clone(), new.clone())),
        &id,
    );
    assert_eq!(rig.get_transcoder(&id).config, new);
    assert_eq!(rig.transcoders().len(), 1);

    deleted(rig.call(Command::Delete(Kind::Transcoder, id.clone())));
    assert_lookup_not_found(&rig, Kind::Transcoder, &id);
    assert!(rig.transcoders().is_empty());
    assert_delete_not_found(
        rig.call(Command::Delete(Kind::Transcoder, id.clone())),
        Kind::Transcoder,
        &id,
    );
}

#[test]
fn streams_create_get_replace_delete() {
    let rig = Rig::new("stream-crud");
    let c = rig.add_chain("S1");
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.id, c.stream);
    assert_eq!(
        view.config,
        stream("S1", &c.input, Some(&c.transcoder), &[&c.output])
    );
    assert_eq!(view.state, StreamState::Stopped);
    assert_eq!(view.last_error, None);
    assert_eq!(view.input_name, "S1 in");
    assert_eq!(view.transcoder_name.as_deref(), Some("S1 tx"));
    assert_eq!(view.output_names, vec!["S1 out".to_string()]);
    assert_eq!(view.passthru_name, None);
    assert!(rig.probe.calls().is_empty(), "creating does not start");

    // Replace with a bypass stream to a second output.
    let out2 = rig.add_output("second");
    let mut new = stream("S1 bypass", &c.input, None, &[&c.output, &out2]);
    new.description = Some("edited".into());
    updated(
        rig.call(Command::ReplaceStream(c.stream.clone(), new.clone())),
        &c.stream,
    );
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.config, new);
    assert_eq!(view.transcoder_name, None);
    assert_eq!(
        view.output_names,
        vec!["S1 out".to_string(), "second".to_string()]
    );

    deleted(rig.call(Command::Delete(Kind::Stream, c.stream.clone())));
    assert_lookup_not_found(&rig, Kind::Stream, &c.stream);
    assert!(rig.streams().is_empty());
    assert_delete_not_found(
        rig.call(Command::Delete(Kind::Stream, c.stream.clone())),
        Kind::Stream,
        &c.stream,
    );
    // Its resources are free again.
    assert_eq!(rig.get_input(&c.input).state, ResourceState::Unset);
    deleted(rig.call(Command::Delete(Kind::Input, c.input)));
    deleted(rig.call(Command::Delete(Kind::Transcoder, c.transcoder)));
    deleted(rig.call(Command::Delete(Kind::Output, c.output)));
}

#[test]
fn stream_view_names_the_passthru_output() {
    let rig = Rig::new("passthru-view");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("encoded");
    let raw = rig.add_output("raw");
    let mut config = stream("pt", &input, Some(&tx), &[&out]);
    config.mode = makara_config::StreamMode::Passthru;
    config.passthru = Some(raw.clone());
    let id = rig.add_stream(config);
    let view = rig.get_stream(&id);
    assert_eq!(view.passthru_name.as_deref(), Some("raw"));
    assert_eq!(view.output_names, vec!["encoded".to_string()]);
    // The passthru output counts as used.
    assert!(matches!(
        rig.get_output(&raw).state,
        ResourceState::Stream(StreamState::Stopped)
    ));
}

#[test]
fn unknown_ids_are_not_found_for_every_kind() {
    let rig = Rig::new("unknown");
    // Something exists, so "not found" is not "empty".
    let c = rig.add_chain("x");
    let preset = rig.save_preset("p");
    let nobody = Id::new_random();
    for kind in [
        Kind::Input,
        Kind::Output,
        Kind::Transcoder,
        Kind::Stream,
        Kind::Preset,
    ] {
        assert_lookup_not_found(&rig, kind, &nobody);
        assert_delete_not_found(
            rig.call(Command::Delete(kind, nobody.clone())),
            kind,
            &nobody,
        );
    }
    assert_update_not_found(
        rig.call(Command::ReplaceInput(nobody.clone(), input("i"))),
        Kind::Input,
        &nobody,
    );
    assert_update_not_found(
        rig.call(Command::ReplaceOutput(nobody.clone(), output("o"))),
        Kind::Output,
        &nobody,
    );
    assert_update_not_found(
        rig.call(Command::ReplaceTranscoder(nobody.clone(), transcoder("t"))),
        Kind::Transcoder,
        &nobody,
    );
    assert_update_not_found(
        rig.call(Command::ReplaceStream(
            nobody.clone(),
            stream("s", &c.input, Some(&c.transcoder), &[&c.output]),
        )),
        Kind::Stream,
        &nobody,
    );
    assert_update_not_found(
        rig.call(Command::UpdatePreset {
            id: nobody.clone(),
            activate: true,
            make_default: None,
        }),
        Kind::Preset,
        &nobody,
    );
    // An id of one kind does not find a resource of another.
    assert_lookup_not_found(&rig, Kind::Output, &c.input);
    assert_lookup_not_found(&rig, Kind::Stream, &preset);
    assert_lookup_not_found(&rig, Kind::Preset, &c.stream);
    assert_delete_not_found(
        rig.call(Command::Delete(Kind::Transcoder, c.output.clone())),
        Kind::Transcoder,
        &c.output,
    );
    assert_update_not_found(
        rig.call(Command::ReplaceOutput(c.input.clone(), output("o"))),
        Kind::Output,
        &c.input,
    );
    // Nothing changed.
    assert_eq!(rig.inputs().len(), 1);
    assert_eq!(rig.outputs().len(), 1);
    assert_eq!(rig.get_output(&c.output).config, output("x out"));
}

#[test]
fn lists_keep_creation_order() {
    let rig = Rig::new("order");
    let names = ["zulu", "alpha", "mike", "bravo", "yankee"];
    let inputs: Vec<Id> = names.iter().map(|n| rig.add_input(n)).collect();
    let outputs: Vec<Id> = names.iter().map(|n| rig.add_output(n)).collect();
    let transcoders: Vec<Id> = names.iter().map(|n| rig.add_transcoder(n)).collect();
    let streams: Vec<Id> = names
        .iter()
        .map(|n| rig.add_stream(stream(n, &inputs[0], Some(&transcoders[0]), &[&outputs[0]])))
        .collect();
    let presets: Vec<Id> = names.iter().map(|n| rig.save_preset(n)).collect();

    assert_eq!(ids(&rig.inputs(), |v| &v.id), inputs);
    assert_eq!(ids(&rig.outputs(), |v| &v.id), outputs);
    assert_eq!(ids(&rig.transcoders(), |v| &v.id), transcoders);
    assert_eq!(ids(&rig.streams(), |v| &v.id), streams);
    assert_eq!(ids(&rig.presets(), |v| &v.id), presets);
    let listed: Vec<String> = rig.inputs().into_iter().map(|v| v.config.name).collect();
    assert_eq!(listed, names);

    // Replacing keeps the place; deleting closes the gap; new ones go last.
    updated(
        rig.call(Command::ReplaceInput(inputs[1].clone(), input("ALPHA"))),
        &inputs[1],
    );
    deleted(rig.call(Command::Delete(Kind::Input, inputs[2].clone())));
    let last = rig.add_input("new");
    let listed: Vec<String> = rig.inputs().into_iter().map(|v| v.config.name).collect();
    assert_eq!(listed, ["zulu", "ALPHA", "bravo", "yankee", "new"]);
    assert_eq!(rig.inputs()[4].id, last);

    updated(
        rig.call(Command::ReplaceStream(
            streams[0].clone(),
            stream("first", &inputs[0], None, &[&outputs[1]]),
        )),
        &streams[0],
    );
    deleted(rig.call(Command::Delete(Kind::Stream, streams[3].clone())));
    deleted(rig.call(Command::Delete(Kind::Preset, presets[0].clone())));
    let listed: Vec<String> = rig.streams().into_iter().map(|v| v.config.name).collect();
    assert_eq!(listed, ["first", "alpha", "mike", "yankee"]);
    let listed: Vec<String> = rig.presets().into_iter().map(|v| v.name).collect();
    assert_eq!(listed, ["alpha", "mike", "bravo", "yankee"]);
}

#[test]
fn created_ids_are_distinct_across_kinds() {
    let rig = Rig::new("distinct");
    let c = rig.add_chain("a");
    let p = rig.save_preset("p");
    let mut all = vec![c.input, c.output, c.transcoder, c.stream, p];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5);
}

#[test]
fn handles_from_many_threads_all_get_answers() {
    let rig = Rig::new("threads");
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let handle = rig.handle().clone();
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| created(handle.call(Command::CreateInput(input(&format!("{t}-{i}"))))))
                    .collect::<Vec<Id>>()
            })
        })
        .collect();
    let mut made: Vec<Id> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    let mut listed = ids(&rig.inputs(), |v| &v.id);
    assert_eq!(listed.len(), 40);
    made.sort();
    listed.sort();
    assert_eq!(made, listed);
}

#[test]
fn kinds_are_named_in_the_supervisors_words() {
    let names = [
        Kind::Input,
        Kind::Output,
        Kind::Transcoder,
        Kind::Stream,
        Kind::Preset,
    ]
    .map(|k| k.to_string());
    assert_eq!(names, ["input", "output", "transcoder", "stream", "preset"]);
}

#[test]
fn error_messages_name_the_resource() {
    let id = Id::new_random();
    let e = CommandError::from(LookupError::NotFound {
        kind: Kind::Transcoder,
        id: id.clone(),
    });
    assert_eq!(e.to_string(), format!("no transcoder with id {id}"));
    let e = DeleteError::InUse {
        kind: Kind::Output,
        id: id.clone(),
        stream: "News".into(),
    };
    assert!(e.to_string().contains("'News'"), "{e}");
    assert!(e.to_string().starts_with("output "), "{e}");
}

/// The engine is asked whether a hardware encoder is there before a
/// transcoder that needs one is saved; the test engine encodes in
/// software only, so it is refused, naming the field, and nothing is kept.
#[test]
fn a_transcoder_for_missing_hardware_is_refused_and_not_kept() {
    let rig = Rig::new("hardware");
    let mut qsv = transcoder("qsv");
    qsv.encoder_type = makara_config::EncoderType::Qsv;
    match rig.call(Command::CreateTranscoder(qsv.clone())) {
        Err(CommandError::Create(crate::CreateError::Invalid(e))) => {
            assert_eq!(e.field(), "encoderType");
            assert!(e.to_string().contains("software only"), "{e}");
        }
        other => panic!("expected encoderType to be refused, got {other:?}"),
    }
    let id = rig.add_transcoder("software");
    match rig.call(Command::ReplaceTranscoder(id.clone(), qsv)) {
        Err(CommandError::Update(UpdateError::Invalid(e))) => {
            assert_eq!(e.field(), "encoderType")
        }
        other => panic!("expected encoderType to be refused, got {other:?}"),
    }
    let kept = rig.call(Command::Get(Kind::Transcoder, id)).unwrap();
    assert!(format!("{kept:?}").contains("Unset"), "{kept:?}");
}
