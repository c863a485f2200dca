//! What arrived and when: the counters of an input's report, and whether
//! it is receiving. Time is passed in, so the rules are tested without
//! waiting.

use std::time::{Duration, Instant};

use makara_mpegts::packet::PACKET_LEN;

/// An input is receiving while its last packet is at most this old.
pub const RECEIVING_WINDOW: Duration = Duration::from_secs(1);

/// Arrivals since the input opened.
#[derive(Debug, Clone)]
pub struct Activity {
    opened_at: Instant,
    last_packet_at: Option<Instant>,
    last_bytes_at: Option<Instant>,
    packets: u64,
    bytes: u64,
}

/// How long nothing usable has come, once that is longer than
/// [`RECEIVING_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence {
    /// Whole seconds since the last packet (or since the input opened).
    pub seconds: u64,
    /// Bytes did arrive in the last window, but no transport packet was
    /// found in them.
    pub bytes_without_packets: bool,
}

impl Activity {
    pub fn new(now: Instant) -> Activity {
        Activity {
            opened_at: now,
            last_packet_at: None,
            last_bytes_at: None,
            packets: 0,
            bytes: 0,
        }
    }

    /// A datagram or message arrived (packets in it or not).
    pub fn bytes_arrived(&mut self, now: Instant) {
        self.last_bytes_at = Some(now);
    }

    /// `packets` whole transport packets were found. The byte count is
    /// theirs: garbage skipped is not counted (sync losses show it).
    pub fn packets_found(&mut self, now: Instant, packets: usize) {
        if packets > 0 {
            self.packets += packets as u64;
            self.bytes += (packets * PACKET_LEN) as u64;
            self.last_packet_at = Some(now);
        }
    }

    pub fn packets(&self) -> u64 {
        self.packets
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn receiving(&self, now: Instant) -> bool {
        self.last_packet_at
            .is_some_and(|t| now.saturating_duration_since(t) <= RECEIVING_WINDOW)
    }

    /// How long the input has gone without packets; `None` while it
    /// receives, and in its first second.
    pub fn silence(&self, now: Instant) -> Option<Silence> {
        let since = self.last_packet_at.unwrap_or(self.opened_at);
        let quiet = now.saturating_duration_since(since);
        if quiet <= RECEIVING_WINDOW {
            return None;
        }
        let bytes_without_packets = self
            .last_bytes_at
            .is_some_and(|t| now.saturating_duration_since(t) <= RECEIVING_WINDOW);
        Some(Silence {
            seconds: quiet.as_secs(),
            bytes_without_packets,
        })
    }
}

impl Silence {
    /// "no packets on udp://… for 3 s", or what is wrong with the bytes
    /// that do come.
    pub fn describe(&self, place: &str) -> String {
        let seconds = self.seconds;
        if self.bytes_without_packets {
            format!(
                "data arrives on {place} but holds no transport stream packets (no 0x47 sync byte every 188 bytes) for {seconds} s"
            )
        } else {
            format!("no packets on {place} for {seconds} s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn silent_from_the_start() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        assert!(!a.receiving(t0));
        assert_eq!(a.silence(t0 + 900 * MS), None);
        let s = a.silence(t0 + 3500 * MS).unwrap();
        assert_eq!(s.seconds, 3);
        assert_eq!(s.describe("udp://x:1"), "no packets on udp://x:1 for 3 s");
    }

    #[test]
    fn receiving_for_a_second_after_each_packet() {
        let t0 = Instant::now();
        let mut a = Activity::new(t0);
        a.bytes_arrived(t0 + 10 * MS);
        a.packets_found(t0 + 10 * MS, 7);
        assert!(a.receiving(t0 + 1000 * MS));
        assert_eq!(a.silence(t0 + 1000 * MS), None);
        assert!(!a.receiving(t0 + 1100 * MS));
        assert_eq!(a.silence(t0 + 2100 * MS).unwrap().seconds, 2);
        assert_eq!((a.packets(), a.bytes()), (7, 7 * 188));
    }

    #[test]
    fn bytes_without_packets_are_told_apart() {
        let t0 = Instant::now();
        let mut a = Activity::new(t0);
        a.bytes_arrived(t0 + 1500 * MS);
        a.packets_found(t0 + 1500 * MS, 0);
        let s = a.silence(t0 + 2000 * MS).unwrap();
        assert!(s.bytes_without_packets);
        assert!(s
            .describe("udp://x:1")
            .starts_with("data arrives on udp://x:1 but"));
        assert!(!a.silence(t0 + 3000 * MS).unwrap().bytes_without_packets);
    }
}
