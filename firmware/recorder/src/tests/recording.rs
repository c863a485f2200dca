//! Recording, pausing, stopping; what ends up in the files and the
//! metadata.

use std::fs;
use std::time::Duration;

use makara_test_support::TestDir;

use super::*;
use crate::gate::Gate;
use crate::testing::{self, StreamShape};
use crate::{meta, FinishReason, State, StopError};

#[test]
fn a_stopped_recording_is_an_asset_with_clean_whole_files() {
    let dir = TestDir::new("recorder-stop");
    let (recorder, _) = open(dir.path(), test_limits());
    let notices = recorder.subscribe();
    let recording = recorder.start(new_recording(2)).unwrap();
    let id = recording.id();
    assert_eq!(recording.state(), State::Recording);
    assert!(recorder.get(&id).unwrap().is_live());
    let packets = testing::stream(StreamShape::default(), 6.0);
    let audio_only = testing::stream(
        StreamShape {
            video: false,
            ..StreamShape::default()
        },
        6.0,
    );
    // Join mid-stream, as a recording of a running output does.
    feed(&recording.sink(0).unwrap(), &packets[1000..]);
    feed(&recording.sink(1).unwrap(), &audio_only[1000..]);
    assert!(recording.sink(2).is_none());

    let asset = recording.stop().unwrap();
    assert_eq!(asset.state, State::Finished(FinishReason::Stopped));
    assert_eq!(asset.detail, None);
    assert_eq!(asset.dropped_packets, 0);
    assert!(!recording.sink(0).unwrap().is_open());
    // 6 s of stream, joined 1.5 s in (1000 packets at 1 Mbit/s), and the
    // video waits for its next keyframe (a GOP is 1 s).
    let video = &asset.tracks[0];
    assert!(
        video.duration_secs > 3.4 && video.duration_secs < 4.1,
        "{video:?}"
    );
    let audio = &asset.tracks[1];
    assert!(
        audio.duration_secs > 4.3 && audio.duration_secs < 4.6,
        "{audio:?}"
    );
    assert_eq!(asset.duration_secs, audio.duration_secs);
    for (n, track) in asset.tracks.iter().enumerate() {
        let path = recorder.track_path(&id, n).unwrap();
        assert_eq!(path, dir.join(id.as_str()).join(format!("track-{n}.ts")));
        let bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, track.bytes);
        assert!(starts_clean(&bytes), "track {n}");
    }
    assert_eq!(asset.tracks[1].source, super::id(0x11));
    // The metadata on disk says the same; the reserve is given back.
    let recording_dir = dir.join(id.as_str());
    assert_eq!(meta::read(&recording_dir, &id).unwrap(), asset);
    assert!(!recording_dir.join(meta::RESERVE_FILE).exists());
    assert_eq!(recorder.get(&id).unwrap(), asset);
    let notice = notices.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!(
        (notice.id, notice.reason),
        (id.clone(), FinishReason::Stopped)
    );
    // Stopped is stopped.
    assert!(matches!(recording.stop(), Err(StopError::Finished { .. })));
    assert!(recorder.recording(&id).is_none());
}

#[test]
fn a_pause_drops_what_comes_and_resume_goes_on_in_the_same_file() {
    let dir = TestDir::new("recorder-pause");
    let (recorder, _) = open(dir.path(), test_limits());
    let recording = recorder.start(new_recording(1)).unwrap();
    let id = recording.id();
    let sink = recording.sink(0).unwrap();
    let packets = testing::stream(StreamShape::default(), 9.0);
    let third = packets.len() / 3;
    feed(&sink, &packets[..third]);
    let paused = recording.pause().unwrap();
    assert_eq!(paused.state, State::Paused);
    let on_disk = meta::read(&dir.join(id.as_str()), &id).unwrap();
    assert_eq!(on_disk.state, State::Paused);
    assert_eq!(recording.pause().unwrap().state, State::Paused);
    feed(&sink, &packets[third..2 * third]);
    assert_eq!(recording.resume().unwrap().state, State::Recording);
    assert_eq!(recording.resume().unwrap().state, State::Recording);
    feed(&sink, &packets[2 * third..]);
    let asset = recording.stop().unwrap();

    // Each part lasts 3 s, less the wait for the tables and a keyframe
    // (up to a GOP, 1 s); the 3 s in between are not recorded.
    assert!(
        asset.duration_secs > 3.5 && asset.duration_secs < 6.0,
        "{asset:?}"
    );
    // The file is the first part from its clean start, then the third
    // from its own: PAT, PMT, keyframe again.
    let mut gate = Gate::default();
    let mut expected = Vec::new();
    for p in &packets[..third] {
        if gate.admit(p) {
            expected.extend_from_slice(p);
        }
    }
    let first_part = expected.len();
    gate.restart();
    for p in &packets[2 * third..] {
        if gate.admit(p) {
            expected.extend_from_slice(p);
        }
    }
    let bytes = fs::read(recorder.track_path(&id, 0).unwrap()).unwrap();
    assert!(
        bytes == expected,
        "{} bytes, not {}",
        bytes.len(),
        expected.len()
    );
    assert!(starts_clean(&bytes) && starts_clean(&bytes[first_part..]));
    assert!((asset.duration_secs - gate.seconds()).abs() < 1e-9);
    assert!(recording.pause().is_err());
    assert!(recording.resume().is_err());
}

#[test]
fn a_full_queue_drops_and_counts_and_never_blocks() {
    let dir = TestDir::new("recorder-queue");
    let limits = Limits {
        queue_bytes: 100 * PACKET_LEN,
        ..test_limits()
    };
    let (recorder, _) = open(dir.path(), limits);
    let recording = recorder.start(new_recording(1)).unwrap();
    let sink = recording.sink(0).unwrap();
    let packets = testing::stream(StreamShape::default(), 1.0);
    // More than the queue holds, in one write: dropped at once, whole.
    sink.write(&testing::bytes(&packets[..101]));
    // A torn packet counts as one.
    sink.write(&packets[0][..100]);
    let asset = recording.stop().unwrap();
    assert_eq!(asset.dropped_packets, 102);
    assert_eq!(asset.tracks[0].bytes, 0);
}

#[test]
fn a_sink_is_send_and_sync_and_cheap_to_share() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<TrackSink>();
    shareable::<crate::Recording>();
    shareable::<Recorder>();
}

#[test]
fn shutting_down_interrupts_what_records() {
    let dir = TestDir::new("recorder-shutdown");
    let (recorder, _) = open(dir.path(), test_limits());
    let recording = recorder.start(new_recording(1)).unwrap();
    let id = recording.id();
    feed(
        &recording.sink(0).unwrap(),
        &testing::stream(StreamShape::default(), 3.0),
    );
    drop(recording);
    drop(recorder);
    let (recorder, recovery) = open(dir.path(), test_limits());
    assert_eq!(recovery, Recovery::default());
    let asset = recorder.get(&id).unwrap();
    assert_eq!(asset.state, State::Finished(FinishReason::Interrupted));
    assert!(asset.duration_secs > 1.5, "{asset:?}");
}
