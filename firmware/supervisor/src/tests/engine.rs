//! Starting and stopping streams, with the real `NoMediaEngine` and with a
//! scripted engine; what boot starts.

use makara_config::{Id, StreamMode};

use super::*;
use crate::{NoMediaEngine, ResourceState, StartError, StopError};

// -- NoMediaEngine -----------------------------------------------------------

#[test]
fn no_media_engine_refuses_to_start() {
    let rig = Rig::with_engine("nomedia-start", Box::new(NoMediaEngine));
    let c = rig.add_chain("S");
    match rig.call(Command::StartStream(c.stream.clone())) {
        Err(CommandError::Start(StartError::EngineUnavailable(why))) => {
            assert!(why.contains("no media engine"), "{why}");
        }
        other => panic!("expected EngineUnavailable, got {other:?}"),
    }
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.state, StreamState::Stopped);
    let last = view.last_error.expect("the reason is kept");
    assert_eq!(
        last,
        "this build has no media engine, so streams cannot run"
    );
    // Resources show the stopped stream.
    assert_eq!(
        rig.get_input(&c.input).state,
        ResourceState::Stream(StreamState::Stopped)
    );
    // A stopped stream can still be edited and deleted.
    updated(
        rig.call(Command::ReplaceInput(c.input.clone(), input("x"))),
        &c.input,
    );
    deleted(rig.call(Command::Delete(Kind::Stream, c.stream)));
}

#[test]
fn no_media_engine_create_with_start_still_creates() {
    let mut rig = Rig::with_engine("nomedia-create", Box::new(NoMediaEngine));
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let id = created(rig.call(Command::CreateStream {
        config: stream("S", &input, Some(&tx), &[&out]),
        start: true,
    }));
    let view = rig.get_stream(&id);
    assert_eq!(view.state, StreamState::Stopped);
    assert!(view
        .last_error
        .is_some_and(|e| e.contains("no media engine")));
    // The failed start is not remembered as "running": no retry at boot, and
    // the reason (a runtime fact) is not persisted either.
    rig.reboot_with_engine(Box::new(NoMediaEngine));
    let view = rig.get_stream(&id);
    assert_eq!(view.state, StreamState::Stopped);
    assert_eq!(view.last_error, None);
}

#[test]
fn no_media_engine_auto_start_at_boot_records_the_reason() {
    let mut rig = Rig::with_engine("nomedia-boot", Box::new(NoMediaEngine));
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let id = rig.add_stream(auto_start(stream("S", &input, Some(&tx), &[&out])));
    assert_eq!(rig.get_stream(&id).last_error, None, "not started yet");
    rig.reboot_with_engine(Box::new(NoMediaEngine));
    let view = rig.get_stream(&id);
    assert_eq!(view.state, StreamState::Stopped);
    assert!(view.last_error.is_some(), "boot tried and failed");
}

#[test]
fn no_media_engine_stop_is_harmless() {
    let rig = Rig::with_engine("nomedia-stop", Box::new(NoMediaEngine));
    let c = rig.add_chain("S");
    rig.stop(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Stopped);
}

// -- Start and stop ------------------------------------------------------------

#[test]
fn start_and_stop_of_unknown_streams_are_not_found() {
    let rig = Rig::new("start-unknown");
    let c = rig.add_chain("S");
    let ghost = Id::new_random();
    assert!(matches!(
        rig.call(Command::StartStream(ghost.clone())),
        Err(CommandError::Start(StartError::NotFound(ref id))) if id == &ghost
    ));
    assert!(matches!(
        rig.call(Command::StopStream(ghost.clone())),
        Err(CommandError::Stop(StopError::NotFound(ref id))) if id == &ghost
    ));
    // An input's id is not a stream's.
    assert!(matches!(
        rig.call(Command::StartStream(c.input.clone())),
        Err(CommandError::Start(StartError::NotFound(_)))
    ));
    assert!(rig.probe.calls().is_empty());
}

