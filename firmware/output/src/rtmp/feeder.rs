//! The sender thread's half: packets into units, units into the queue.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;

use makara_mpegts::es::{EsDemuxer, EsEvent};

use super::{lock, Media, Shared, QUEUE_BYTES};
use crate::datagram::TS_PACKET_LEN;

pub(crate) struct Feeder {
    name: String,
    // Boxed: the demuxer is large, and TsOutput's variants stay alike.
    demuxer: Box<EsDemuxer>,
    queue: SyncSender<Media>,
    shared: Arc<Shared>,
    /// Units were lost (or nothing was published): wait for a clean start.
    resync: bool,
    /// Dropped units not yet logged.
    unlogged_drops: usize,
}

impl Feeder {
    pub fn new(name: String, queue: SyncSender<Media>, shared: Arc<Shared>) -> Feeder {
        Feeder {
            name,
            demuxer: Box::new(EsDemuxer::new()),
            queue,
            shared,
            resync: true,
            unlogged_drops: 0,
        }
    }

    pub fn push<'p>(&mut self, packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>) -> u64 {
        let publishing = self.shared.publishing.load(Ordering::Relaxed);
        let mut bytes = 0;
        for packet in packets {
            self.demuxer.push(packet);
            bytes += TS_PACKET_LEN as u64;
        }
        while let Some(event) = self.demuxer.poll() {
            match event {
                EsEvent::Program(program) => *lock(&self.shared.program) = Some(program),
                EsEvent::ParameterSets(sets) => *lock(&self.shared.parameter_sets) = Some(sets),
                EsEvent::Video(unit) => self.offer(Media::Video {
                    unit,
                    resync: false,
                }),
                EsEvent::Audio(frame) => self.offer(Media::Audio {
                    frame,
                    resync: false,
                }),
                EsEvent::Problem(problem) => {
                    tracing::debug!(output = %self.name, "RTMP output's demuxer: {problem}")
                }
            }
        }
        if publishing {
            bytes
        } else {
            0
        }
    }

    /// Queues a unit if the pusher publishes and there is room; after a
    /// loss, only from a clean start on.
    fn offer(&mut self, mut media: Media) {
        if !self.shared.publishing.load(Ordering::Relaxed) {
            self.resync = true;
            return;
        }
        if self.resync {
            if !self.starts_cleanly(&media) {
                return;
            }
            match &mut media {
                Media::Video { resync, .. } | Media::Audio { resync, .. } => *resync = true,
            }
        }
        let len = media.len();
        if self.shared.queued_bytes.load(Ordering::Relaxed) + len > QUEUE_BYTES {
            self.dropped();
            return;
        }
        match self.queue.try_send(media) {
            Ok(()) => {
                self.shared.queued_bytes.fetch_add(len, Ordering::Relaxed);
                self.resync = false;
                if self.unlogged_drops > 0 {
                    tracing::warn!(output = %self.name,
                        "RTMP output: {} units dropped (the network is slower than the stream); \
                         started again at a key frame", self.unlogged_drops);
                    self.unlogged_drops = 0;
                }
            }
            Err(TrySendError::Full(_)) => self.dropped(),
            // The pusher is gone (the output is closing).
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    fn dropped(&mut self) {
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        self.unlogged_drops += 1;
        self.resync = true;
    }

    /// A video key frame, or any audio frame when the stream has no
    /// video.
    fn starts_cleanly(&self, media: &Media) -> bool {
        match media {
            Media::Video { unit, .. } => unit.key,
            Media::Audio { .. } => self.demuxer.program().is_some_and(|p| p.video.is_none()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{self, Receiver};

    use makara_media::Clock90k;
    use makara_mpegts::es::{VideoCodec, VideoUnit};

    use super::*;

    fn unit(key: bool, n: u64) -> Media {
        Media::Video {
            unit: VideoUnit {
                codec: VideoCodec::H264,
                pts: Clock90k(n * 3600),
                dts: Clock90k(n * 3600),
                key,
                random_access: key,
                data: vec![0, 0, 0, 1, if key { 0x65 } else { 0x41 }, n as u8],
            },
            resync: false,
        }
    }

    /// (key, resync, number) of each queued unit.
    fn drain(units: &Receiver<Media>) -> Vec<(bool, bool, u8)> {
        units
            .try_iter()
            .map(|m| match m {
                Media::Video { unit, resync } => (unit.key, resync, unit.data[5]),
                Media::Audio { .. } => unreachable!("no audio offered"),
            })
            .collect()
    }

    fn feeder(room: usize) -> (Feeder, Receiver<Media>, Arc<Shared>) {
        let shared = Arc::new(Shared::default());
        let (queue, units) = mpsc::sync_channel(room);
        (
            Feeder::new("out".into(), queue, Arc::clone(&shared)),
            units,
            shared,
        )
    }

    #[test]
    fn nothing_is_queued_until_publishing_and_then_only_from_a_key_frame() {
        let (mut f, units, shared) = feeder(8);
        f.offer(unit(true, 0));
        assert!(drain(&units).is_empty());
        shared.publishing.store(true, Ordering::Relaxed);
        f.offer(unit(false, 1));
        f.offer(unit(true, 2));
        f.offer(unit(false, 3));
        assert_eq!(drain(&units), [(true, true, 2), (false, false, 3)]);
    }

    #[test]
    fn a_full_queue_drops_until_the_next_key_frame_which_says_resync() {
        let (mut f, units, shared) = feeder(2);
        shared.publishing.store(true, Ordering::Relaxed);
        f.offer(unit(true, 0));
        f.offer(unit(false, 1));
        // Full: 2 is dropped, and so is 3 although there is room again.
        f.offer(unit(false, 2));
        assert_eq!(drain(&units), [(true, true, 0), (false, false, 1)]);
        f.offer(unit(false, 3));
        f.offer(unit(true, 4));
        f.offer(unit(false, 5));
        assert_eq!(drain(&units), [(true, true, 4), (false, false, 5)]);
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(shared.queued_bytes.load(Ordering::Relaxed), 4 * 6);
    }

    #[test]
    fn the_byte_budget_drops_like_a_full_queue() {
        let (mut f, units, shared) = feeder(8);
        shared.publishing.store(true, Ordering::Relaxed);
        shared
            .queued_bytes
            .store(QUEUE_BYTES - 3, Ordering::Relaxed);
        f.offer(unit(true, 0));
        assert!(drain(&units).is_empty());
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 1);
    }
}
