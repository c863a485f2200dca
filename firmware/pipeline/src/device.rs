//! The source thread of a capture device input: publishes the frames the
//! device fills (no copy: the ring's slots are the device's buffers),
//! watches for signal loss, and encodes silence for the audio PID, since
//! device inputs carry no sound yet.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use makara_capture::{monotonic_now, LiveCapture, TONE_CHANNELS, TONE_SAMPLE_RATE};
use makara_encode::{AudioEncoder, RawAudio};
use makara_framering::Fanout;
use makara_media::{Clock90k, MonotonicNs};

use crate::keeper::Worker;
use crate::sender::Unit;
use crate::shared::Shared;

/// How long one wait for a frame lasts, so that a stop is seen promptly.
const POLL: Duration = Duration::from_millis(100);
/// No frame for this long is a lost signal.
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(1);
/// Samples per channel in one chunk of silence: one AAC frame.
const CHUNK_FRAMES: u64 = 1024;

pub struct DeviceSource {
    pub capture: Box<dyn LiveCapture>,
    pub fanout: Fanout,
    pub audio: Option<Box<dyn AudioEncoder>>,
    pub units: SyncSender<Unit>,
    pub origin: MonotonicNs,
    pub audio_delay_90k: u64,
    /// The capturePort, for messages.
    pub port: u32,
}

impl DeviceSource {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let shared = worker.shared();
        let mut last_frame = monotonic_now();
        let mut last_sequence: Option<u64> = None;
        let mut chunks_sent = 0u64;
        let silence = vec![0i16; CHUNK_FRAMES as usize * usize::from(TONE_CHANNELS)];
        while !worker.should_stop() {
            let frame = self.capture.next_frame(POLL).map_err(|e| e.to_string())?;
            let now = monotonic_now();
            match frame {
                Some(frame) => {
                    last_frame = now;
                    self.signal_back(shared);
                    if let Some(previous) = last_sequence {
                        let lost = frame.sequence().saturating_sub(previous + 1);
                        shared.frames_dropped.fetch_add(lost, Ordering::Relaxed);
                    }
                    last_sequence = Some(frame.sequence());
                    shared.frames_captured.fetch_add(1, Ordering::Relaxed);
                    self.fanout.publish(frame);
                }
                None if now.saturating_sub(last_frame) >= SIGNAL_TIMEOUT.as_nanos() as u64 => {
                    self.signal_lost(shared);
                }
                None => {}
            }
            if !self.send_silence(now, &mut chunks_sent, &silence)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The reason is set before the state flips (and cleared before it flips
    /// back), so that a GET never sees `waiting` without it or `active`
    /// with it. Only this thread writes `signal`.
    fn signal_lost(&self, shared: &Shared) {
        if shared.signal.load(Ordering::Relaxed) {
            let reason = format!(
                "no signal on capturePort {}: no frames for {} s",
                self.port,
                SIGNAL_TIMEOUT.as_secs()
            );
            tracing::warn!(port = self.port, "{reason}");
            shared.set_problem(Some(reason));
            shared.signal.store(false, Ordering::Release);
        }
    }

    fn signal_back(&self, shared: &Shared) {
        if !shared.signal.load(Ordering::Relaxed) {
            tracing::info!(port = self.port, "signal back: frames arrive again");
            shared.set_problem(None);
            shared.signal.store(true, Ordering::Release);
        }
    }

    /// Encodes the chunks of silence that fell due by `now`. `false` when
    /// the sender has gone.
    fn send_silence(
        &mut self,
        now: MonotonicNs,
        sent: &mut u64,
        silence: &[i16],
    ) -> Result<bool, String> {
        let Some(encoder) = self.audio.as_mut() else {
            return Ok(true);
        };
        let rate = u64::from(TONE_SAMPLE_RATE);
        loop {
            let start_ns = *sent * CHUNK_FRAMES * 1_000_000_000 / rate;
            let due = MonotonicNs(self.origin.0 + start_ns);
            if now.0 < due.0 + CHUNK_FRAMES * 1_000_000_000 / rate {
                return Ok(true);
            }
            let pts = Clock90k(due.to_90k(self.origin).0 + self.audio_delay_90k);
            encoder
                .send_samples(Some(RawAudio {
                    samples: silence,
                    pts,
                }))
                .map_err(|e| format!("audio encoder: {e}"))?;
            *sent += 1;
            while let Some(coded) = encoder
                .receive()
                .map_err(|e| format!("audio encoder: {e}"))?
            {
                if self.units.send(Unit::Audio(coded)).is_err() {
                    return Ok(false);
                }
            }
        }
    }
}
