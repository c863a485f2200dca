//! The source thread: draws test-pattern frames into the frame ring at
//! their due time, and encodes the tone as it falls due.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::thread;
use std::time::Duration;

use makara_capture::{monotonic_now, Pacing, TestPattern, Tone};
use makara_encode::{AudioEncoder, RawAudio};
use makara_framering::Fanout;
use makara_media::{Clock90k, MonotonicNs};

use crate::keeper::Worker;
use crate::sender::Unit;
use crate::shared::Shared;

/// The longest the thread sleeps, so that a stop is seen promptly.
const MAX_SLEEP: Duration = Duration::from_millis(5);
/// Tone chunk: one AAC frame's worth of stereo samples.
const CHUNK_FRAMES: usize = 1024;

pub struct Source {
    pub pattern: TestPattern,
    pub fanout: Fanout,
    pub audio: Option<Box<dyn AudioEncoder>>,
    pub units: SyncSender<Unit>,
    pub origin: MonotonicNs,
    /// Presentation delay of audio: the video's, moved by
    /// interleaveAdjustmentMs.
    pub audio_delay_90k: u64,
    /// Where a frame goes when the pool is exhausted: drawn nowhere useful,
    /// but the pattern moves on. Allocated once, on first need.
    pub scratch: Vec<u8>,
    /// Send a KLV packet with every frame.
    pub metadata: bool,
    pub video_delay_90k: u64,
}

impl Source {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let mut tone = self
            .audio
            .as_ref()
            .map(|_| Tone::start(self.origin, Pacing::RealTime));
        let mut samples = vec![0i16; CHUNK_FRAMES * 2];
        let mut last_sequence: Option<u64> = None;
        while !worker.should_stop() {
            let now = monotonic_now();
            if now >= self.pattern.next_due() {
                self.capture_frame(now, worker.shared(), &mut last_sequence)?;
            }
            if let (Some(tone), Some(encoder)) = (tone.as_mut(), self.audio.as_mut()) {
                while let Some(info) = tone
                    .poll_samples(now, &mut samples)
                    .map_err(|e| e.to_string())?
                {
                    let pts = info.pts.to_90k(self.origin).0 + self.audio_delay_90k;
                    encoder
                        .send_samples(Some(RawAudio {
                            samples: &samples,
                            pts: makara_media::Clock90k(pts),
                        }))
                        .map_err(|e| format!("audio encoder: {e}"))?;
                    while let Some(coded) = encoder
                        .receive()
                        .map_err(|e| format!("audio encoder: {e}"))?
                    {
                        if self.units.send(Unit::Audio(coded)).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            let wait = self.pattern.next_due().saturating_sub(monotonic_now());
            thread::sleep(Duration::from_nanos(wait).min(MAX_SLEEP));
        }
        Ok(())
    }

    /// One frame into the ring; a full pool or a late wake-up loses frames,
    /// which are counted.
    fn capture_frame(
        &mut self,
        now: MonotonicNs,
        shared: &Shared,
        last: &mut Option<u64>,
    ) -> Result<(), String> {
        let Some(mut frame) = self.fanout.pool().try_acquire() else {
            // Skip the due frame: draw it nowhere, count it lost.
            shared.frames_dropped.fetch_add(1, Ordering::Relaxed);
            let len = self.fanout.pool().frame_len();
            if self.scratch.len() != len {
                self.scratch = vec![0; len];
            }
            let _ = self.pattern.poll_frame(now, &mut self.scratch);
            return Ok(());
        };
        let Some(info) = self
            .pattern
            .poll_frame(now, &mut frame)
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        if let Some(previous) = *last {
            let lost = info.sequence.saturating_sub(previous + 1);
            shared.frames_dropped.fetch_add(lost, Ordering::Relaxed);
        }
        *last = Some(info.sequence);
        shared.frames_captured.fetch_add(1, Ordering::Relaxed);
        self.fanout.publish(frame.freeze(info.pts, info.sequence));
        if self.metadata {
            let pts = Clock90k(info.pts.to_90k(self.origin).0 + self.video_delay_90k);
            let data = crate::klv::st0601_packet(unix_micros());
            // Metadata is best effort: a full queue drops it, not the video.
            let _ = self.units.try_send(Unit::Klv { data, pts });
        }
        Ok(())
    }
}

/// Wall-clock time for the metadata's precision time stamp.
fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
