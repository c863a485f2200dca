//! The catalog: listing, reading, editing and deleting recordings, and
//! what starting refuses.

use std::fs;

use makara_test_support::TestDir;

use super::*;
use crate::limits::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, MAX_TRACKS};
use crate::{AssetEdit, DeleteError, FinishReason, StartError, State, TrackError, UpdateError};

#[test]
fn assets_are_listed_by_creation_and_kept_across_opens() {
    let dir = TestDir::new("recorder-list");
    let (recorder, _) = open(dir.path(), test_limits());
    let first = recorder.start(new_recording(1)).unwrap().stop().unwrap();
    let live = recorder.start(new_recording(3)).unwrap();
    let list = recorder.list();
    assert_eq!(list.len(), 2);
    // By creation time (seconds), then id.
    assert!((list[0].created, &list[0].id) < (list[1].created, &list[1].id));
    assert!(list.contains(&first));
    let list: Vec<_> = list.into_iter().filter(|a| a.id != first.id).collect();
    assert_eq!(list.len(), 1);
    let list = [first.clone(), list[0].clone()];
    assert_eq!(list[1].id, live.id());
    assert_eq!(list[1].state, State::Recording);
    assert_eq!(list[1].tracks.len(), 3);
    assert_eq!(list[1].title, "Lecture");
    assert_eq!(list[1].group, id(1));
    assert_eq!(list[1].creator, "operator");
    assert!(list[1].created > 1_600_000_000);
    assert_eq!(recorder.recordings().len(), 1);
    assert_eq!(recorder.recording(&live.id()).unwrap().id(), live.id());
    assert!(recorder.recording(&first.id).is_none());
    let second = live.stop().unwrap();
    drop(recorder);

    let (recorder, recovery) = open(dir.path(), test_limits());
    assert_eq!(recovery, Recovery::default());
    let mut both = vec![first, second];
    both.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    assert_eq!(recorder.list(), both);
    assert_eq!(recorder.get(&id(99)), None);
}

#[test]
fn title_and_description_change_durably_within_bounds() {
    let dir = TestDir::new("recorder-update");
    let (recorder, _) = open(dir.path(), test_limits());
    let recording = recorder.start(new_recording(1)).unwrap();
    let id = recording.id();
    let edit = AssetEdit {
        title: Some("Keynote".into()),
        description: None,
    };
    let live = recorder.update(&id, edit).unwrap();
    assert_eq!(
        (live.title.as_str(), live.description.as_str()),
        ("Keynote", "hall 2")
    );
    assert_eq!(live.state, State::Recording);
    let done = recording.stop().unwrap();
    assert_eq!(done.title, "Keynote");
    let edit = AssetEdit {
        title: None,
        description: Some("hall 3".into()),
    };
    recorder.update(&id, edit).unwrap();

    let long = AssetEdit {
        title: Some("x".repeat(MAX_TITLE_CHARS + 1)),
        description: None,
    };
    let err = recorder.update(&id, long).unwrap_err();
    assert!(
        matches!(err, UpdateError::TooLong(ref t) if t.field == "title"),
        "{err}"
    );
    let long = AssetEdit {
        title: None,
        description: Some("x".repeat(MAX_DESCRIPTION_CHARS + 1)),
    };
    assert!(recorder.update(&id, long).is_err());
    let missing = recorder.update(&super::id(99), AssetEdit::default());
    assert!(matches!(missing, Err(UpdateError::NotFound { .. })));
    drop(recorder);

    let (recorder, _) = open(dir.path(), test_limits());
    let asset = recorder.get(&id).unwrap();
    assert_eq!(
        (asset.title.as_str(), asset.description.as_str()),
        ("Keynote", "hall 3")
    );
}

