//! Where a track's file starts: at a point a player can start from.
//!
//! A recording taps a stream that is already running, so its first
//! packets are mid-table and mid-picture. The gate lets nothing through
//! until it knows the program (PAT and PMT seen), then lets through the
//! next PAT, then the PMT, then (for a program with video) PSI only until
//! a video packet with random_access_indicator (a keyframe), and from
//! there everything. A file therefore reads PAT, PMT, keyframe, and its
//! first picture decodes. A program without video starts at the PAT. A
//! stream that never marks a keyframe is recorded anyway after
//! [`KEYFRAME_WAIT`] of its own clock.
//!
//! The gate also measures what it lets through ([`Timeline`]). After a
//! pause, [`Gate::restart`] makes the file go on from a clean point again
//! and no time across the pause counts.

use makara_mpegts::packet::{TsPacket, PAT_PID};

use crate::limits::KEYFRAME_WAIT;
use crate::program::ProgramMap;
use crate::timeline::Timeline;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Learning the program, or waiting for a PAT to start at.
    Pat,
    /// The PAT is in; the PMT comes next.
    Pmt,
    /// PAT and PMT are in; waiting for a keyframe.
    Keyframe,
    /// Everything goes in.
    Open,
}

/// The clean-start filter and clock of one track. See the module
/// documentation.
#[derive(Debug)]
pub(crate) struct Gate {
    map: ProgramMap,
    phase: Phase,
    /// What went through.
    recorded: Timeline,
    /// How long the wait for a keyframe has lasted.
    waited: Timeline,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            map: ProgramMap::default(),
            phase: Phase::Pat,
            recorded: Timeline::default(),
            waited: Timeline::default(),
        }
    }
}

impl Gate {
    /// Whether `packet` (188 bytes) goes into the file.
    pub fn admit(&mut self, packet: &[u8]) -> bool {
        let Ok(ts) = TsPacket::new_checked(packet) else {
            return false; // not a packet: a file holds whole packets only
        };
        let pid = ts.pid();
        let psi = self.map.is_psi(pid);
        if psi {
            self.map.push(packet);
        }
        let reading = self.map.reading(&ts);
        let admitted = match self.phase {
            Phase::Pat if pid == PAT_PID && ts.payload_unit_start() && self.map.known() => {
                self.phase = Phase::Pmt;
                true
            }
            Phase::Pat => false,
            Phase::Pmt if self.map.pmt_pid() == Some(pid) && ts.payload_unit_start() => {
                self.phase = match self.map.video_pid() {
                    Some(_) => Phase::Keyframe,
                    None => Phase::Open,
                };
                self.waited = Timeline::default();
                true
            }
            Phase::Pmt => pid == PAT_PID,
            Phase::Keyframe if self.map.video_pid() == Some(pid) && ts.random_access() => {
                self.phase = Phase::Open;
                true
            }
            Phase::Keyframe => {
                if let Some(r) = reading {
                    self.waited.observe(r.ticks);
                }
                if self.waited.seconds() >= KEYFRAME_WAIT.as_secs_f64() {
                    self.phase = Phase::Open;
                }
                psi
            }
            Phase::Open => true,
        };
        if let Some(r) = reading.filter(|_| admitted) {
            if r.discontinuity {
                self.recorded.cut();
            }
            self.recorded.observe(r.ticks);
        }
        admitted
    }

    /// Starts again from a clean point (after a pause): what comes next
    /// does not follow on from what was recorded.
    pub fn restart(&mut self) {
        self.phase = Phase::Pat;
        self.recorded.cut();
    }

    /// Seconds recorded so far.
    pub fn seconds(&self) -> f64 {
        self.recorded.seconds()
    }
}

#[cfg(test)]
mod tests {
    use makara_mpegts::packet::PACKET_LEN;

    use super::*;
    use crate::testing::{self, Packet, StreamShape};

    fn run(gate: &mut Gate, packets: &[Packet]) -> Vec<Packet> {
        packets
            .iter()
            .filter(|p| gate.admit(&p[..]))
            .copied()
            .collect()
    }

    fn pids(packets: &[Packet]) -> Vec<u16> {
        packets.iter().map(|p| testing::pid(p)).collect()
    }

