//! Presets ("configurations"): save, activate, default, delete, boot.

use makara_config::{Id, Invalid};

use super::*;
use crate::{CreateError, DeleteError, UpdateError};

#[test]
fn save_preset_snapshots_the_current_configuration() {
    let rig = Rig::new("preset-save");
    let c = rig.add_chain("S");
    rig.add_input("spare");
    let id = rig.save_preset("Morning");
    let view = rig.get_preset(&id);
    assert_eq!(view.id, id);
    assert_eq!(view.name, "Morning");
    assert!(!view.is_default);
    assert!(view.created_unix > 1_600_000_000, "{}", view.created_unix);
    assert_eq!(
        (view.inputs, view.outputs, view.transcoders, view.streams),
        (2, 1, 1, 1)
    );
    // Saving changes nothing current.
    assert_eq!(rig.inputs().len(), 2);
    assert_eq!(rig.get_stream(&c.stream).config.name, "S");

    // Later changes do not touch the snapshot.
    deleted(rig.call(Command::Delete(Kind::Stream, c.stream.clone())));
    rig.add_output("later");
    let view = rig.get_preset(&id);
    assert_eq!((view.outputs, view.streams), (1, 1));
    assert_eq!(rig.presets().len(), 1);
}

#[test]
fn an_empty_configuration_can_be_saved() {
    let rig = Rig::new("preset-empty");
    let id = rig.save_preset("blank");
    let v = rig.get_preset(&id);
    assert_eq!(
        (v.inputs, v.outputs, v.transcoders, v.streams),
        (0, 0, 0, 0)
    );
}

#[test]
fn preset_names_are_required_and_unique() {
    let rig = Rig::new("preset-names");
    rig.save_preset("Evening");
    for name in ["Evening", "  Evening  "] {
        match rig.call(Command::SavePreset { name: name.into() }) {
            Err(CommandError::Create(CreateError::DuplicateName(n))) => assert_eq!(n, "Evening"),
            other => panic!("{name:?}: expected DuplicateName, got {other:?}"),
        }
    }
    for name in ["", "   "] {
        match rig.call(Command::SavePreset { name: name.into() }) {
            Err(CommandError::Create(CreateError::Invalid(Invalid::Missing { field }))) => {
                assert_eq!(field, "name");
            }
            other => panic!("{name:?}: expected Missing name, got {other:?}"),
        }
    }
    // Names are trimmed, and case matters.
    let id = rig.save_preset("  Night ");
    assert_eq!(rig.get_preset(&id).name, "Night");
    rig.save_preset("evening");
    assert_eq!(rig.presets().len(), 3);
    // A deleted preset's name is free again.
    deleted(rig.call(Command::Delete(Kind::Preset, id)));
    rig.save_preset("Night");
}

#[test]
fn update_preset_needs_something_to_do() {
    let rig = Rig::new("preset-nothing");
    let id = rig.save_preset("p");
    assert!(matches!(
        rig.call(Command::UpdatePreset {
            id: id.clone(),
            activate: false,
            make_default: None,
        }),
        Err(CommandError::Update(UpdateError::NothingToDo))
    ));
    // Unknown id first: NotFound, not NothingToDo.
    assert!(matches!(
        rig.call(Command::UpdatePreset {
            id: Id::new_random(),
            activate: false,
            make_default: None,
        }),
        Err(CommandError::Update(UpdateError::NotFound {
            kind: Kind::Preset,
            ..
        }))
    ));
}

#[test]
fn activate_replaces_the_configuration_keeping_ids() {
    let rig = Rig::new("preset-activate");
    let c = rig.add_chain("S");
    let preset = rig.save_preset("P");
    let saved = rig.snapshot();

    // Change everything afterwards.
    let extra = rig.add_chain("extra");
    updated(
        rig.call(Command::ReplaceInput(c.input.clone(), input("renamed"))),
        &c.input,
    );
    updated(
        rig.call(Command::ReplaceStream(
            c.stream.clone(),
            stream("S2", &c.input, None, &[&c.output]),
        )),
        &c.stream,
    );
    assert_ne!(rig.snapshot(), saved);

    rig.update_preset(&preset, true, None);
    let now = rig.snapshot();
    assert_eq!(now.inputs, saved.inputs);
    assert_eq!(now.outputs, saved.outputs);
    assert_eq!(now.transcoders, saved.transcoders);
    assert_eq!(now.streams, saved.streams);
    assert_eq!(rig.get_input(&c.input).config.name, "S in");
    for (kind, id) in [
        (Kind::Input, extra.input),
        (Kind::Output, extra.output),
        (Kind::Stream, extra.stream),
    ] {
        assert!(rig.call(Command::Get(kind, id)).is_err(), "{kind:?} gone");
    }
    // The preset itself survives activation, and can be used again.
    assert_eq!(rig.presets().len(), 1);
    assert!(!rig.get_preset(&preset).is_default);
    rig.update_preset(&preset, true, None);
    assert_eq!(rig.snapshot().inputs, saved.inputs);
}

