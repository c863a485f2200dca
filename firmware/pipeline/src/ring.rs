//! The frame ring between the source and the encoder, in either pace.
//!
//! In real time the ring is what it is for every reader: publishing never
//! waits, and a full encoder queue loses its oldest frame, counted. When
//! the stages run as fast as the encoder takes frames, the source must not
//! lose any, so each frame in the encoder's queue holds a credit: the
//! writer takes one before it publishes (waiting while the queue is full),
//! and the reader gives it back when it takes the frame.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use makara_framering::{Closed, Consumer, Fanout, Frame, FramePool, SubscribeError};

use crate::setup::Pace;

/// Frames the encoder may have queued: the one it will take next and one
/// behind it, so that it never waits for capture.
pub const ENCODER_QUEUE: usize = 2;

/// The source's end of the ring.
pub struct RingWriter {
    fanout: Fanout,
    credits: Option<SyncSender<()>>,
    /// A credit taken for a frame not published yet.
    holding: bool,
}

/// The encoder's end of the ring.
pub struct RingReader {
    consumer: Consumer,
    credits: Option<Receiver<()>>,
}

/// A ring over `pool` (the source's own slots) with the encoder as its
/// one reader.
pub fn ring(pool: Arc<FramePool>, pace: Pace) -> Result<(RingWriter, RingReader), SubscribeError> {
    let fanout = Fanout::new(pool);
    let consumer = fanout.subscribe("encoder", ENCODER_QUEUE)?;
    let (tx, rx) = match pace {
        Pace::RealTime => (None, None),
        Pace::AsFastAsEncoded => {
            let (tx, rx) = sync_channel(ENCODER_QUEUE);
            (Some(tx), Some(rx))
        }
    };
    let writer = RingWriter {
        fanout,
        credits: tx,
        holding: false,
    };
    Ok((
        writer,
        RingReader {
            consumer,
            credits: rx,
        },
    ))
}

impl RingWriter {
    /// Waits, when the pace asks for it, until the encoder's queue has
    /// room for one more frame. False once the encoder is gone.
    pub fn wait_for_room(&mut self) -> bool {
        match &self.credits {
            Some(credits) if !self.holding => {
                self.holding = credits.send(()).is_ok();
                self.holding
            }
            _ => true,
        }
    }

    /// Hands `frame` to the encoder.
    pub fn publish(&mut self, frame: Frame) {
        self.holding = false;
        self.fanout.publish(frame);
    }
}

impl RingReader {
    /// The next frame, waiting at most `timeout`; `Err(Closed)` once the
    /// source is gone and every frame it published has been taken.
    pub fn recv(&self, timeout: Duration) -> Result<Option<Frame>, Closed> {
        let frame = self.consumer.recv(timeout)?;
        if let (Some(_), Some(credits)) = (&frame, &self.credits) {
            let _ = credits.try_recv();
        }
        Ok(frame)
    }

    /// Frames lost to a full queue (never, when the source waits). The
    /// encoder sees them as jumps in the frames' sequence.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.consumer.dropped()
    }

    /// Reports `bytes` copied on the way to the encoder.
    pub fn count_copy(&self, bytes: usize) {
        self.consumer.count_copy(bytes);
    }
}

#[cfg(test)]
mod tests {
    use std::thread;

    use makara_media::{MonotonicNs, PixelFormat, VideoFormat};

    use super::*;

    fn pool() -> Arc<FramePool> {
        let format = VideoFormat::new(16, 16, PixelFormat::I420, 30, 1).unwrap();
        FramePool::new(format, 6)
    }

    /// A writer far faster than its reader: in real time the queue loses
    /// frames; as fast as encoded, the writer waits and none is lost.
    fn lost(pace: Pace) -> (u64, Vec<u64>) {
        let pool = pool();
        let (mut writer, reader) = ring(Arc::clone(&pool), pace).unwrap();
        let taker = thread::spawn(move || {
            let mut seen = Vec::new();
            while let Ok(frame) = reader.recv(Duration::from_secs(1)) {
                if let Some(frame) = frame {
                    seen.push(frame.sequence());
                    thread::sleep(Duration::from_millis(2));
                }
            }
            (reader.dropped(), seen)
        });
        for sequence in 0..40 {
            assert!(writer.wait_for_room());
            let slot = loop {
                match pool.try_acquire() {
                    Some(slot) => break slot,
                    None => thread::yield_now(),
                }
            };
            writer.publish(slot.freeze(MonotonicNs(sequence), sequence));
        }
        drop(writer);
        taker.join().unwrap()
    }

    #[test]
    fn as_fast_as_encoded_the_writer_waits_and_nothing_is_lost() {
        let (dropped, seen) = lost(Pace::AsFastAsEncoded);
        assert_eq!(dropped, 0);
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn in_real_time_a_slow_reader_loses_frames() {
        let (dropped, seen) = lost(Pace::RealTime);
        assert!(dropped > 0, "{seen:?}");
        assert_eq!(dropped + seen.len() as u64, 40);
    }

    #[test]
    fn a_writer_whose_reader_is_gone_stops_waiting() {
        let (mut writer, reader) = ring(pool(), Pace::AsFastAsEncoded).unwrap();
        drop(reader);
        assert!(!writer.wait_for_room());
    }
}
