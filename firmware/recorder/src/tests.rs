//! Tests of the recorder as a whole, through its public API, on real
//! files: recording, the catalog, recovery after a crash, a full disk (in
//! a tmpfs of a private mount namespace) and a check by ffprobe.

mod catalog;
mod crash;
mod ffprobe;
mod full_disk;
mod recording;

use std::path::Path;
use std::time::{Duration, Instant};

use makara_config::Id;
use makara_mpegts::packet::PACKET_LEN;

use crate::testing::Packet;
use crate::{Limits, NewRecording, OpenError, Recorder, Recovery, TrackSink};

/// The id `00000000-0000-4000-8000-0000000000nn`.
fn id(n: u8) -> Id {
    Id::parse(&format!("00000000-0000-4000-8000-0000000000{n:02x}")).unwrap()
}

/// A recording of `tracks` sources (ids 0x10, 0x11, ...) for group 1.
fn new_recording(tracks: u8) -> NewRecording {
    NewRecording {
        title: "Lecture".into(),
        description: "hall 2".into(),
        group: id(1),
        creator: "operator".into(),
        sources: (0..tracks).map(|n| id(0x10 + n)).collect(),
    }
}

/// Limits that fit a test's scratch disk: no free-space floor.
fn test_limits() -> Limits {
    Limits {
        min_free_bytes: 0,
        keep_free_bytes: 0,
        ..Limits::default()
    }
}

/// Opens the recorder, waiting a little while its lock is held. A test
/// that reopens a recorder it has just dropped can find its flock still
/// held: a child that another test thread forks in that instant shares
/// the lock file's open description until its exec closes it.
fn open(root: &Path, limits: Limits) -> (Recorder, Recovery) {
    for _ in 0..50 {
        match Recorder::open(root, limits) {
            Err(OpenError::Lock(makara_store::LockError::Held { .. })) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            opened => return opened.expect("open the recorder"),
        }
    }
    Recorder::open(root, limits).expect("open the recorder")
}

/// Gives the sink the packets as the pipeline does: seven at a time.
fn feed(sink: &TrackSink, packets: &[Packet]) {
    for datagram in packets.chunks(7) {
        sink.write(&datagram.concat());
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

/// Whether `bytes` are whole packets that start with a PAT then a PMT.
fn starts_clean(bytes: &[u8]) -> bool {
    let pid = |n: usize| crate::testing::pid(&bytes[n * PACKET_LEN..(n + 1) * PACKET_LEN]);
    bytes.len() >= 2 * PACKET_LEN
        && bytes.len().is_multiple_of(PACKET_LEN)
        && pid(0) == 0
        && pid(1) == crate::testing::PMT_PID
}
