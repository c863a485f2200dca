//! The event log: streams started, stopped and failed, inputs lost and
//! recovered (seen by the watch), and lockouts.

use std::time::{Duration, Instant};

use makara_media::InputReport;

use super::*;
use crate::{EventKind, EventView};

impl Rig {
    pub(crate) fn events(&self) -> Vec<EventView> {
        match self.call(Command::ListEvents) {
            Ok(Reply::Events(events)) => events,
            other => panic!("expected events, got {other:?}"),
        }
    }

    /// Waits up to 10 s for an event of `kind` about `subject`.
    fn wait_for_event(&self, kind: &EventKind, subject: &Id) -> EventView {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .events()
                .into_iter()
                .find(|e| &e.kind == kind && e.subject.as_ref() == Some(subject));
            if let Some(event) = found {
                return event;
            }
            assert!(Instant::now() < deadline, "no {kind:?} event for {subject}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn kinds(events: &[EventView]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn starts_stops_and_failed_starts_are_events_in_order() {
    let rig = Rig::new("events-streams");
    let chain = rig.add_chain("cam");
    rig.start(&chain.stream);
    rig.stop(&chain.stream);
    rig.stop(&chain.stream); // stopped already: no event
    rig.probe.fail(&chain.stream, Failure::Failed);
    assert!(rig
        .call(Command::StartStream(chain.stream.clone()))
        .is_err());
    let events = rig.events();
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::StreamStarted,
            EventKind::StreamStopped,
            EventKind::StreamFailed
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.subject.as_ref() == Some(&chain.stream)));
    assert!(events.iter().all(|e| e.name == "cam"));
    assert_eq!(events[2].detail, "fake: the input is silent");
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[test]
fn the_watch_sees_a_stream_fail_and_recover() {
    let rig = Rig::new("events-failed");
    let chain = rig.add_chain("cam");
    rig.start(&chain.stream);
    // Seen active first, then waiting with the engine's reason.
    std::thread::sleep(crate::watch::CHECK_EVERY * 2);
    rig.probe.set_stats(
        &chain.stream,
        StreamStats::default(),
        Some("output 'cam out': no peer connected"),
    );
    rig.probe.set_state(&chain.stream, StreamState::Waiting);
    let failed = rig.wait_for_event(&EventKind::StreamFailed, &chain.stream);
    assert_eq!(failed.detail, "output 'cam out': no peer connected");
    rig.probe.set_state(&chain.stream, StreamState::Active);
    rig.wait_for_event(&EventKind::StreamRecovered, &chain.stream);
}

#[test]
fn the_watch_sees_a_network_input_lost_and_recovered() {
    let rig = Rig::new("events-input");
    let chain = rig.add_chain("cam");
    rig.start(&chain.stream);
    let report = |receiving: bool, error: Option<&str>| StreamStats {
        input: Some(InputReport {
            receiving,
            last_error: error.map(str::to_string),
            ..InputReport::default()
        }),
        ..StreamStats::default()
    };
    rig.probe.set_stats(&chain.stream, report(true, None), None);
    std::thread::sleep(crate::watch::CHECK_EVERY * 2);
    let why = "no packet on udp://239.1.1.1:5000 for 2 s";
    rig.probe
        .set_stats(&chain.stream, report(false, Some(why)), Some(why));
    rig.probe.set_state(&chain.stream, StreamState::Waiting);
    let lost = rig.wait_for_event(&EventKind::InputLost, &chain.input);
    assert_eq!(lost.name, "cam in");
    assert_eq!(lost.detail, format!("{why} (stream 'cam')"));
    rig.probe.set_stats(&chain.stream, report(true, None), None);
    rig.probe.set_state(&chain.stream, StreamState::Active);
    rig.wait_for_event(&EventKind::InputRecovered, &chain.input);
    // The stream waited because its input was lost: no "failed" for it.
    let failed = rig
        .events()
        .into_iter()
        .any(|e| e.kind == EventKind::StreamFailed);
    assert!(!failed);
}

#[test]
fn a_lockout_is_an_event() {
    let rig = Rig::new("events-lockout");
    let address = "192.0.2.9".parse().unwrap();
    let reply = rig.call(Command::RecordLockout {
        username: Some("admin".into()),
        address: Some(address),
    });
    let Ok(Reply::Event(event)) = reply else {
        panic!("expected an event, got {reply:?}");
    };
    assert_eq!(
        event.kind,
        EventKind::LoginLockout {
            username: Some("admin".into()),
            address: Some(address)
        }
    );
    assert_eq!(event.subject, None);
    assert_eq!(rig.events(), vec![event]);
}

/// A sender that stops soon after it starts: the input received and was
/// lost between two looks, which see it only not receiving. Its count of
/// losses tells the watch.
#[test]
fn the_watch_sees_a_loss_shorter_than_its_look() {
    let rig = Rig::new("events-brief-input");
    let chain = rig.add_chain("cam");
    rig.start(&chain.stream);
    let why = "no packet on udp://127.0.0.1:5000 for 1 s";
    let report = |losses: u64| StreamStats {
        input: Some(InputReport {
            receiving: false,
            last_error: Some(why.to_string()),
            losses,
            ..InputReport::default()
        }),
        ..StreamStats::default()
    };
    rig.probe.set_stats(&chain.stream, report(0), Some(why));
    std::thread::sleep(crate::watch::CHECK_EVERY * 2);
    rig.probe.set_stats(&chain.stream, report(1), Some(why));
    let lost = rig.wait_for_event(&EventKind::InputLost, &chain.input);
    assert_eq!(lost.detail, format!("{why} (stream 'cam')"));
    // The same loss is told once, however many looks it lasts.
    std::thread::sleep(crate::watch::CHECK_EVERY * 2);
    let told = rig
        .events()
        .into_iter()
        .filter(|e| e.kind == EventKind::InputLost);
    assert_eq!(told.count(), 1);
}

/// A run that failed and was retried, and is running again, all between
/// two looks: the state looks active throughout, but the engine's count
/// of failed runs tells the watch, which records the failure with the
/// engine's reason and then the recovery, once each.
#[test]
fn the_watch_sees_a_failure_retried_between_two_looks() {
    let rig = Rig::new("events-brief-failure");
    let chain = rig.add_chain("cam");
    rig.start(&chain.stream);
    rig.probe.set_state(&chain.stream, StreamState::Active);
    std::thread::sleep(crate::watch::CHECK_EVERY * 2);
    let why = "decklinkPort 0: the signal changed to Hp50 (1280x720); the capture restarts in it";
    let failed_once = StreamStats {
        failures: 1,
        ..StreamStats::default()
    };
    rig.probe.set_stats(&chain.stream, failed_once, Some(why));
    let failed = rig.wait_for_event(&EventKind::StreamFailed, &chain.stream);
    assert_eq!(failed.detail, why);
    rig.wait_for_event(&EventKind::StreamRecovered, &chain.stream);
    std::thread::sleep(crate::watch::CHECK_EVERY * 2);
    let told = |kind: EventKind| rig.events().into_iter().filter(|e| e.kind == kind).count();
    assert_eq!(told(EventKind::StreamFailed), 1);
    assert_eq!(told(EventKind::StreamRecovered), 1);
}