#[test]
fn start_takes_the_state_from_the_engine() {
    let rig = Rig::new("start-state");
    let c = rig.add_chain("S");
    rig.start(&c.stream);
    assert_eq!(rig.probe.calls(), vec![Call::Start(c.stream.clone())]);
    assert_eq!(rig.state(&c.stream), StreamState::Active);
    assert_eq!(rig.get_stream(&c.stream).last_error, None);

    // The engine reports a change of state (e.g. the input dried up).
    rig.probe
        .lock()
        .running
        .insert(c.stream.clone(), StreamState::Waiting);
    assert_eq!(rig.state(&c.stream), StreamState::Waiting);
    assert_eq!(
        rig.get_output(&c.output).state,
        ResourceState::Stream(StreamState::Waiting)
    );
    // ...or that the stream died on its own.
    rig.probe.lock().running.remove(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Stopped);
}

#[test]
fn starting_a_running_stream_is_a_no_op() {
    let rig = Rig::new("start-twice");
    let c = rig.add_chain("S");
    rig.start(&c.stream);
    rig.start(&c.stream);
    assert_eq!(rig.probe.starts(), vec![c.stream.clone()]);
    assert_eq!(rig.state(&c.stream), StreamState::Active);
}

#[test]
fn stopping_a_stopped_stream_is_a_no_op() {
    let rig = Rig::new("stop-twice");
    let c = rig.add_chain("S");
    rig.stop(&c.stream);
    rig.start(&c.stream);
    rig.stop(&c.stream);
    rig.stop(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Stopped);
    assert_eq!(rig.probe.starts(), vec![c.stream.clone()]);
}

#[test]
fn engine_failures_are_reported_and_recorded() {
    let rig = Rig::new("start-fails");
    let c = rig.add_chain("S");
    rig.probe.fail(&c.stream, Failure::Failed);
    match rig.call(Command::StartStream(c.stream.clone())) {
        Err(CommandError::Start(StartError::Engine(why))) => {
            assert_eq!(why, "fake: the input is silent");
        }
        other => panic!("expected Engine, got {other:?}"),
    }
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.state, StreamState::Stopped);
    assert_eq!(
        view.last_error.as_deref(),
        Some("fake: the input is silent")
    );

    rig.probe.fail(&c.stream, Failure::Unavailable);
    assert!(matches!(
        rig.call(Command::StartStream(c.stream.clone())),
        Err(CommandError::Start(StartError::EngineUnavailable(_)))
    ));

    // A good start clears the reason.
    rig.probe.lock().fail.clear();
    rig.start(&c.stream);
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.state, StreamState::Active);
    assert_eq!(view.last_error, None);
}

#[test]
fn create_with_start_starts_the_stream() {
    let mut rig = Rig::new("create-start");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let id = created(rig.call(Command::CreateStream {
        config: stream("S", &input, Some(&tx), &[&out]),
        start: true,
    }));
    assert_eq!(rig.state(&id), StreamState::Active);
    assert_eq!(rig.probe.starts(), vec![id.clone()]);
    // It is in the running set: it comes back after a reboot.
    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![id.clone()]);
    assert_eq!(rig.state(&id), StreamState::Active);
}

#[test]
fn create_with_a_failing_start_still_creates() {
    let mut rig = Rig::new("create-start-fails");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    rig.probe.fail_all(Some(Failure::Failed));
    let id = created(rig.call(Command::CreateStream {
        config: stream("S", &input, Some(&tx), &[&out]),
        start: true,
    }));
    let view = rig.get_stream(&id);
    assert_eq!(view.state, StreamState::Stopped);
    assert_eq!(
        view.last_error.as_deref(),
        Some("fake: the input is silent")
    );
    rig.reboot();
    assert!(
        rig.probe.starts().is_empty(),
        "a failed start is not retried"
    );
}

