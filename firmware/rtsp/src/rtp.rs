//! One client's RTP stream of one track (RFC 3550 §5.1): its SSRC, its
//! sequence numbers and its timestamp offset, all drawn at random when
//! the client sets the track up, and the counts a sender report gives.

use crate::packetize::Payload;
use crate::rtcp;

/// The RTP fixed header's length (no CSRCs, no extension).
pub const HEADER_LEN: usize = 12;

/// The random values a new RTP stream starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpStart {
    pub ssrc: u32,
    pub sequence: u16,
    /// Added to every timestamp, so that they start at a random value.
    pub timestamp_offset: u32,
}

/// A track's RTP as one client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpStream {
    start: RtpStart,
    payload_type: u8,
    clock_rate: u32,
    next_sequence: u16,
    packets: u32,
    octets: u32,
}

impl RtpStream {
    pub fn new(start: RtpStart, payload_type: u8, clock_rate: u32) -> RtpStream {
        RtpStream {
            start,
            payload_type,
            clock_rate,
            next_sequence: start.sequence,
            packets: 0,
            octets: 0,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.start.ssrc
    }

    /// The sequence number of the next packet.
    pub fn next_sequence(&self) -> u16 {
        self.next_sequence
    }

    /// The RTP timestamp of a media time on the 90 kHz clock: scaled to
    /// the track's clock, plus this stream's offset, modulo 2^32.
    pub fn timestamp(&self, time_90k: u64) -> u32 {
        let scaled = u128::from(time_90k) * u128::from(self.clock_rate) / 90_000;
        (scaled as u32).wrapping_add(self.start.timestamp_offset)
    }

    /// Writes one packet (header then payload) to `out`, after what is
    /// there, and counts it.
    pub fn packet(&mut self, time_90k: u64, payload: &Payload, out: &mut Vec<u8>) {
        let marker = if payload.marker { 0x80 } else { 0 };
        out.push(0x80); // version 2, no padding, extension or CSRCs
        out.push(marker | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.next_sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp(time_90k).to_be_bytes());
        out.extend_from_slice(&self.start.ssrc.to_be_bytes());
        out.extend_from_slice(&payload.data);
        self.next_sequence = self.next_sequence.wrapping_add(1);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload.data.len() as u32);
    }

    /// A sender report for wall-clock time `ntp` (NTP format), which is
    /// media time `time_90k`: the pair that lets a client line this track
    /// up with the others.
    pub fn sender_report(&self, ntp: u64, time_90k: u64, cname: &str) -> Vec<u8> {
        rtcp::sender_report(
            &rtcp::SenderInfo {
                ssrc: self.start.ssrc,
                ntp,
                rtp_timestamp: self.timestamp(time_90k),
                packets: self.packets,
                octets: self.octets,
            },
            cname,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: RtpStart = RtpStart {
        ssrc: 0x1122_3344,
        sequence: 0xfffe,
        timestamp_offset: 0xffff_ff00,
    };

    #[test]
    fn header_golden() {
        let mut stream = RtpStream::new(START, 96, 90_000);
        let mut out = Vec::new();
        let first = Payload {
            data: vec![0x65, 1],
            marker: false,
        };
        stream.packet(0x100, &first, &mut out);
        assert_eq!(
            out,
            [0x80, 96, 0xff, 0xfe, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x65, 1]
        );
        out.clear();
        let last = Payload {
            data: vec![2],
            marker: true,
        };
        stream.packet(0x100, &last, &mut out);
        // Marker, and the sequence number wraps.
        assert_eq!(&out[..4], [0x80, 0x80 | 96, 0xff, 0xff]);
        stream.packet(0x100, &last, &mut out);
        assert_eq!(stream.next_sequence(), 1);
    }

    #[test]
    fn audio_timestamps_count_samples() {
        let stream = RtpStream::new(
            RtpStart {
                timestamp_offset: 10,
                ..START
            },
            97,
            48_000,
        );
        // One second of 90 kHz is 48000 samples.
        assert_eq!(stream.timestamp(90_000), 48_010);
        // 1024 samples at 48 kHz is 1920 ticks of 90 kHz.
        assert_eq!(stream.timestamp(1920) - stream.timestamp(0), 1024);
    }

    #[test]
    fn a_sender_report_counts_what_was_sent() {
        let mut stream = RtpStream::new(START, 96, 90_000);
        let mut out = Vec::new();
        for _ in 0..3 {
            let p = Payload {
                data: vec![0; 100],
                marker: true,
            };
            stream.packet(0, &p, &mut out);
        }
        let report = stream.sender_report(0x0102_0304_0506_0708, 90_000, "m");
        let parsed = rtcp::parse_sender_info(&report).unwrap();
        assert_eq!(parsed.packets, 3);
        assert_eq!(parsed.octets, 300);
        assert_eq!(parsed.rtp_timestamp, 90_000u32.wrapping_add(0xffff_ff00));
        assert_eq!(parsed.ntp, 0x0102_0304_0506_0708);
    }
}
