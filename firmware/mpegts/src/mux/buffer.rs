//! The muxer's model of a receiver's decoder buffers (the T-STD of
//! ISO/IEC 13818-1 §2.4.2), which decides when a unit may leave.
//!
//! A byte sent at t sits in the receiver's buffers until its unit's
//! decoding time (DTS, else PTS). The standard bounds both how long (1 s,
//! §2.4.2.6) and how much (the buffer size: BSn for audio, EBSn for
//! video). So a unit's first packet leaves no earlier than [`MAX_LEAD_MS`]
//! before its decoding time, and a packet leaves only if the bytes it
//! adds, with those already sent and not yet decoded, fit the stream's
//! buffer.
//!
//! The receiver does not see departure times but byte arrival times
//! interpolated between PCRs. On a constant-rate stream the two agree; on
//! a variable-rate one a byte may appear to arrive up to one PCR interval
//! early. The lead leaves 100 ms for that (the longest PCR interval), and
//! the model keeps each byte a margin longer than the decoder does.

use std::collections::VecDeque;

use makara_media::PCR_HZ;

use crate::packet::PACKET_LEN;

/// No unit's first byte leaves more than this before its decoding time:
/// the T-STD's 1 s, less the 100 ms an interpolated arrival may be early.
pub const MAX_LEAD_MS: u32 = 900;
/// BSn of MPEG-1/2 audio (BSmux 736 + BSdec 2848, §2.4.2.7) and of AAC
/// with up to two channels (§2.4.2.7, ISO/IEC 13818-7): the same 3584 bytes.
/// The model counts the transport buffer's bytes in it too, which errs
/// strict.
pub const AUDIO_BUFFER_BYTES: usize = 3584;

/// The transport buffer in front of a decoder (§2.4.2.3): 512 bytes,
/// taking whole packets, drained at a stream's rate: Rx = 2 Mbit/s for
/// audio (§2.4.2.7); for video, Rbx of its level (see
/// [`crate::tstd::buffers`]), the slower of its two leaks, so that
/// neither TBn nor MBn fills. A burst of one PES's packets at a mux rate
/// above that would overflow them, so packets are paced to it.
#[derive(Debug)]
pub(super) struct TransportBuffer {
    /// Bits times the 27 MHz rate, so that draining stays in integers.
    level: u128,
    at: u64,
    rate_bps: u128,
}

impl TransportBuffer {
    const SIZE_BITS: u128 = 512 * 8;
    const AUDIO_RX_BPS: u64 = 2_000_000;
    const PACKET_BITS: u128 = PACKET_LEN as u128 * 8;

    pub fn audio() -> TransportBuffer {
        TransportBuffer::draining_at(Self::AUDIO_RX_BPS)
    }

    pub fn draining_at(rate_bps: u64) -> TransportBuffer {
        TransportBuffer {
            level: 0,
            at: 0,
            rate_bps: u128::from(rate_bps.max(1)),
        }
    }

    pub fn rate_bps(&self) -> u64 {
        self.rate_bps as u64
    }

    fn level_at(&self, t: u64) -> u128 {
        let drained = u128::from(t.saturating_sub(self.at)) * self.rate_bps;
        self.level.saturating_sub(drained)
    }

    /// Whether a packet whose last byte is in at `end` fits.
    pub fn fits(&self, end: u64) -> bool {
        self.level_at(end) + Self::PACKET_BITS * u128::from(PCR_HZ)
            <= Self::SIZE_BITS * u128::from(PCR_HZ)
    }

    /// Counts a packet whose last byte is in at `end`.
    pub fn deliver(&mut self, end: u64) {
        self.level = self.level_at(end) + Self::PACKET_BITS * u128::from(PCR_HZ);
        self.at = end;
    }
}

/// Bytes sent and not yet decoded, per unit, in decode order.
#[derive(Debug)]
pub(super) struct DecoderBuffer {
    units: VecDeque<(u64, usize)>,
    bytes: usize,
    limit: Option<usize>,
}

impl DecoderBuffer {
    /// A buffer of `limit` bytes, or an unbounded one.
    pub fn new(limit: Option<usize>) -> DecoderBuffer {
        DecoderBuffer {
            units: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }

    /// Forgets the units decoded by `now`, each held `margin` longer.
    pub fn drain(&mut self, now: u64, margin: u64) {
        while let Some(&(removal, bytes)) = self.units.front() {
            if removal.saturating_add(margin) > now {
                return;
            }
            self.bytes -= bytes;
            self.units.pop_front();
        }
    }

    /// Whether `bytes` more fit. An empty buffer takes a packet whatever
    /// its limit, so a unit larger than the buffer still goes, if late.
    pub fn has_room(&self, bytes: usize) -> bool {
        self.limit
            .is_none_or(|limit| self.bytes == 0 || self.bytes + bytes <= limit)
    }

    /// Counts `bytes` of the unit decoded at `removal` as sent.
    pub fn deliver(&mut self, removal: u64, bytes: usize) {
        match self.units.back_mut() {
            Some((last, held)) if *last == removal => *held += bytes,
            _ => self.units.push_back((removal, bytes)),
        }
        self.bytes += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_leave_at_their_decoding_time_plus_the_margin() {
        let mut b = DecoderBuffer::new(Some(1_000));
        b.deliver(100, 600);
        b.deliver(100, 200); // the same unit
        b.deliver(200, 150);
        assert!(b.has_room(50) && !b.has_room(51));
        b.drain(109, 10);
        assert!(!b.has_room(51));
        b.drain(110, 10);
        assert!(b.has_room(850) && !b.has_room(851));
        b.drain(210, 10);
        assert!(b.has_room(1_000));
    }

    #[test]
    fn the_transport_buffer_drains_at_two_megabits() {
        // Two packets at once hold 376 bytes; a third fits once 52 have
        // drained: 416 bits at 2 Mbit/s, 5 616 ticks. Then it is full, and
        // the next fits after a whole packet drained, 20 304 ticks.
        let mut tb = TransportBuffer::audio();
        tb.deliver(0);
        tb.deliver(0);
        assert!(!tb.fits(5_615) && tb.fits(5_616));
        tb.deliver(5_616);
        assert!(!tb.fits(5_616 + 20_303) && tb.fits(5_616 + 20_304));
    }

    #[test]
    fn an_empty_buffer_takes_anything() {
        let b = DecoderBuffer::new(Some(100));
        assert!(b.has_room(184));
        assert!(DecoderBuffer::new(None).has_room(usize::MAX));
    }
}
