//! A full disk, for real: a small tmpfs mounted in a private mount
//! namespace (so nothing outside the test sees it, and it goes when the
//! test does). The outer test needs root (`unshare -m`, `mount`); it runs
//! the inner ones, this same test binary, inside the namespace.
//!
//! The namespace keeps the propagation it inherits (`unshare`'s default
//! makes `/` private, which fails where `/` is not a mount point: a
//! chroot, as the fresh-machine test uses); instead the test's own
//! directory is bound onto itself and made private first, so the tmpfs
//! mounted under it inside the namespace reaches no other namespace.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use makara_test_support::{is_root, TestDir};

use super::*;
use crate::testing::{self, StreamShape};
use crate::{meta, scan, FinishReason, StartError, State, StopError};

const DIR_VAR: &str = "MAKARA_RECORDER_TMPFS_DIR";
const OUTER_NS_VAR: &str = "MAKARA_RECORDER_OUTER_MOUNT_NS";
const INNER_TESTS: &str = "tests::full_disk::inside_";

fn mount_namespace() -> String {
    let link = fs::read_link("/proc/self/ns/mnt").unwrap();
    link.display().to_string()
}

#[test]
fn a_full_disk_in_a_private_mount_namespace() {
    assert!(
        is_root(),
        "this test mounts a small tmpfs in a private mount namespace (unshare -m), \
         which needs root: run the tests as root (scripts/test in CI does)"
    );
    let dir = TestDir::new("recorder-tmpfs");
    let _private = PrivateMount::new(dir.path());
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "unchanged"])
        .arg(std::env::current_exe().unwrap())
        .args([
            INNER_TESTS,
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(DIR_VAR, dir.path())
        .env(OUTER_NS_VAR, mount_namespace())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 2 passed"),
        "the tests inside the mount namespace failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A directory bound onto itself and made a private mount, unmounted when
/// dropped: mounts made under it in another namespace stay there.
struct PrivateMount(PathBuf);

impl PrivateMount {
    fn new(dir: &Path) -> PrivateMount {
        run_mount(&[
            "--bind",
            &dir.display().to_string(),
            &dir.display().to_string(),
        ]);
        let mount = PrivateMount(dir.to_path_buf());
        run_mount(&["--make-private", &dir.display().to_string()]);
        mount
    }
}

impl Drop for PrivateMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn run_mount(args: &[&str]) {
    let status = Command::new("mount").args(args).status().unwrap();
    assert!(status.success(), "mount {args:?}");
}

/// A tmpfs of `bytes` on a fresh directory, in this namespace only.
fn tmpfs(name: &str, bytes: u64) -> PathBuf {
    let outer = std::env::var(OUTER_NS_VAR).unwrap_or_default();
    assert!(
        !outer.is_empty() && outer != mount_namespace(),
        "this test mounts a tmpfs: it runs only inside the private mount namespace \
         that a_full_disk_in_a_private_mount_namespace makes"
    );
    let path = PathBuf::from(std::env::var_os(DIR_VAR).unwrap()).join(name);
    fs::create_dir_all(&path).unwrap();
    let size = format!("size={bytes}");
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &size, "makara-recorder-test"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "mount tmpfs on {}", path.display());
    path
}

fn free_bytes(path: &Path) -> u64 {
    makara_store::space(path).unwrap().available_bytes
}

#[test]
#[ignore = "run by a_full_disk_in_a_private_mount_namespace inside its mount namespace"]
fn inside_enospc_stops_the_recording_and_harms_nothing_else() {
    let disk = tmpfs("enospc", 4 << 20);
    // Someone else's file on the same disk, e.g. the configuration.
    let other: Vec<u8> = (0..256 << 10).map(|n: u32| n as u8).collect();
    fs::write(disk.join("config.a"), &other).unwrap();
    let limits = Limits {
        min_free_bytes: 1 << 20,
        ..test_limits()
    };
    let root = disk.join("recordings");
    let (recorder, _) = open(&root, limits);
    let notices = recorder.subscribe();
    let recording = recorder.start(new_recording(2)).unwrap();
    let id = recording.id();
    // 2 × 30 s at 1 Mbit/s: 7.5 MB for a 4 MiB disk.
    let packets = testing::stream(StreamShape::default(), 30.0);
    let sinks = [recording.sink(0).unwrap(), recording.sink(1).unwrap()];
    for part in packets.chunks(1000) {
        sinks.iter().for_each(|sink| feed(sink, part));
        std::thread::sleep(Duration::from_millis(5));
    }
    let notice = notices.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!((&notice.id, notice.reason), (&id, FinishReason::DiskFull));
    let detail = notice.detail.unwrap();
    assert!(
        detail.contains("No space left on device") && detail.contains("track-"),
        "{detail}"
    );

    let asset = recorder.get(&id).unwrap();
    assert_eq!(asset.state, State::Finished(FinishReason::DiskFull));
    let dir = root.join(id.as_str());
    assert_eq!(
        meta::read(&dir, &id).unwrap(),
        asset,
        "the metadata on disk"
    );
    assert!(!dir.join(meta::RESERVE_FILE).exists());
    assert!(sinks.iter().all(|s| !s.is_open()));
    assert!(matches!(recording.stop(), Err(StopError::Finished { .. })));
    for (n, track) in asset.tracks.iter().enumerate() {
        let path = recorder.track_path(&id, n).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, track.bytes, "track {n}");
        assert!(starts_clean(&bytes), "track {n}");
        let file = fs::File::open(&path).unwrap();
        let measured = scan::measure(&file, 0, track.bytes).unwrap();
        assert!(
            (measured - track.duration_secs).abs() < 0.05,
            "track {n}: {measured} {track:?}"
        );
        assert!(track.duration_secs > 5.0, "{track:?}");
    }
    assert_eq!(fs::read(disk.join("config.a")).unwrap(), other);

    // Too little left to start another; deleting the asset makes room.
    let err = recorder.start(new_recording(1)).unwrap_err();
    assert!(matches!(err, StartError::LowSpace { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("a recording needs at least 1048576"),
        "{err}"
    );
    recorder.delete(&id).unwrap();
    assert!(free_bytes(&disk) > 3 << 20);
    recorder.start(new_recording(1)).unwrap().stop().unwrap();
}

#[test]
#[ignore = "run by a_full_disk_in_a_private_mount_namespace inside its mount namespace"]
fn inside_a_recording_stops_where_the_free_space_floor_is() {
    let disk = tmpfs("floor", 6 << 20);
    let limits = Limits {
        min_free_bytes: 4 << 20,
        keep_free_bytes: 3 << 20,
        ..Limits::default()
    };
    let (recorder, _) = open(&disk.join("recordings"), limits);
    let recording = recorder.start(new_recording(1)).unwrap();
    let sink = recording.sink(0).unwrap();
    // 60 s at 1 Mbit/s, given five times as fast as real time, until the
    // floor stops it.
    let packets = testing::stream(StreamShape::default(), 60.0);
    for part in packets.chunks(166) {
        if !sink.is_open() {
            break;
        }
        feed(&sink, part);
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_for("the recording to finish", || !recording.state().is_live());
    let asset = recording.asset();
    assert_eq!(asset.state, State::Finished(FinishReason::DiskFull));
    let detail = asset.detail.clone().unwrap_or_default();
    assert!(
        detail.contains("less than the 3145728 kept free"),
        "{detail}"
    );
    // Stopped within a check (a MiB, or 2 s) of crossing the floor:
    // well before the disk is full.
    assert!(
        free_bytes(&disk) > 1 << 20,
        "{} bytes free",
        free_bytes(&disk)
    );
    assert!(asset.tracks[0].bytes > 1 << 20, "{asset:?}");
}