#[test]
fn activate_stops_running_streams_and_starts_auto_start_ones() {
    let mut rig = Rig::new("preset-activate-streams");
    // In the preset: an auto_start stream and a manual one.
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let auto = rig.add_stream(auto_start(stream("auto", &input, Some(&tx), &[&out])));
    let manual = rig.add_stream(stream("manual", &input, Some(&tx), &[&out]));
    let preset = rig.save_preset("P");

    // Now running: the manual stream (also in the preset) and one that is
    // not in the preset at all.
    let other = rig.add_chain("other");
    rig.start(&manual);
    rig.start(&other.stream);
    assert_eq!(rig.state(&auto), StreamState::Stopped);
    rig.probe.clear_calls();

    rig.update_preset(&preset, true, None);
    let stops = rig.probe.stops();
    assert!(stops.contains(&manual), "{stops:?}");
    assert!(stops.contains(&other.stream), "{stops:?}");
    assert!(!rig.probe.is_running(&other.stream), "orphan left running");
    assert_eq!(rig.probe.starts(), vec![auto.clone()]);
    // Stops come before starts.
    let calls = rig.probe.calls();
    let first_start = calls
        .iter()
        .position(|c| matches!(c, Call::Start(_)))
        .unwrap();
    assert!(calls[first_start..]
        .iter()
        .all(|c| matches!(c, Call::Start(_))));

    assert_eq!(rig.state(&auto), StreamState::Active);
    assert_eq!(rig.state(&manual), StreamState::Stopped);
    assert!(rig.call(Command::Get(Kind::Stream, other.stream)).is_err());

    // The running set now is the preset's auto_start streams: the manual
    // stream, started before activation, does not come back at boot.
    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![auto]);
}

#[test]
fn activate_records_start_failures_and_still_succeeds() {
    let rig = Rig::new("preset-activate-fails");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let auto = rig.add_stream(auto_start(stream("auto", &input, Some(&tx), &[&out])));
    let preset = rig.save_preset("P");
    rig.probe.fail_all(Some(Failure::Failed));
    rig.update_preset(&preset, true, None);
    let view = rig.get_stream(&auto);
    assert_eq!(view.state, StreamState::Stopped);
    assert_eq!(
        view.last_error.as_deref(),
        Some("fake: the input is silent")
    );
}

#[test]
fn activate_clears_old_start_errors() {
    let rig = Rig::new("preset-activate-clears");
    let c = rig.add_chain("S");
    let preset = rig.save_preset("P");
    rig.probe.fail_all(Some(Failure::Failed));
    assert!(rig.call(Command::StartStream(c.stream.clone())).is_err());
    assert!(rig.get_stream(&c.stream).last_error.is_some());
    rig.update_preset(&preset, true, None);
    assert_eq!(rig.get_stream(&c.stream).last_error, None);
}

#[test]
fn only_one_preset_is_the_default() {
    let rig = Rig::new("preset-default");
    let a = rig.save_preset("A");
    let b = rig.save_preset("B");
    let default_of = |rig: &Rig| -> Vec<String> {
        rig.presets()
            .into_iter()
            .filter(|p| p.is_default)
            .map(|p| p.name)
            .collect()
    };
    assert!(default_of(&rig).is_empty());

    rig.update_preset(&a, false, Some(true));
    assert_eq!(default_of(&rig), ["A"]);
    assert!(rig.get_preset(&a).is_default);
    rig.update_preset(&b, false, Some(true));
    assert_eq!(default_of(&rig), ["B"]);
    assert!(!rig.get_preset(&a).is_default);

    // Clearing a preset that is not the default leaves the default alone.
    rig.update_preset(&a, false, Some(false));
    assert_eq!(default_of(&rig), ["B"]);
    rig.update_preset(&b, false, Some(false));
    assert!(default_of(&rig).is_empty());

    // Making a preset default does not activate it.
    let before = rig.snapshot().inputs;
    rig.add_input("x");
    rig.update_preset(&a, false, Some(true));
    assert_eq!(rig.inputs().len(), before.len() + 1);
}

