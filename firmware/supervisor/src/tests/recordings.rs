//! Recordings of groups through a real recorder on the test's disk, fed
//! by the fake engine's taps; and the assets they become.

use std::time::{Duration, Instant};

use makara_config::Id;

use super::*;
use crate::{
    AddGroupOutputError, Asset, AssetEdit, DeleteAssetError, DeleteError, DeleteGroupError,
    EventKind, FinishReason, RecordingError, RecordingState, RemoveGroupOutputError,
    StartRecordingError, StopRecordingError, TrackFileError,
};

/// A rig with a recorder, a running stream sending to `out`, and a group
/// holding `out`.
struct Studio {
    rig: Rig,
    chain: Chain,
    group: Id,
}

impl Studio {
    fn new(label: &str) -> Studio {
        Studio::with_limits(label, test_recorder_limits())
    }

    fn with_limits(label: &str, limits: makara_recorder::Limits) -> Studio {
        let rig = Rig::recording(label, limits);
        let chain = rig.add_chain("cam");
        rig.start(&chain.stream);
        let group = rig.add_group("Lecture").id;
        rig.add_to_group(&group, &chain.output);
        Studio { rig, chain, group }
    }

    fn start(&self, outputs: Option<Vec<Id>>) -> Result<Asset, CommandError> {
        let reply = self.rig.call(Command::StartRecording {
            group: self.group.clone(),
            outputs,
            creator: "operator".into(),
        })?;
        match reply {
            Reply::Recording(asset) => Ok(asset),
            other => panic!("expected a recording, got {other:?}"),
        }
    }

    fn recording(&self, command: Command) -> Asset {
        match self.rig.call(command) {
            Ok(Reply::Recording(asset)) => asset,
            other => panic!("expected a recording, got {other:?}"),
        }
    }

    fn assets(&self) -> Vec<Asset> {
        match self.rig.call(Command::ListAssets) {
            Ok(Reply::Assets(assets)) => assets,
            other => panic!("expected assets, got {other:?}"),
        }
    }

    fn events(&self) -> Vec<crate::EventView> {
        match self.rig.call(Command::ListEvents) {
            Ok(Reply::Events(events)) => events,
            other => panic!("expected events, got {other:?}"),
        }
    }
}

/// Waits up to 10 s for `done`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Feeds `ts` in runs of seven packets, as a UDP sender's datagrams.
fn feed(probe: &Probe, output: &Id, ts: &[u8]) {
    for datagram in ts.chunks(7 * 188) {
        probe.feed(output, datagram);
    }
}

#[test]
fn without_a_recorder_recordings_say_why() {
    let rig = Rig::new("recordings-none");
    let group = rig.add_group("g");
    let start = rig.call(Command::StartRecording {
        group: group.id,
        outputs: None,
        creator: String::new(),
    });
    assert!(matches!(
        start,
        Err(CommandError::RecorderUnavailable(ref why)) if why.contains("without a recorder")
    ));
    assert!(matches!(
        rig.call(Command::ListAssets),
        Err(CommandError::RecorderUnavailable(_))
    ));
    assert!(matches!(
        rig.call(Command::StopRecording(Id::new_random())),
        Err(CommandError::RecorderUnavailable(_))
    ));
}

#[test]
fn a_start_is_refused_for_an_unknown_group_an_empty_one_or_outputs_outside_it() {
    let studio = Studio::new("recordings-refused");
    let rig = &studio.rig;
    let unknown = rig.call(Command::StartRecording {
        group: Id::new_random(),
        outputs: None,
        creator: String::new(),
    });
    assert!(matches!(
        unknown,
        Err(CommandError::StartRecording(
            StartRecordingError::GroupNotFound(_)
        ))
    ));
    let empty = rig.add_group("empty");
    let none = rig.call(Command::StartRecording {
        group: empty.id,
        outputs: None,
        creator: String::new(),
    });
    assert!(matches!(
        none,
        Err(CommandError::StartRecording(StartRecordingError::NoOutputs(ref t))) if t == "empty"
    ));
    let elsewhere = rig.add_output("not in the group");
    let outside = studio.start(Some(vec![elsewhere, Id::new_random()]));
    assert!(matches!(
        outside,
        Err(CommandError::StartRecording(StartRecordingError::NoneInGroup(ref t))) if t == "Lecture"
    ));
    assert!(studio.assets().is_empty(), "nothing was recorded");
    assert!(rig.probe.tapped().is_empty());
}

