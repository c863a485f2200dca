//! The video encode thread: takes frames from the ring, converts them when
//! the encoder needs another size or layout, and encodes them.

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use makara_encode::{RawPicture, VideoEncoder, VideoSettings};
use makara_framering::Frame;
use makara_media::{Clock90k, MonotonicNs};

use crate::captions::Captioner;
use crate::keeper::Worker;
use crate::ring::RingReader;
use crate::scale;
use crate::sender::Unit;

const RECV_TIMEOUT: Duration = Duration::from_millis(50);

/// A run's presentation delay (capture to display, 90 kHz ticks), for its
/// pictures and its sound alike.
///
/// The stream's `delay_ms` is its budget from capture to decoding: the
/// encoder, the VBV and the network fit in it, so a unit is decoded (its
/// DTS) at the earliest `delay_ms` after its slot's capture time. B-frames
/// decode ahead of presentation by the reorder delay, at most one frame
/// per B-frame; presentation therefore comes that much later, for audio
/// as much as for video, so the two stay in step. And the picture decoded
/// in a slot can be one captured up to `b_frames` frames after the slot's
/// (the P-frame its B-frames refer to), so the budget is at least that.
pub fn presentation_delay_90k(delay_ms: u32, settings: &VideoSettings) -> u64 {
    let budget = u64::from(delay_ms) * 90;
    // Rounded up, so that a bound stays a bound.
    let input = settings.input;
    let frame_90k = (90_000 * u64::from(input.fps_den)).div_ceil(u64::from(input.fps_num));
    let reorder = u64::from(settings.b_frames) * frame_90k;
    budget.max(reorder) + reorder
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
    pub captions: Captioner,
}

impl VideoEncode {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let mut converted = Vec::new();
        let mut last_sequence: Option<u64> = None;
        while !worker.should_stop() {
            let frame = match self.frames.recv(RECV_TIMEOUT) {
                Ok(Some(frame)) => frame,
                Ok(None) => continue,
                // The source ended (a frame limit): what the encoder
                // still holds goes out too.
                Err(_) => return self.flush(worker),
            };
            worker.shared().picture.set(frame.clone());
            self.captions.frame_in(&frame);
            // Frames lost before this one, by the source or by the ring,
            // show as a jump in the source's sequence.
            let lost = last_sequence.map_or(0, |p| frame.sequence().saturating_sub(p + 1));
            last_sequence = Some(frame.sequence());
            let started = Instant::now();
            let (first, count, period) = self.output_times(&frame);
            // Only the lost frames an output picture needed count as
            // dropped: those this frame now stands in for. Frames the rate
            // conversion skips anyway are no loss.
            let stand_ins = stand_ins(&frame, self.origin, first, count, period);
            worker
                .shared()
                .frames_dropped
                .fetch_add(lost.min(stand_ins), Ordering::Relaxed);
            for k in 0..count {
                // A slow encoder's backlog of repeats must not hold up a stop.
                if worker.should_stop() {
                    return Ok(());
                }
                self.encode(&frame, first + k * period, &mut converted, worker)?;
            }
            while let Some(mut unit) = self
                .encoder
                .receive()
                .map_err(|e| format!("video encoder: {e}"))?
            {
                self.captions.attach(&mut unit);
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
        while let Some(mut unit) = self
            .encoder
            .receive()
            .map_err(|e| format!("video encoder: {e}"))?
        {
            self.captions.attach(&mut unit);
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
        self.captions.picture_sent(pts);
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

#[cfg(test)]
mod tests {
    use makara_encode::{Preset, RateControl};
    use makara_media::{PixelFormat, VideoFormat};

    use super::*;

    fn settings(fps: u32, b_frames: u32) -> VideoSettings {
        VideoSettings {
            codec: makara_media::VideoCodec::H264,
            hardware: makara_encode::Hardware::Software,
            mpeg2_profile: makara_encode::Mpeg2Profile::Main,
            input: VideoFormat::new(320, 180, PixelFormat::I420, fps, 1).unwrap(),
            rate_control: RateControl::Vbr,
            bitrate_kbps: 1000,
            max_bitrate_kbps: 1500,
            vbv_buffer_ms: 500,
            gop_frames: 60,
            b_frames,
            intra_refresh: false,
            preset: Preset::Veryfast,
            zero_latency: true,
        }
    }

    #[test]
    fn without_b_frames_the_delay_is_the_streams() {
        assert_eq!(presentation_delay_90k(850, &settings(30, 0)), 76_500);
    }

    #[test]
    fn b_frames_add_one_frame_each_to_audio_and_video() {
        assert_eq!(
            presentation_delay_90k(850, &settings(30, 3)),
            76_500 + 3 * 3_000
        );
        assert_eq!(
            presentation_delay_90k(850, &settings(25, 1)),
            76_500 + 3_600
        );
    }

    #[test]
    fn at_low_rates_the_budget_covers_the_reference_picture() {
        // 2 fps, 3 B-frames: a P-frame is captured 1.5 s after its slot.
        let reorder = 3 * 45_000;
        assert_eq!(presentation_delay_90k(200, &settings(2, 3)), 2 * reorder);
    }
}