#[test]
fn the_engine_gets_the_resolved_plan() {
    let rig = Rig::new("plan");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let a = rig.add_output("a");
    let b = rig.add_output("b");
    let raw = rig.add_output("raw");
    let mut config = stream("S", &input, Some(&tx), &[&b, &a]);
    config.mode = StreamMode::Passthru;
    config.passthru = Some(raw.clone());
    let id = rig.add_stream(config.clone());
    rig.start(&id);

    let plan = rig.probe.lock().plans.last().cloned().expect("a plan");
    assert_eq!(plan.id, id);
    assert_eq!(plan.stream, config);
    assert_eq!(plan.input, super::input("in"));
    assert_eq!(plan.transcoder, Some(transcoder("tx")));
    let names: Vec<String> = plan.outputs.iter().map(|o| o.name.clone()).collect();
    assert_eq!(names, ["b", "a"], "in the stream's order, passthru apart");
    assert_eq!(plan.passthru.map(|o| o.name), Some("raw".to_string()));

    // A bypass stream has no transcoder; the plan follows edits.
    rig.stop(&id);
    updated(
        rig.call(Command::ReplaceInput(input.clone(), super::input("in v2"))),
        &input,
    );
    updated(
        rig.call(Command::ReplaceStream(
            id.clone(),
            stream("S", &input, None, &[&a]),
        )),
        &id,
    );
    rig.start(&id);
    let plan = rig.probe.lock().plans.last().cloned().expect("a plan");
    assert_eq!(plan.stream.mode, StreamMode::Bypass);
    assert_eq!(plan.transcoder, None);
    assert_eq!(plan.input.name, "in v2");
    assert_eq!(plan.passthru, None);
    assert_eq!(plan.outputs.len(), 1);
}

// -- Resource states ------------------------------------------------------------

#[test]
fn resources_show_the_state_of_their_stream() {
    let rig = Rig::new("resource-state");
    let c = rig.add_chain("S");
    let lonely_in = rig.add_input("lonely");
    let lonely_out = rig.add_output("lonely");
    let lonely_tx = rig.add_transcoder("lonely");
    let stopped = ResourceState::Stream(StreamState::Stopped);
    let active = ResourceState::Stream(StreamState::Active);

    assert_eq!(rig.get_input(&c.input).state, stopped);
    assert_eq!(rig.get_output(&c.output).state, stopped);
    assert_eq!(rig.get_transcoder(&c.transcoder).state, stopped);

    rig.start(&c.stream);
    assert_eq!(rig.get_input(&c.input).state, active);
    assert_eq!(rig.get_output(&c.output).state, active);
    assert_eq!(rig.get_transcoder(&c.transcoder).state, active);
    // Lists agree with gets.
    let listed: Vec<ResourceState> = rig.inputs().into_iter().map(|v| v.state).collect();
    assert_eq!(listed, [active, ResourceState::Unset]);

    assert_eq!(rig.get_input(&lonely_in).state, ResourceState::Unset);
    assert_eq!(rig.get_output(&lonely_out).state, ResourceState::Unset);
    assert_eq!(rig.get_transcoder(&lonely_tx).state, ResourceState::Unset);

    rig.stop(&c.stream);
    assert_eq!(rig.get_input(&c.input).state, stopped);
}

#[test]
fn a_shared_resource_shows_its_most_active_user() {
    // NOTE: docs/kraken-api.md says "the state of the first stream that
    // does"; the code (and its doc comment) deliberately picks the most
    // active user, which agrees with the edit lock. This test pins the
    // code's behaviour.
    let rig = Rig::new("resource-state-shared");
    let c = rig.add_chain("first");
    let out2 = rig.add_output("out2");
    let second = rig.add_stream(stream("second", &c.input, Some(&c.transcoder), &[&out2]));
    rig.start(&second);
    assert_eq!(
        rig.get_input(&c.input).state,
        ResourceState::Stream(StreamState::Active)
    );
    assert_eq!(
        rig.get_output(&c.output).state,
        ResourceState::Stream(StreamState::Stopped)
    );
}

// -- Boot ---------------------------------------------------------------------------

#[test]
fn started_streams_come_back_after_a_reboot() {
    let mut rig = Rig::new("boot-running");
    let a = rig.add_chain("A");
    let b = rig.add_chain("B");
    let c = rig.add_chain("C");
    rig.start(&a.stream);
    rig.start(&b.stream);
    rig.start(&c.stream);
    rig.stop(&b.stream);

    let before = rig.reboot();
    // Power-off stopped every stream the engine ran.
    for s in [&a.stream, &c.stream] {
        assert!(before.stops().contains(s), "{s} stopped at power-off");
        assert!(!before.is_running(s));
    }
    let mut started = rig.probe.starts();
    started.sort();
    let mut expected = vec![a.stream.clone(), c.stream.clone()];
    expected.sort();
    assert_eq!(started, expected);
    assert_eq!(rig.state(&a.stream), StreamState::Active);
    assert_eq!(rig.state(&b.stream), StreamState::Stopped);
    assert_eq!(rig.state(&c.stream), StreamState::Active);

    // A stop after the reboot is remembered too.
    rig.stop(&a.stream);
    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![c.stream.clone()]);
}