#[test]
fn activate_and_make_default_together() {
    let mut rig = Rig::new("preset-both");
    rig.add_input("kept");
    let p = rig.save_preset("P");
    rig.add_input("dropped");
    rig.update_preset(&p, true, Some(true));
    assert!(rig.get_preset(&p).is_default);
    let names: Vec<String> = rig.inputs().into_iter().map(|i| i.config.name).collect();
    assert_eq!(names, ["kept"]);
    rig.reboot();
    assert!(rig.get_preset(&p).is_default);
}

#[test]
fn deleting_the_default_preset_clears_the_default() {
    let mut rig = Rig::new("preset-delete-default");
    let a = rig.save_preset("A");
    let b = rig.save_preset("B");
    rig.update_preset(&a, false, Some(true));
    deleted(rig.call(Command::Delete(Kind::Preset, a.clone())));
    assert!(matches!(
        rig.call(Command::Get(Kind::Preset, a.clone())),
        Err(CommandError::Lookup(_))
    ));
    assert!(rig.presets().iter().all(|p| !p.is_default));
    assert!(matches!(
        rig.call(Command::Delete(Kind::Preset, a.clone())),
        Err(CommandError::Delete(DeleteError::NotFound {
            kind: Kind::Preset,
            ..
        }))
    ));
    // No default after a reboot either: the configuration is kept as is.
    let extra = rig.add_input("after");
    rig.reboot();
    assert_eq!(ids(&rig.inputs(), |v| &v.id), vec![extra]);
    assert!(!rig.get_preset(&b).is_default);
}

#[test]
fn deleting_another_preset_keeps_the_default() {
    let rig = Rig::new("preset-delete-other");
    let a = rig.save_preset("A");
    let b = rig.save_preset("B");
    rig.update_preset(&a, false, Some(true));
    deleted(rig.call(Command::Delete(Kind::Preset, b)));
    assert!(rig.get_preset(&a).is_default);
}

#[test]
fn the_default_preset_is_activated_at_boot() {
    let mut rig = Rig::new("preset-boot");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let auto = rig.add_stream(auto_start(stream("auto", &input, Some(&tx), &[&out])));
    let manual = rig.add_stream(stream("manual", &input, Some(&tx), &[&out]));
    let preset = rig.save_preset("Boot");
    rig.update_preset(&preset, false, Some(true));
    let saved = rig.snapshot();

    // Changes after saving: an edit, a new chain, a running stream.
    updated(
        rig.call(Command::ReplaceInput(input.clone(), super::input("edited"))),
        &input,
    );
    let extra = rig.add_chain("extra");
    rig.start(&manual);
    rig.start(&extra.stream);

    rig.reboot();
    let now = rig.snapshot();
    assert_eq!(now.inputs, saved.inputs);
    assert_eq!(now.outputs, saved.outputs);
    assert_eq!(now.transcoders, saved.transcoders);
    assert_eq!(
        now.streams.iter().map(|s| &s.1).collect::<Vec<_>>(),
        saved.streams.iter().map(|s| &s.1).collect::<Vec<_>>()
    );
    assert_eq!(rig.get_input(&input).config.name, "in");
    assert_eq!(rig.probe.starts(), vec![auto.clone()]);
    assert_eq!(rig.state(&auto), StreamState::Active);
    assert_eq!(rig.state(&manual), StreamState::Stopped);
    assert!(rig.get_preset(&preset).is_default, "still the default");

    // Every boot does it again.
    rig.add_input("again");
    rig.reboot();
    assert_eq!(rig.snapshot().inputs, saved.inputs);
}

#[test]
fn presets_survive_a_reboot() {
    let mut rig = Rig::new("preset-reboot");
    rig.add_chain("S");
    let a = rig.save_preset("A");
    rig.add_input("more");
    let b = rig.save_preset("B");
    let before = rig.snapshot().presets;
    rig.reboot();
    assert_eq!(rig.snapshot().presets, before);
    assert_eq!(ids(&rig.presets(), |p| &p.id), vec![a, b.clone()]);
    // And their contents too.
    rig.update_preset(&b, true, None);
    assert_eq!(rig.inputs().len(), 2);
}
