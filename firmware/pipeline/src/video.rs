//! The video encode thread: takes frames from the ring, converts them when
//! the encoder needs another size or layout, and encodes them.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use makara_encode::{RawPicture, VideoEncoder, VideoSettings};
use makara_framering::Frame;
use makara_media::{Clock90k, MonotonicNs};

use crate::keeper::Worker;
use crate::ring::RingReader;
use crate::scale;
use crate::sender::Unit;

const RECV_TIMEOUT: Duration = Duration::from_millis(50);

/// A run's presentation delay (capture to display, 90 kHz ticks), for its
/// pictures and its sound alike: the stream's `delay_ms`, grown where
/// B-frames would otherwise put a DTS before its picture is captured.
///
/// A picture is presented at capture + delay whatever the encoder's
/// reordering; decoding runs the reorder delay ahead of that, at most one
/// frame per B-frame. And the picture decoded in a slot can be one
/// captured up to `b_frames` frames after the one whose time the slot
/// has (the P-frame that its B-frames refer to). So the delay must be at
/// least 2 × `b_frames` frames. The contract's ranges (VBV ≥ 100 ms,
/// bFrame ≤ 3) make that bite only below 25 frames per second.
pub fn presentation_delay_90k(delay_ms: u32, settings: &VideoSettings) -> u64 {
    let stream = u64::from(delay_ms) * 90;
    let frame_90k = MonotonicNs(settings.input.frame_ns()).to_90k(MonotonicNs(0)).0 + 1;
    stream.max(2 * u64::from(settings.b_frames) * frame_90k)
}

pub struct VideoEncode {
    pub frames: RingReader,
    pub encoder: Box<dyn VideoEncoder>,
    pub settings: VideoSettings,
    pub units: SyncSender<Unit>,
    pub origin: MonotonicNs,
    pub delay_90k: u64,
    /// The next output picture's time (ns from origin), for frame-rate
    /// conversion.
    pub next_out_ns: Option<u64>,
    /// Which input frame `converted` holds.
    pub converted_from: Option<u64>,
}

impl VideoEncode {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let mut converted = Vec::new();
        let mut ring_drops = 0;
        while !worker.should_stop() {
            let frame = match self.frames.recv(RECV_TIMEOUT) {
                Ok(Some(frame)) => frame,
                Ok(None) => continue,
                // The source ended (a frame limit): what the encoder
                // still holds goes out too.
                Err(_) => return self.flush(worker),
            };
            let lost_in_ring = self.frames.dropped() - ring_drops;
            ring_drops += lost_in_ring;
            let started = Instant::now();
            let (first, count, period) = self.output_times(&frame);
            // Only the lost frames an output picture needed count as
            // dropped: those this frame now stands in for. Frames the rate
            // conversion skips anyway are no loss.
            let stand_ins = stand_ins(&frame, self.origin, first, count, period);
            worker
                .shared()
                .frames_dropped
                .fetch_add(lost_in_ring.min(stand_ins), Ordering::Relaxed);
            for k in 0..count {
                self.encode(&frame, first + k * period, &mut converted, worker)?;
            }
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

    /// Drains the encoder at the end of the source's frames.
    fn flush(&mut self, worker: &Worker) -> Result<(), String> {
        self.encoder
            .send_picture(None)
            .map_err(|e| format!("video encoder: {e}"))?;
        while let Some(unit) = self
            .encoder
            .receive()
            .map_err(|e| format!("video encoder: {e}"))?
        {
            worker
                .shared()
                .frames_encoded
                .fetch_add(1, Ordering::Relaxed);
            if self.units.send(Unit::Video(unit)).is_err() {
                break;
            }
        }
        Ok(())
    }

    /// The output picture times this input frame stands for: none when the
    /// output rate is lower and this frame falls between output pictures,
    /// several when it is higher. Equal rates map one to one. Returns the
    /// first time, how many, and the output period (ns from origin).
    fn output_times(&mut self, frame: &Frame) -> (u64, u64, u64) {
        let at = frame.pts().saturating_sub(self.origin);
        let half_input = frame.format().frame_ns() / 2;
        let period = self.settings.input.frame_ns().max(1);
        let next = self.next_out_ns.get_or_insert(at);
        let first = *next;
        let mut count = 0;
        while *next <= at + half_input {
            count += 1;
            *next += period;
        }
        (first, count, period)
    }

    fn encode(
        &mut self,
        frame: &Frame,
        out_ns: u64,
        converted: &mut Vec<u8>,
        worker: &Worker,
    ) -> Result<(), String> {
        // Capture time plus the presentation delay, B-frames or not: the
        // encoder passes the PTS through and moves only the DTS ahead.
        let pts = Clock90k(MonotonicNs(out_ns).to_90k(MonotonicNs(0)).0 + self.delay_90k);
        let wanted = self.settings.input;
        let same_layout = (
            frame.format().width,
            frame.format().height,
            frame.format().pixel_format,
        ) == (wanted.width, wanted.height, wanted.pixel_format);
        let data: &[u8] = if same_layout {
            frame
        } else {
            converted.resize(wanted.frame_len(), 0);
            // Converted once per input frame even when it is repeated.
            if converted.len() != wanted.frame_len()
                || self.converted_from != Some(frame.sequence())
            {
                converted.resize(wanted.frame_len(), 0);
                scale::to_i420(frame, &frame.format(), converted, &wanted);
                self.frames.count_copy(converted.len());
                worker
                    .shared()
                    .bytes_copied
                    .fetch_add(converted.len() as u64, Ordering::Relaxed);
                self.converted_from = Some(frame.sequence());
            }
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

/// Of the `count` output times from `first` that `frame` fills, those that
/// lie more than half an input frame before it: their own input frame was
/// lost, and this one is repeated in its place.
fn stand_ins(frame: &Frame, origin: MonotonicNs, first: u64, count: u64, period: u64) -> u64 {
    let at = frame.pts().saturating_sub(origin);
    let half_input = frame.format().frame_ns() / 2;
    (0..count)
        .filter(|k| first + k * period + half_input <= at)
        .count() as u64
}