    #[test]
    fn a_file_starts_with_pat_pmt_and_a_keyframe() {
        let packets = testing::stream(StreamShape::default(), 3.0);
        // Join mid-GOP and mid-table: just after the first keyframe began.
        let joined = &packets[testing::first_keyframe(&packets, testing::VIDEO_PID) + 1..];
        let mut gate = Gate::default();
        let out = run(&mut gate, joined);
        let head = pids(&out[..2]);
        assert_eq!(head, [0, testing::PMT_PID]);
        let first_media = out
            .iter()
            .position(|p| ![0, testing::PMT_PID].contains(&testing::pid(p)))
            .unwrap();
        let keyframe = TsPacket::new_checked(&out[first_media][..]).unwrap();
        assert_eq!(keyframe.pid(), testing::VIDEO_PID);
        assert!(keyframe.random_access());
        // Everything from the keyframe on goes in, nothing of the first
        // GOP we joined in the middle of.
        let at = testing::first_keyframe(joined, testing::VIDEO_PID);
        assert!(out[first_media..] == joined[at..], "{first_media} {at}");
        let expected = (joined.len() - at) as f64 * PACKET_LEN as f64 * 8.0 / 1e6;
        assert!(
            (gate.seconds() - expected).abs() < 0.1,
            "{}",
            gate.seconds()
        );
    }

    #[test]
    fn audio_only_starts_at_the_pat() {
        let shape = StreamShape {
            video: false,
            ..StreamShape::default()
        };
        let packets = testing::stream(shape, 1.0);
        let mut gate = Gate::default();
        let out = run(&mut gate, &packets[5..]);
        assert_eq!(pids(&out[..2]), [0, testing::PMT_PID]);
        assert!(pids(&out).contains(&testing::AUDIO_PID));
        // The first PAT comes before the PMT is known, so the second one
        // starts the file, and everything from it on goes in.
        let second_pat = packets[5..]
            .iter()
            .enumerate()
            .filter(|(_, p)| testing::pid(&p[..]) == 0)
            .nth(1)
            .map(|(i, _)| i)
            .unwrap();
        assert!(out[..] == packets[5 + second_pat..], "{second_pat}");
    }

    #[test]
    fn garbage_is_never_admitted() {
        let mut gate = Gate::default();
        for p in testing::stream(StreamShape::default(), 1.0) {
            gate.admit(&p);
        }
        assert!(!gate.admit(&[0u8; PACKET_LEN]));
        assert!(!gate.admit(&[0x47; 100]));
    }

    #[test]
    fn after_a_restart_the_file_goes_on_from_a_clean_point() {
        let packets = testing::stream(StreamShape::default(), 4.0);
        let (before, after) = packets.split_at(packets.len() / 2);
        let mut gate = Gate::default();
        let first = run(&mut gate, before);
        let recorded = gate.seconds();
        gate.restart();
        // The pause: a second of stream nobody gives the gate.
        let resumed_at = after.len() / 4 + 3;
        let second = run(&mut gate, &after[resumed_at..]);
        assert_eq!(pids(&second[..2]), [0, testing::PMT_PID]);
        // The second part lasts as long as it would in a file of its own:
        // nothing across the pause counts.
        // (A fresh gate skips the first PAT, which comes before it knows
        // the program, but starts at the same keyframe.)
        let mut alone = Gate::default();
        assert!(second.ends_with(&run(&mut alone, &after[resumed_at..])));
        assert_eq!(pids(&first[..2]), [0, testing::PMT_PID]);
        assert!(recorded > 0.5, "{recorded}");
        let total = gate.seconds();
        assert!((total - recorded - alone.seconds()).abs() < 1e-6, "{total}");
    }

    #[test]
    fn without_keyframes_it_records_after_the_wait() {
        let shape = StreamShape {
            gop: 100_000, // only the very first frame is a keyframe
            ..StreamShape::default()
        };
        let packets = testing::stream(shape, KEYFRAME_WAIT.as_secs_f64() + 3.0);
        let mut gate = Gate::default();
        let out = run(&mut gate, &packets[200..]);
        let video = pids(&out)
            .iter()
            .filter(|&&p| p == testing::VIDEO_PID)
            .count();
        assert!(video > 0);
        assert!(
            gate.seconds() > 1.0 && gate.seconds() < 4.0,
            "{}",
            gate.seconds()
        );
    }
}
