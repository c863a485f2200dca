//! Recovery: recordings a crash left live become assets at the next
//! start; leftovers of cut-short starts and deletes go.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use makara_test_support::TestDir;

use super::*;
use crate::asset::{Asset, State, Track};
use crate::gate::Gate;
use crate::meta;
use crate::testing::{self, StreamShape};
use crate::FinishReason;

/// A recording directory as a crash leaves it: metadata saying
/// recording, with a checkpoint after `checkpoint` bytes of `file`
/// lasting `seconds`; the track file as given; the reserve.
fn crashed(root: &Path, n: u8, file: &[u8], checkpoint: u64, seconds: f64) -> Id {
    let id = id(n);
    let dir = root.join(id.as_str());
    fs::create_dir_all(&dir).unwrap();
    let asset = Asset {
        id: id.clone(),
        title: "crashed".into(),
        description: String::new(),
        group: super::id(1),
        creator: String::new(),
        created: 1_700_000_000,
        modified: 1_700_000_000,
        state: State::Recording,
        detail: None,
        duration_secs: seconds,
        dropped_packets: 0,
        tracks: vec![Track {
            source: super::id(0x10),
            bytes: checkpoint,
            duration_secs: seconds,
        }],
    };
    meta::write(&dir, &asset).unwrap();
    fs::write(dir.join("track-0.ts"), file).unwrap();
    fs::write(dir.join(meta::RESERVE_FILE), [0u8; 4096]).unwrap();
    id
}

/// A file as the writer makes it, and how long it lasts.
fn recorded(seconds: f64) -> (Vec<u8>, f64) {
    let mut gate = Gate::default();
    let mut file = Vec::new();
    for p in testing::stream(StreamShape::default(), seconds) {
        if gate.admit(&p) {
            file.extend_from_slice(&p);
        }
    }
    (file, gate.seconds())
}

#[test]
fn recovery_finalises_what_a_crash_left_and_clears_leftovers() {
    let dir = TestDir::new("recorder-recover");
    let (file, seconds) = recorded(6.0);
    let whole = file.len() as u64;
    let mut torn = file.clone();
    torn.extend_from_slice(&[0x47, 0x01, 0x00]);
    // A checkpoint half-way: recovery measures the rest from the file.
    let half = whole / 2 - (whole / 2) % PACKET_LEN as u64;
    let mut half_gate = Gate::default();
    let stream = testing::stream(StreamShape::default(), 6.0);
    let mut admitted = 0;
    for p in &stream {
        if admitted < half && half_gate.admit(p) {
            admitted += PACKET_LEN as u64;
        }
    }
    let checkpointed = crashed(dir.path(), 2, &torn, half, half_gate.seconds());
    // No checkpoint: measured from the start.
    let unchecked = crashed(dir.path(), 3, &file, 0, 0.0);
    // A checkpoint past the end (the last writes were lost): measured
    // from the start too.
    let lost = crashed(dir.path(), 4, &file[..PACKET_LEN * 1000], whole, seconds);
    fs::create_dir_all(dir.join(".new-x/y")).unwrap();
    fs::create_dir_all(dir.join(".deleted-z")).unwrap();
    let broken = dir.join(id(5).as_str());
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join(meta::META_FILE), "not = [toml").unwrap();
    fs::create_dir_all(dir.join("lost+found")).unwrap();

    let recovery = crate::recover(dir.path()).unwrap();
    let mut finalised = recovery.finalised.clone();
    finalised.sort();
    assert_eq!(
        finalised,
        [checkpointed.clone(), unchecked.clone(), lost.clone()]
    );
    assert_eq!(recovery.removed.len(), 2);
    assert_eq!(recovery.problems.len(), 1);
    assert_eq!(recovery.problems[0].path, broken);
    assert!(
        recovery.problems[0].detail.contains("recording.toml"),
        "{:?}",
        recovery.problems
    );
    assert!(!dir.join(".new-x").exists() && !dir.join(".deleted-z").exists());
    assert!(dir.join("lost+found").exists() && broken.exists());

    let (recorder, again) = open(dir.path(), test_limits());
    assert_eq!(again.finalised, Vec::<Id>::new());
    assert_eq!(again.problems.len(), 1);
    for (id, bytes) in [
        (&checkpointed, whole),
        (&unchecked, whole),
        (&lost, 188_000),
    ] {
        let asset = recorder.get(id).unwrap();
        assert_eq!(
            asset.state,
            State::Finished(FinishReason::Interrupted),
            "{id}"
        );
        assert_eq!(asset.tracks[0].bytes, bytes, "{id}");
        let path = recorder.track_path(id, 0).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), bytes, "{id}");
        assert!(!dir.join(id.as_str()).join(meta::RESERVE_FILE).exists());
        assert_eq!(meta::read(&dir.join(id.as_str()), id).unwrap(), asset);
    }
    for id in [&checkpointed, &unchecked] {
        let asset = recorder.get(id).unwrap();
        // Up to one PCR step is lost at the checkpoint.
        assert!(
            (asset.duration_secs - seconds).abs() < 0.05,
            "{asset:?} vs {seconds}"
        );
    }
    assert!(recorder.get(&lost).unwrap().duration_secs < seconds / 2.0);
}

const CRASH_DIR_VAR: &str = "MAKARA_RECORDER_CRASH_DIR";
const INNER_TEST: &str = "tests::crash::inside_a_process_that_is_killed";

#[test]
fn a_recording_killed_mid_write_is_recovered_at_the_next_open() {
    let dir = TestDir::new("recorder-sigkill");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([INNER_TEST, "--exact", "--ignored", "--nocapture"])
        .env(CRASH_DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let recording = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("recording ").map(str::to_owned));
    let id = Id::parse(&recording.expect("the child said what it records")).unwrap();
    let track = dir.join(id.as_str()).join("track-0.ts");
    wait_for("the track file to grow", || {
        fs::metadata(&track).is_ok_and(|m| m.len() > 256 << 10)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let on_disk = meta::read(&dir.join(id.as_str()), &id).unwrap();
    assert_eq!(on_disk.state, State::Recording);

    let (recorder, recovery) = open(dir.path(), test_limits());
    assert_eq!(recovery.finalised, std::slice::from_ref(&id));
    let asset = recorder.get(&id).unwrap();
    assert_eq!(asset.state, State::Finished(FinishReason::Interrupted));
    let bytes = fs::read(recorder.track_path(&id, 0).unwrap()).unwrap();
    assert_eq!(bytes.len() as u64, asset.tracks[0].bytes);
    assert!(starts_clean(&bytes));
    assert!(asset.duration_secs > 1.0, "{asset:?}");
}

#[test]
#[ignore = "run by a_recording_killed_mid_write_is_recovered_at_the_next_open, which kills it"]
fn inside_a_process_that_is_killed() {
    let dir = std::env::var_os(CRASH_DIR_VAR).expect("run by the crash test");
    let (recorder, _) = open(Path::new(&dir), test_limits());
    let recording = recorder.start(new_recording(1)).unwrap();
    println!("recording {}", recording.id());
    let sink = recording.sink(0).unwrap();
    // 4 s of stream at once, then more now and then, until killed.
    let packets = testing::stream(StreamShape::default(), 60.0);
    let (first, rest) = packets.split_at(packets.len() / 15);
    feed(&sink, first);
    for second in rest.chunks(rest.len() / 56) {
        std::thread::sleep(Duration::from_millis(250));
        feed(&sink, second);
    }
    panic!("not killed within 15 s");
}
