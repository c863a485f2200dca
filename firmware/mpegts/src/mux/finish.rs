//! Ending a transport stream after whole PES packets, for a stop: the last
//! access unit of every stream reaches a receiver complete, instead of
//! cut where the clock happened to be.

use makara_media::Pcr27M;

use super::Muxer;
use crate::packet::PACKET_LEN;

impl Muxer {
    /// Whether some stream is part-way through a PES packet, so that
    /// ending the transport stream here would cut it.
    pub fn mid_pes(&self) -> bool {
        self.streams
            .iter()
            .flatten()
            .any(|s| s.queue.front().is_some_and(|pes| pes.started()))
    }

    /// Ends the stream after whole PES packets. The units not yet started
    /// are let go: a stop does not wait for them. Then slots are filled as
    /// by [`Muxer::fill_until`], on the same schedule, with the tables and
    /// PCRs at their intervals and the receiver's buffers respected, until
    /// no PES packet is left part-sent; or up to `until`, whichever comes
    /// first. Returns whether every PES packet is whole.
    ///
    /// The muxer can still be used afterwards; a unit pushed then starts a
    /// new PES packet.
    pub fn finish_until(
        &mut self,
        until: Pcr27M,
        out: &mut Vec<(Pcr27M, [u8; PACKET_LEN])>,
    ) -> bool {
        self.let_go_unstarted();
        // Only part-sent heads are left, so fill_until sends nothing new;
        // it is run one slot at a time to stop at the last of them.
        while self.mid_pes() {
            let next = self.next_departure();
            if next > until {
                return false;
            }
            self.fill_until(next, out);
        }
        true
    }

    /// Takes every PES packet that has not started out of its queue, and
    /// its bytes out of the backlog.
    fn let_go_unstarted(&mut self) {
        for stream in self.streams.iter_mut().flatten() {
            let mut kept = 0;
            while stream.queue.len() > kept {
                if kept == 0 && stream.queue[0].started() {
                    kept = 1;
                    continue;
                }
                if let Some(pes) = stream.queue.remove(kept) {
                    self.queued -= pes.bytes.len();
                    self.pool.give(pes.bytes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M};

    use super::super::{MuxConfig, Muxer};
    use crate::demux::{DemuxEvent, Demuxer, PesUnit};
    use crate::packet::PACKET_LEN;

    type Out = Vec<(Pcr27M, [u8; PACKET_LEN])>;

    /// 2 Mbit/s of H.264 and AAC, the first slot at 1000 ticks.
    fn muxer() -> Muxer {
        let mut config = MuxConfig::new(2_000_000);
        config.audio = Some((0x101, AudioCodec::AacAdts));
        Muxer::new(config.validate().unwrap(), Pcr27M(1_000))
    }

    fn video(len: usize, dts: u64, seed: u8) -> EncodedVideo {
        EncodedVideo {
            data: (0..len).map(|i| (i as u8).wrapping_add(seed)).collect(),
            pts: Clock90k(dts),
            dts: Clock90k(dts),
            keyframe: true,
        }
    }

    fn audio(len: usize, pts: u64) -> EncodedAudio {
        EncodedAudio {
            data: vec![0xA5; len],
            pts: Clock90k(pts),
        }
    }

    /// The whole PES packets the project's parser finds, and whether it
    /// found anything wrong (lost packets, a cut PES, a bad section).
    fn parse(out: &Out) -> (Vec<PesUnit>, Vec<DemuxEvent>) {
        let mut demuxer = Demuxer::new();
        for (_, packet) in out {
            demuxer.push(packet);
        }
        demuxer.finish();
        let events: Vec<DemuxEvent> = std::iter::from_fn(|| demuxer.poll()).collect();
        let problems = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    DemuxEvent::Continuity { .. } | DemuxEvent::Malformed { .. }
                )
            })
            .cloned()
            .collect();
        let units = events
            .into_iter()
            .filter_map(|e| match e {
                DemuxEvent::Pes(unit) => Some(unit),
                _ => None,
            })
            .collect();
        (units, problems)
    }

    /// A 20 000-byte picture is about 110 packets; after 30 slots it is
    /// part-sent, with an audio frame and a second picture queued behind.
    fn mid_picture() -> (Muxer, Out, EncodedVideo) {
        let mut m = muxer();
        let first = video(20_000, 0, 1);
        m.push_video(&first);
        let mut out = Vec::new();
        let slot = 188 * 8 * 27_000_000 / 2_000_000;
        m.fill_until(Pcr27M(1_000 + 30 * slot), &mut out);
        m.push_audio(&audio(400, 0));
        m.push_video(&video(20_000, 3_000, 2));
        assert!(m.mid_pes(), "the first picture is part-sent");
        (m, out, first)
    }

    #[test]
    fn finishing_completes_the_started_picture_and_starts_nothing() {
        let (mut m, mut out, first) = mid_picture();
        assert!(m.finish_until(Pcr27M(u64::MAX), &mut out));
        assert!(!m.mid_pes());
        assert_eq!(m.queued_bytes(), 0, "the unstarted units are let go");
        let (units, problems) = parse(&out);
        assert_eq!(problems, []);
        assert_eq!(units.len(), 1, "only the started picture: {units:?}");
        assert_eq!(units[0].payload, first.data);
        // It ends right after the picture's last packet.
        let last = &out.last().unwrap().1;
        assert_eq!(u16::from(last[1] & 0x1F) << 8 | u16::from(last[2]), 0x100);
    }

    #[test]
    fn finishing_keeps_the_slot_schedule_and_the_pcr_interval() {
        let (mut m, mut out, _) = mid_picture();
        let before = out.len();
        m.finish_until(Pcr27M(u64::MAX), &mut out);
        let slot = 188 * 8 * 27_000_000 / 2_000_000;
        for pair in out[before - 1..].windows(2) {
            assert!(pair[1].0 .0 - pair[0].0 .0 <= slot + 1, "{pair:?}");
        }
        let mut demuxer = Demuxer::new();
        let mut pcrs = Vec::new();
        for (_, packet) in &out {
            demuxer.push(packet);
            while let Some(e) = demuxer.poll() {
                if let DemuxEvent::Pcr { pcr, .. } = e {
                    pcrs.push(pcr.0);
                }
            }
        }
        let interval = 27_000_000 * u64::from(m.config().pcr_interval_ms) / 1000;
        assert!(pcrs.windows(2).all(|w| w[1] - w[0] <= interval), "{pcrs:?}");
    }

    #[test]
    fn a_stream_between_units_ends_at_once() {
        let mut m = muxer();
        m.push_audio(&audio(400, 0));
        let mut out = Vec::new();
        while m.queued_bytes() > 0 {
            let next = m.next_departure();
            m.fill_until(next, &mut out);
        }
        m.push_video(&video(5_000, 3_000, 3));
        let before = out.len();
        assert!(m.finish_until(Pcr27M(0), &mut out));
        assert_eq!(out.len(), before, "nothing to finish, nothing sent");
        assert_eq!(m.queued_bytes(), 0);
    }

    #[test]
    fn the_bound_ends_the_finish_even_mid_picture() {
        let (mut m, mut out, _) = mid_picture();
        let until = m.next_departure();
        assert!(!m.finish_until(until, &mut out));
        assert!(m.mid_pes());
        assert!(out.last().unwrap().0 <= until);
    }
}