#[test]
fn a_recording_is_fed_paused_resumed_and_stopped_into_an_asset() {
    let studio = Studio::new("recordings-life");
    let (rig, out) = (&studio.rig, &studio.chain.output);
    let started = studio.start(None).unwrap();
    let id = started.id.clone();
    assert_eq!(started.state, RecordingState::Recording);
    assert_eq!(started.title, "Lecture", "the group's title");
    assert_eq!(started.group, studio.group);
    assert_eq!(started.creator, "operator");
    assert_eq!(started.tracks.len(), 1);
    assert_eq!(&started.tracks[0].source, out);
    assert_eq!(rig.probe.tapped(), vec![out.clone()]);
    assert!(rig.get_group(&studio.group).recording);

    feed(&rig.probe, out, &ts::stream(10, 3));
    let paused = studio.recording(Command::PauseRecording(id.clone()));
    assert_eq!(paused.state, RecordingState::Paused);
    let again = studio.recording(Command::PauseRecording(id.clone()));
    assert_eq!(again.state, RecordingState::Paused, "a pause is idempotent");
    feed(&rig.probe, out, &ts::stream(13, 2));
    let resumed = studio.recording(Command::ResumeRecording(id.clone()));
    assert_eq!(resumed.state, RecordingState::Recording);
    feed(&rig.probe, out, &ts::stream(15, 3));
    match rig.call(Command::ListRecordings) {
        Ok(Reply::Recordings(live)) => assert_eq!(live.len(), 1),
        other => panic!("expected recordings, got {other:?}"),
    }
    assert_eq!(studio.recording(Command::GetRecording(id.clone())).id, id);

    let finished = match rig.call(Command::StopRecording(id.clone())) {
        Ok(Reply::Asset(asset)) => asset,
        other => panic!("expected an asset, got {other:?}"),
    };
    assert_eq!(
        finished.state,
        RecordingState::Finished(FinishReason::Stopped)
    );
    assert!(rig.probe.tapped().is_empty(), "the tap came off");
    assert!(!rig.get_group(&studio.group).recording);
    // About 5 s recorded of the 8 fed (each run waits for its keyframe,
    // which starts it).
    let seconds = finished.duration_secs;
    assert!(seconds > 4.0 && seconds < 6.5, "{seconds} s recorded");
    let path = match rig.call(Command::AssetTrackFile {
        asset: id.clone(),
        track: 0,
    }) {
        Ok(Reply::TrackFile(path)) => path,
        other => panic!("expected a file, got {other:?}"),
    };
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, finished.tracks[0].bytes);
    assert!(bytes.len() > 100 * 188 && bytes.len() % 188 == 0);

    // Finished: no longer a recording, still an asset.
    assert!(matches!(
        rig.call(Command::GetRecording(id.clone())),
        Err(CommandError::Recording(RecordingError::Finished {
            reason: FinishReason::Stopped,
            ..
        }))
    ));
    assert!(matches!(
        rig.call(Command::StopRecording(id.clone())),
        Err(CommandError::StopRecording(
            StopRecordingError::Finished { .. }
        ))
    ));
    assert!(matches!(
        rig.call(Command::StopRecording(Id::new_random())),
        Err(CommandError::StopRecording(StopRecordingError::NotFound(_)))
    ));
    assert_eq!(studio.assets(), vec![finished]);
    let kinds: Vec<EventKind> = studio
        .events()
        .into_iter()
        .filter(|e| e.subject.as_ref() == Some(&id))
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::RecordingStarted,
            EventKind::RecordingStopped(FinishReason::Stopped)
        ]
    );
}

