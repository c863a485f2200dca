//! The source thread, the same for every kind of input: takes each frame
//! the live capture filled in its own pool (no copy: the ring's slots are
//! the source's buffers) and hands it to the encoder, watches for signal
//! loss, and encodes the source's sound (the test pattern's tone, a
//! network input's decoded sound, silence for a source without sound) as
//! it falls due.
//!
//! A network input reports on itself: its report goes to the stream's
//! statistics each turn, and while it is not receiving (it sends its slate
//! picture and silence meanwhile) the stream waits with the input's reason,
//! exactly as for a capture device without signal. Its KLV units, if it
//! carries any, go out in place of the stream's own.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use makara_capture::{
    monotonic_now, AudioSource, LiveCapture, MetadataUnit, AAC_FRAME_SAMPLES, TONE_CHANNELS,
};
use makara_encode::{AudioEncoder, RawAudio};
use makara_framering::Frame;
use makara_media::{Clock90k, MonotonicNs};

use crate::keeper::Worker;
use crate::ring::RingWriter;
use crate::sender::Unit;
use crate::setup::Pace;
use crate::shared::Shared;

/// How long one wait for a frame lasts, so that a stop is seen promptly.
const POLL: Duration = Duration::from_millis(100);
/// No frame for this long is a lost signal (or for two frame periods, if
/// the source is slower than one frame a second).
const SIGNAL_TIMEOUT: Duration = Duration::from_secs(1);

pub struct Source {
    pub capture: Box<dyn LiveCapture>,
    pub ring: RingWriter,
    pub pace: Pace,
    pub audio: Option<Box<dyn AudioEncoder>>,
    pub units: SyncSender<Unit>,
    pub origin: MonotonicNs,
    /// Presentation delay of video: capture to display.
    pub video_delay_90k: u64,
    /// Presentation delay of audio: the video's, moved by
    /// interleaveAdjustmentMs.
    pub audio_delay_90k: u64,
    /// Send a KLV packet with every frame.
    pub metadata: bool,
    /// End after this many frames (the bench).
    pub frame_limit: Option<u64>,
    /// The input, as signal-loss messages name it.
    pub label: String,
}

/// What the thread remembers between frames.
struct Progress {
    last_frame_at: MonotonicNs,
    published: u64,
    /// Sound is captured up to here: now in real time, the end of the
    /// latest frame as fast as encoded.
    audio_until: MonotonicNs,
}

