//! The video encode thread: takes frames from the ring, converts them when
//! the encoder needs another size or layout, and encodes them.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use makara_encode::{RawPicture, VideoEncoder, VideoSettings};
use makara_framering::{Consumer, Frame};
use makara_media::{Clock90k, MonotonicNs};

use crate::keeper::Worker;
use crate::scale;
use crate::sender::Unit;

const RECV_TIMEOUT: Duration = Duration::from_millis(50);

pub struct VideoEncode {
    pub frames: Consumer,
    pub encoder: Box<dyn VideoEncoder>,
    pub settings: VideoSettings,
    pub units: SyncSender<Unit>,
    pub origin: MonotonicNs,
    pub delay_90k: u64,
}

impl VideoEncode {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let mut converted = Vec::new();
        let mut ring_drops = 0;
        while !worker.should_stop() {
            let frame = match self.frames.recv(RECV_TIMEOUT) {
                Ok(Some(frame)) => frame,
                Ok(None) => continue,
                Err(_) => return Ok(()),
            };
            let dropped = self.frames.dropped();
            worker
                .shared()
                .frames_dropped
                .fetch_add(dropped - ring_drops, Ordering::Relaxed);
            ring_drops = dropped;
            let started = Instant::now();
            self.encode(&frame, &mut converted)?;
            while let Some(unit) = self
                .encoder
                .receive()
                .map_err(|e| format!("video encoder: {e}"))?
            {
                let shared = worker.shared();
                shared.frames_encoded.fetch_add(1, Ordering::Relaxed);
                shared.record_latency(started.elapsed().as_micros() as u64);
                if self.units.send(Unit::Video(unit)).is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn encode(&mut self, frame: &Frame, converted: &mut Vec<u8>) -> Result<(), String> {
        let pts = Clock90k(frame.pts().to_90k(self.origin).0 + self.delay_90k);
        let wanted = self.settings.input;
        let data: &[u8] = if frame.format() == wanted {
            frame
        } else {
            converted.resize(wanted.frame_len(), 0);
            scale::to_i420(frame, &frame.format(), converted, &wanted);
            self.frames.count_copy(converted.len());
            converted
        };
        let picture = RawPicture {
            format: wanted,
            data,
            pts,
            force_keyframe: false,
        };
        self.encoder
            .send_picture(Some(picture))
            .map_err(|e| format!("video encoder: {e}"))
    }
}