#[test]
fn delete_removes_a_finished_recording_and_refuses_a_live_one() {
    let dir = TestDir::new("recorder-delete");
    let (recorder, _) = open(dir.path(), test_limits());
    let recording = recorder.start(new_recording(1)).unwrap();
    let id = recording.id();
    let err = recorder.delete(&id).unwrap_err();
    assert!(matches!(err, DeleteError::Live { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("recording {id} is still recording; stop it first")
    );
    let err = recorder.track_path(&id, 0).unwrap_err();
    assert!(matches!(err, TrackError::Live { .. }), "{err}");
    recording.stop().unwrap();
    let err = recorder.track_path(&id, 1).unwrap_err();
    assert!(
        matches!(err, TrackError::NoTrack { tracks: 1, .. }),
        "{err}"
    );
    recorder.delete(&id).unwrap();
    assert!(!dir.join(id.as_str()).exists());
    assert!(recorder.get(&id).is_none());
    assert!(matches!(
        recorder.delete(&id),
        Err(DeleteError::NotFound { .. })
    ));
    assert!(matches!(
        recorder.track_path(&id, 0),
        Err(TrackError::NotFound { .. })
    ));
    // Only the lock file is left.
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["recorder.lock"]);
}

#[test]
fn starting_refuses_what_it_cannot_record_and_leaves_nothing() {
    let dir = TestDir::new("recorder-refuse");
    let limits = Limits {
        max_live: 2,
        ..test_limits()
    };
    let (recorder, _) = open(dir.path(), limits);
    let no_sources = NewRecording {
        sources: Vec::new(),
        ..new_recording(1)
    };
    assert!(matches!(
        recorder.start(no_sources),
        Err(StartError::NoSources)
    ));
    let too_many = new_recording(MAX_TRACKS as u8 + 1);
    let err = recorder.start(too_many).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a recording may have at most 16 sources, 17 were given"
    );
    let long = NewRecording {
        title: "x".repeat(MAX_TITLE_CHARS + 1),
        ..new_recording(1)
    };
    let err = recorder.start(long).unwrap_err();
    assert_eq!(
        err.to_string(),
        "title is 257 characters long, at most 256 are allowed"
    );

    let a = recorder.start(new_recording(1)).unwrap();
    let _b = recorder.start(new_recording(1)).unwrap();
    let err = recorder.start(new_recording(1)).unwrap_err();
    assert!(
        matches!(err, StartError::TooManyRecordings { max: 2 }),
        "{err}"
    );
    a.stop().unwrap();
    let c = recorder.start(new_recording(1)).unwrap();
    assert_eq!(recorder.recordings().len(), 2);
    c.stop().unwrap();
    assert_eq!(recorder.list().len(), 3);
}

#[test]
fn starting_needs_free_space() {
    let dir = TestDir::new("recorder-low-space");
    let limits = Limits {
        min_free_bytes: u64::MAX,
        ..test_limits()
    };
    let (recorder, _) = open(dir.path(), limits);
    let err = recorder.start(new_recording(1)).unwrap_err();
    assert!(
        matches!(
            err,
            StartError::LowSpace {
                needed: u64::MAX,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().display().to_string())
            && message.contains("a recording needs at least 18446744073709551615"),
        "{message}"
    );
    assert!(recorder.list().is_empty());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1); // the lock
}

#[test]
fn one_recorder_per_directory() {
    let dir = TestDir::new("recorder-lock");
    let (_recorder, _) = open(dir.path(), test_limits());
    let err = crate::Recorder::open(dir.path(), test_limits()).unwrap_err();
    assert!(err.to_string().contains("another makarad"), "{err}");
    assert!(crate::recover(dir.path()).is_err());
}

#[test]
fn stop_reasons_read_as_words() {
    let words: Vec<_> = [
        FinishReason::Stopped,
        FinishReason::DiskFull,
        FinishReason::Interrupted,
        FinishReason::WriteError,
    ]
    .map(|r| r.as_str())
    .into();
    assert_eq!(
        words,
        ["stopped", "disk-full", "interrupted", "write-error"]
    );
}