#[test]
fn a_live_recording_holds_its_group_its_outputs_and_its_files() {
    let studio = Studio::new("recordings-held");
    let (rig, out) = (&studio.rig, &studio.chain.output);
    let other = rig.add_output("other");
    let id = studio.start(None).unwrap().id;

    let delete_group = rig.call(Command::DeleteGroup(studio.group.clone()));
    assert!(matches!(
        delete_group,
        Err(CommandError::DeleteGroup(DeleteGroupError::Recording { ref recording, .. })) if recording == &id
    ));
    let add = rig.call(Command::AddGroupOutput {
        group: studio.group.clone(),
        output: other,
    });
    assert!(matches!(
        add,
        Err(CommandError::AddGroupOutput(
            AddGroupOutputError::Recording { .. }
        ))
    ));
    let remove = rig.call(Command::RemoveGroupOutput {
        group: studio.group.clone(),
        output: out.clone(),
    });
    assert!(matches!(
        remove,
        Err(CommandError::RemoveGroupOutput(
            RemoveGroupOutputError::Recording { .. }
        ))
    ));
    // The stream no longer sends to the output, but it is still recorded.
    rig.stop(&studio.chain.stream);
    deleted(rig.call(Command::Delete(Kind::Stream, studio.chain.stream.clone())));
    let delete_output = rig.call(Command::Delete(Kind::Output, out.clone()));
    assert!(matches!(
        delete_output,
        Err(CommandError::Delete(DeleteError::Recorded { ref recording, .. })) if recording == &id
    ));
    assert!(matches!(
        rig.call(Command::DeleteAsset(id.clone())),
        Err(CommandError::DeleteAsset(DeleteAssetError::Live(_)))
    ));
    assert!(matches!(
        rig.call(Command::AssetTrackFile {
            asset: id.clone(),
            track: 0
        }),
        Err(CommandError::TrackFile(TrackFileError::Live(_)))
    ));

    rig.call(Command::StopRecording(id.clone())).unwrap();
    deleted(rig.call(Command::DeleteGroup(studio.group.clone())));
    deleted(rig.call(Command::Delete(Kind::Output, out.clone())));
}

#[test]
fn only_the_outputs_asked_for_that_are_in_the_group_are_recorded_in_that_order() {
    let studio = Studio::new("recordings-subset");
    let rig = &studio.rig;
    let second = rig.add_output("second");
    rig.add_to_group(&studio.group, &second);
    let asked = vec![
        second.clone(),
        Id::new_random(),
        studio.chain.output.clone(),
        second.clone(),
    ];
    let asset = studio.start(Some(asked)).unwrap();
    let sources: Vec<Id> = asset.tracks.iter().map(|t| t.source.clone()).collect();
    assert_eq!(sources, vec![second.clone(), studio.chain.output.clone()]);
    assert_eq!(rig.probe.tapped(), sources);
    rig.call(Command::StopRecording(asset.id)).unwrap();
}

#[test]
fn an_engine_that_cannot_tap_leaves_nothing_behind() {
    let studio = Studio::new("recordings-no-tap");
    studio.rig.probe.lock().refuse_taps = true;
    let e = studio.start(None).unwrap_err();
    assert!(matches!(
        &e,
        CommandError::StartRecording(StartRecordingError::Tap(why)) if why.contains("no taps")
    ));
    assert!(studio.assets().is_empty());
}

#[test]
fn too_many_live_recordings_are_refused() {
    let limits = makara_recorder::Limits {
        max_live: 1,
        ..test_recorder_limits()
    };
    let studio = Studio::with_limits("recordings-too-many", limits);
    let first = studio.start(None).unwrap();
    let second = studio.start(None);
    assert!(matches!(
        second,
        Err(CommandError::StartRecording(StartRecordingError::TooMany {
            max: 1
        }))
    ));
    studio.rig.call(Command::StopRecording(first.id)).unwrap();
    studio.start(None).unwrap();
}