impl Source {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let shared = worker.shared();
        let period = Duration::from_nanos(self.capture.format().frame_ns());
        let signal_timeout = SIGNAL_TIMEOUT.max(2 * period);
        let mut sound = self.audio.as_ref().map(|_| self.capture.audio(self.origin));
        let mut samples = vec![0i16; AAC_FRAME_SAMPLES * usize::from(TONE_CHANNELS)];
        let mut metadata = Vec::new();
        let mut progress = Progress {
            last_frame_at: monotonic_now(),
            published: 0,
            audio_until: MonotonicNs(0),
        };
        while !worker.should_stop() && self.frame_limit != Some(progress.published) {
            if !self.ring.wait_for_room() {
                return Ok(());
            }
            let frame = self.capture.next_frame(POLL).map_err(|e| e.to_string())?;
            let now = monotonic_now();
            let input_down = self.input_report(shared);
            match frame {
                Some(frame) => {
                    let pts = frame.pts();
                    self.publish(frame, shared, &mut progress);
                    if input_down.is_none() {
                        self.signal_back(shared);
                    }
                    self.send_metadata(pts, &mut metadata);
                }
                None if self.pace == Pace::RealTime
                    && now.saturating_sub(progress.last_frame_at)
                        >= signal_timeout.as_nanos() as u64 =>
                {
                    self.signal_lost(shared, signal_timeout);
                }
                None => {}
            }
            if let Some(reason) = input_down {
                self.input_lost(shared, reason);
            }
            if self.pace == Pace::RealTime {
                progress.audio_until = now;
            }
            if let Some(sound) = sound.as_mut() {
                if !self.send_audio(sound.as_mut(), progress.audio_until, &mut samples)? {
                    return Ok(());
                }
            }
        }
        // Dropping the ring closes the encoder's queue once it is drained.
        Ok(())
    }

    fn publish(&mut self, frame: Frame, shared: &Shared, p: &mut Progress) {
        p.last_frame_at = monotonic_now();
        p.published += 1;
        p.audio_until = MonotonicNs(frame.pts().0 + frame.format().frame_ns());
        shared.frames_captured.fetch_add(1, Ordering::Relaxed);
        self.ring.publish(frame);
    }

    /// With metadata on, the KLV for a frame at `pts`: the input's own
    /// units when it carries them (passed through on their own times),
    /// else one ST 0601 packet of ours.
    fn send_metadata(&mut self, pts: MonotonicNs, units: &mut Vec<MetadataUnit>) {
        if !self.metadata {
            return;
        }
        units.clear();
        if !self.capture.take_metadata(units) {
            units.push(MetadataUnit {
                data: crate::klv::st0601_packet(unix_micros()),
                pts,
            });
        }
        for unit in units.drain(..) {
            let pts = Clock90k(unit.pts.to_90k(self.origin).0 + self.video_delay_90k);
            // Metadata is best effort: a full queue drops it, not the video.
            let _ = self.units.try_send(Unit::Klv {
                data: unit.data,
                pts,
            });
        }
    }

    /// Puts a network input's report into the stream's statistics; returns
    /// why the input is not receiving, if it is not.
    fn input_report(&self, shared: &Shared) -> Option<String> {
        let report = self.capture.report();
        let down = report.as_ref().filter(|r| !r.receiving).map(|r| {
            r.last_error
                .clone()
                .unwrap_or_else(|| format!("{} delivers nothing", self.label))
        });
        shared.set_input(report);
        down
    }

    /// A network input that is not receiving sends its slate, so frames
    /// still come; the stream waits all the same, with the input's reason
    /// (updated when the reason changes).
    fn input_lost(&self, shared: &Shared, reason: String) {
        if shared.signal.load(Ordering::Relaxed) {
            tracing::warn!(input = %self.label, "{reason}");
        }
        if shared.problem().as_deref() != Some(reason.as_str()) {
            shared.set_problem(Some(reason));
        }
        shared.signal.store(false, Ordering::Release);
    }

    /// The reason is set before the state flips (and cleared before it flips
    /// back), so that a GET never sees `waiting` without it or `active`
    /// with it. Only this thread writes `signal`.
    fn signal_lost(&self, shared: &Shared, timeout: Duration) {
        if shared.signal.load(Ordering::Relaxed) {
            let reason = format!(
                "no signal on {}: no frames for {} s",
                self.label,
                timeout.as_secs()
            );
            tracing::warn!(input = %self.label, "{reason}");
            shared.set_problem(Some(reason));
            shared.signal.store(false, Ordering::Release);
        }
    }

    fn signal_back(&self, shared: &Shared) {
        if !shared.signal.load(Ordering::Relaxed) {
            tracing::info!(input = %self.label, "signal back: frames arrive again");
            shared.set_problem(None);
            shared.signal.store(true, Ordering::Release);
        }
    }

    /// Encodes the chunks of sound captured by `until`. `false` when the
    /// sender has gone.
    fn send_audio(
        &mut self,
        sound: &mut dyn AudioSource,
        until: MonotonicNs,
        samples: &mut [i16],
    ) -> Result<bool, String> {
        let Some(encoder) = self.audio.as_mut() else {
            return Ok(true);
        };
        while let Some(info) = sound
            .poll_samples(until, samples)
            .map_err(|e| e.to_string())?
        {
            let pts = Clock90k(info.pts.to_90k(self.origin).0 + self.audio_delay_90k);
            encoder
                .send_samples(Some(RawAudio { samples, pts }))
                .map_err(|e| format!("audio encoder: {e}"))?;
            while let Some(coded) = encoder
                .receive()
                .map_err(|e| format!("audio encoder: {e}"))?
            {
                if self.units.send(Unit::Audio(coded)).is_err() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

/// Wall-clock time for the metadata's precision time stamp.
fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