#[test]
fn auto_start_streams_start_at_boot() {
    let mut rig = Rig::new("boot-auto");
    let input = rig.add_input("in");
    let tx = rig.add_transcoder("tx");
    let out = rig.add_output("out");
    let auto = rig.add_stream(auto_start(stream("auto", &input, Some(&tx), &[&out])));
    let manual = rig.add_stream(stream("manual", &input, Some(&tx), &[&out]));
    assert!(rig.probe.calls().is_empty(), "auto_start waits for boot");

    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![auto.clone()]);
    assert_eq!(rig.state(&auto), StreamState::Active);
    assert_eq!(rig.state(&manual), StreamState::Stopped);

    // Stopping an auto_start stream lasts until the next boot only.
    rig.stop(&auto);
    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![auto.clone()]);

    // Started once by hand as well: still started exactly once at boot.
    rig.start(&auto);
    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![auto]);
}

#[test]
fn a_boot_failure_is_recorded_and_retried_next_boot() {
    let mut rig = Rig::new("boot-fails");
    let c = rig.add_chain("S");
    rig.start(&c.stream);

    rig.reboot_failing(Failure::Failed);
    let view = rig.get_stream(&c.stream);
    assert_eq!(view.state, StreamState::Stopped);
    assert_eq!(
        view.last_error.as_deref(),
        Some("fake: the input is silent")
    );

    // Still wanted: the next boot with a working engine starts it.
    rig.reboot();
    assert_eq!(rig.probe.starts(), vec![c.stream.clone()]);
    assert_eq!(rig.state(&c.stream), StreamState::Active);
}

#[test]
fn a_stream_wanted_at_boot_but_not_running_can_be_started() {
    let mut rig = Rig::new("boot-fails-restart");
    let c = rig.add_chain("S");
    rig.start(&c.stream);
    rig.reboot_failing(Failure::Unavailable);
    rig.probe.fail_all(None);
    rig.start(&c.stream);
    assert_eq!(rig.state(&c.stream), StreamState::Active);
    assert_eq!(rig.get_stream(&c.stream).last_error, None);
}

#[test]
fn deleting_a_stream_forgets_that_it_ran() {
    let mut rig = Rig::new("boot-deleted");
    let c = rig.add_chain("S");
    rig.start(&c.stream);
    rig.stop(&c.stream);
    rig.start(&c.stream);
    // Fails at boot, so it is stopped but still wanted; delete it then.
    rig.reboot_failing(Failure::Failed);
    deleted(rig.call(Command::Delete(Kind::Stream, c.stream.clone())));
    rig.reboot();
    assert!(rig.probe.calls().is_empty(), "{:?}", rig.probe.calls());
}

#[test]
fn power_off_stops_every_stream_but_remembers_them() {
    let mut rig = Rig::new("power-off");
    let a = rig.add_chain("A");
    let b = rig.add_chain("B");
    rig.start(&a.stream);
    rig.start(&b.stream);
    rig.probe.clear_calls();
    let probe = rig.probe.clone();
    rig.power_off();
    assert!(probe.lock().running.is_empty(), "engine left running");
    let stops = probe.stops();
    assert!(stops.contains(&a.stream) && stops.contains(&b.stream));
    assert!(probe.starts().is_empty());
}

#[test]
fn an_engine_panic_fails_only_that_command() {
    let rig = Rig::new("panic");
    let c = rig.add_chain("S");
    rig.probe.lock().on_start = Some(Box::new(|_| panic!("engine bug (expected by this test)")));
    assert!(matches!(
        rig.call(Command::StartStream(c.stream.clone())),
        Err(CommandError::Panicked)
    ));
    // The supervisor is still there, and its configuration intact.
    rig.probe.lock().on_start = None;
    match rig.call(Command::Get(Kind::Stream, c.stream.clone())) {
        Ok(makara_supervisor_reply) => drop(makara_supervisor_reply),
        Err(e) => panic!("supervisor gone after a panic: {e}"),
    }
    assert_eq!(
        CommandError::Gone.to_string(),
        "the supervisor is not running"
    );
}