#[test]
fn a_recording_that_finishes_on_its_own_has_its_taps_taken_off() {
    let studio = Studio::new("recordings-finished");
    let rig = &studio.rig;
    let id = studio.start(None).unwrap().id;
    feed(&rig.probe, &studio.chain.output, &ts::stream(10, 2));
    // The recorder finishes it by itself (as on a full disk; here as at
    // shutdown): the supervisor hears of it only from its notice.
    let recorder = rig.recorder.as_ref().expect("a recorder");
    assert!(recorder.shutdown().is_empty());
    wait_for("the tap to come off", || rig.probe.tapped().is_empty());
    wait_for("the event", || {
        studio.events().iter().any(|e| {
            e.subject.as_ref() == Some(&id)
                && e.kind == EventKind::RecordingStopped(FinishReason::Interrupted)
        })
    });
    assert!(matches!(
        rig.call(Command::GetRecording(id)),
        Err(CommandError::Recording(RecordingError::Finished {
            reason: FinishReason::Interrupted,
            ..
        }))
    ));
}

#[test]
fn an_asset_is_retitled_and_deleted() {
    let studio = Studio::new("recordings-assets");
    let rig = &studio.rig;
    let id = studio.start(None).unwrap().id;
    rig.call(Command::StopRecording(id.clone())).unwrap();
    let edit = AssetEdit {
        title: Some("Lecture 1".into()),
        description: None,
    };
    let asset = match rig.call(Command::UpdateAsset(id.clone(), edit)) {
        Ok(Reply::Asset(asset)) => asset,
        other => panic!("expected an asset, got {other:?}"),
    };
    assert_eq!(asset.title, "Lecture 1");
    match rig.call(Command::GetAsset(id.clone())) {
        Ok(Reply::Asset(got)) => assert_eq!(got, asset),
        other => panic!("expected an asset, got {other:?}"),
    }
    let too_long = AssetEdit {
        title: Some("t".repeat(257)),
        description: None,
    };
    let e = rig
        .call(Command::UpdateAsset(id.clone(), too_long))
        .unwrap_err();
    assert!(matches!(
        e,
        CommandError::UpdateAsset(crate::UpdateAssetError::Invalid(
            makara_config::Invalid::TooLong { field: "title", .. }
        ))
    ));
    assert!(matches!(
        rig.call(Command::AssetTrackFile {
            asset: id.clone(),
            track: 1
        }),
        Err(CommandError::TrackFile(TrackFileError::NoTrack {
            tracks: 1,
            ..
        }))
    ));
    deleted(rig.call(Command::DeleteAsset(id.clone())));
    assert!(studio.assets().is_empty());
    assert!(matches!(
        rig.call(Command::GetAsset(id.clone())),
        Err(CommandError::AssetLookup(_))
    ));
    assert!(matches!(
        rig.call(Command::DeleteAsset(id)),
        Err(CommandError::DeleteAsset(DeleteAssetError::NotFound(_)))
    ));
}

#[test]
fn a_recording_cut_short_by_a_crash_is_finalised_at_the_next_start_with_its_event() {
    let mut studio = Studio::new("recordings-crash");
    let id = studio.start(None).unwrap().id;
    feed(&studio.rig.probe, &studio.chain.output, &ts::stream(10, 2));
    // A crash leaves the metadata saying "recording": keep it as it is
    // now, power off (which finishes the recording), and put it back.
    let meta = studio
        .rig
        .dir()
        .join("recordings")
        .join(id.as_str())
        .join(makara_recorder::META_FILE);
    let live_meta = std::fs::read(&meta).unwrap();
    studio.rig.power_off();
    std::fs::write(&meta, live_meta).unwrap();
    studio.rig.reboot_with_engine(Box::new(FakeEngine::new().0));

    let assets = studio.assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].id, id);
    assert_eq!(
        assets[0].state,
        RecordingState::Finished(FinishReason::Interrupted)
    );
    let event = studio
        .events()
        .into_iter()
        .find(|e| e.subject.as_ref() == Some(&id));
    let event = event.expect("an event for the interrupted recording");
    assert_eq!(
        event.kind,
        EventKind::RecordingStopped(FinishReason::Interrupted)
    );
    assert_eq!(event.name, "Lecture");
}
