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
