//! The TESTPATTERN audio: a 1 kHz sine on both channels.

use std::f64::consts::TAU;

use makara_media::MonotonicNs;

use crate::clock::{monotonic_now, sleep_until, Timeline};
use crate::settings::Pacing;
use crate::{AudioInfo, CaptureError};

/// The tone's sample rate.
pub const TONE_SAMPLE_RATE: u32 = 48_000;
/// The tone's channels: stereo, the same signal on both.
pub const TONE_CHANNELS: u16 = 2;
/// The tone's frequency.
pub const TONE_HZ: u32 = 1_000;
/// The tone's level: the EBU R 68 alignment level. Per AES17, a sine whose
/// peak reaches full scale is 0 dBFS, so the peak here is
/// `32767 × 10^(-18/20)` = [`TONE_PEAK`].
pub const TONE_DBFS: i32 = -18;
/// The tone's peak sample value, from [`TONE_DBFS`].
pub const TONE_PEAK: i16 = 4_125;
/// Sample frames in one AAC frame: the natural chunk to ask for.
pub const AAC_FRAME_SAMPLES: usize = 1_024;

/// Samples in one period; the tone repeats exactly every this many.
const PERIOD: usize = (TONE_SAMPLE_RATE / TONE_HZ) as usize;
const _: () = assert!(TONE_SAMPLE_RATE.is_multiple_of(TONE_HZ));

/// A running 1 kHz tone, interleaved stereo `i16` at 48 kHz. Sample `n` is
/// `TONE_PEAK × sin(2π · 1000 · n / 48000)`, looked up from `n` itself, so
/// the phase is continuous across chunks of any size and never drifts;
/// it is stamped `origin + n / 48000` s.
#[derive(Debug)]
pub struct Tone {
    pacing: Pacing,
    timeline: Timeline,
    next_sample: u64,
    period: [i16; PERIOD],
}

impl Tone {
    /// Starts the tone with sample 0 at `origin` (the same origin as the
    /// video it goes with).
    pub fn start(origin: MonotonicNs, pacing: Pacing) -> Tone {
        Tone::with_peak(origin, pacing, TONE_PEAK)
    }

    /// Silence on the tone's clock: what a source without sound delivers,
    /// so that every source feeds the audio encoder the same way.
    pub fn silence(origin: MonotonicNs, pacing: Pacing) -> Tone {
        Tone::with_peak(origin, pacing, 0)
    }

    fn with_peak(origin: MonotonicNs, pacing: Pacing, peak: i16) -> Tone {
        let mut period = [0; PERIOD];
        for (k, s) in period.iter_mut().enumerate() {
            let phase = TAU * k as f64 / PERIOD as f64;
            *s = (f64::from(peak) * phase.sin()).round() as i16;
        }
        Tone {
            pacing,
            timeline: Timeline::new(origin, TONE_SAMPLE_RATE, 1),
            next_sample: 0,
            period,
        }
    }

    /// The presentation time of sample frame `n`.
    pub fn sample_pts(&self, n: u64) -> MonotonicNs {
        self.timeline.at(n)
    }

    /// The non-blocking core of real-time pacing: if every sample frame
    /// that fits in `out` has been "captured" by `now`, fills `out` with
    /// them; `Ok(None)` if not yet. Samples are never skipped.
    pub fn poll_samples(
        &mut self,
        now: MonotonicNs,
        out: &mut [i16],
    ) -> Result<Option<AudioInfo>, CaptureError> {
        let frames = frames_in(out)?;
        if self.chunk_end(frames) <= now {
            Ok(Some(self.deliver(out)))
        } else {
            Ok(None)
        }
    }

    /// When a chunk of `frames` sample frames, starting at the next sample,
    /// is complete.
    fn chunk_end(&self, frames: usize) -> MonotonicNs {
        self.timeline.at(self.next_sample + frames as u64)
    }

    fn deliver(&mut self, out: &mut [i16]) -> AudioInfo {
        let first = self.next_sample;
        // The remainder is below PERIOD.
        let mut k = (first % PERIOD as u64) as usize;
        let channels = usize::from(TONE_CHANNELS);
        for frame in out.chunks_exact_mut(channels) {
            frame.fill(self.period[k]);
            k = (k + 1) % PERIOD;
        }
        let frames = out.len() / channels;
        self.next_sample += frames as u64;
        AudioInfo {
            first_sample: first,
            frames,
            pts: self.timeline.at(first),
        }
    }
}

impl crate::AudioSource for Tone {
    fn poll_samples(
        &mut self,
        until: MonotonicNs,
        out: &mut [i16],
    ) -> Result<Option<AudioInfo>, CaptureError> {
        Tone::poll_samples(self, until, out)
    }
}

/// Sample frames in `out`, if it holds a positive whole number of them.
fn frames_in(out: &[i16]) -> Result<usize, CaptureError> {
    let channels = usize::from(TONE_CHANNELS);
    if out.is_empty() || !out.len().is_multiple_of(channels) {
        return Err(CaptureError::AudioBuffer {
            got: out.len(),
            channels: TONE_CHANNELS,
        });
    }
    Ok(out.len() / channels)
}

impl Tone {
    /// Fills `out` with the next `out.len() / 2` sample frames, interleaved,
    /// and says where they lie on the timeline. In real time, blocks until
    /// the last of them has been "captured".
    pub fn next_samples(&mut self, out: &mut [i16]) -> Result<AudioInfo, CaptureError> {
        let frames = frames_in(out)?;
        if self.pacing == Pacing::RealTime {
            // Sleeping may wake a little early on some systems; loop.
            while self.chunk_end(frames) > monotonic_now() {
                sleep_until(self.chunk_end(frames));
            }
        }
        Ok(self.deliver(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: usize = TONE_CHANNELS as usize;

    fn fast() -> Tone {
        Tone::start(MonotonicNs(0), Pacing::AsFastAsPossible)
    }

    /// One second of the tone, left channel, in AAC-sized chunks.
    fn one_second_left() -> Vec<i16> {
        let mut tone = fast();
        let mut chunk = vec![0; AAC_FRAME_SAMPLES * CH];
        let mut left = Vec::new();
        while left.len() < TONE_SAMPLE_RATE as usize {
            tone.next_samples(&mut chunk).unwrap();
            left.extend(chunk.iter().step_by(CH));
        }
        left.truncate(TONE_SAMPLE_RATE as usize);
        left
    }

    #[test]
    fn peak_follows_from_the_level() {
        let peak = 32_767.0 * 10f64.powf(f64::from(TONE_DBFS) / 20.0);
        assert_eq!(peak.round() as i16, TONE_PEAK);
    }

    #[test]
    fn one_second_has_2000_zero_crossings() {
        let left = one_second_left();
        let crossings = left.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!(
            (1_998..=2_002).contains(&crossings),
            "{crossings} crossings"
        );
    }

    #[test]
    fn level_is_minus_18_dbfs() {
        let left = one_second_left();
        assert_eq!(left.iter().copied().max(), Some(TONE_PEAK));
        assert_eq!(left.iter().copied().min(), Some(-TONE_PEAK));
        let rms =
            (left.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / left.len() as f64).sqrt();
        let full_scale_sine_rms = 32_767.0 / 2f64.sqrt();
        let dbfs = 20.0 * (rms / full_scale_sine_rms).log10();
        assert!((dbfs + 18.0).abs() < 0.01, "{dbfs} dBFS");
    }

    #[test]
    fn both_channels_carry_the_tone() {
        let mut chunk = vec![0; 96 * CH];
        fast().next_samples(&mut chunk).unwrap();
        for frame in chunk.chunks_exact(CH) {
            assert_eq!(frame[0], frame[1]);
        }
        assert!(chunk.iter().any(|&s| s != 0));
    }

    /// Any chunking gives the same signal as one long render, and the
    /// sample after each boundary continues the sine.
    #[test]
    fn phase_is_continuous_across_chunks() {
        let mut whole = vec![0; 10_000 * CH];
        fast().next_samples(&mut whole).unwrap();
        for sizes in [vec![1_024], vec![1, 47, 48, 49, 1_000], vec![1_601, 7]] {
            let mut tone = fast();
            let mut pieced = Vec::new();
            for size in sizes.iter().cycle() {
                if pieced.len() >= whole.len() {
                    break;
                }
                let mut chunk = vec![0; size * CH];
                tone.next_samples(&mut chunk).unwrap();
                pieced.extend_from_slice(&chunk);
            }
            assert_eq!(&pieced[..whole.len()], &whole[..], "chunks {sizes:?}");
        }
        for (n, frame) in whole.chunks_exact(CH).enumerate() {
            let ideal = f64::from(TONE_PEAK) * (TAU * 1_000.0 * n as f64 / 48_000.0).sin();
            assert!((f64::from(frame[0]) - ideal).abs() < 0.501, "sample {n}");
        }
    }

    #[test]
    fn pts_is_sample_count_over_rate_from_the_origin() {
        let origin = MonotonicNs(7_000_000_000);
        let mut tone = Tone::start(origin, Pacing::AsFastAsPossible);
        let mut chunk = vec![0; AAC_FRAME_SAMPLES * CH];
        let mut last = None;
        for i in 0..5_000u64 {
            let info = tone.next_samples(&mut chunk).unwrap();
            let n = i * AAC_FRAME_SAMPLES as u64;
            assert_eq!(info.first_sample, n);
            assert_eq!(info.frames, AAC_FRAME_SAMPLES);
            let exact = u128::from(n) * 1_000_000_000 / 48_000;
            assert_eq!(u128::from(info.pts.0 - origin.0), exact);
            assert!(last < Some(info.pts));
            last = Some(info.pts);
        }
        // 5000 AAC frames = 106.666… s; 1024 × 5000 / 48000 s exactly.
        assert_eq!(
            tone.sample_pts(5_120_000).0,
            7_000_000_000 + 106_666_666_666
        );
        // One hour in: sample 172 800 000 is exactly 3600 s after the origin.
        assert_eq!(tone.sample_pts(172_800_000).0 - origin.0, 3_600_000_000_000);
    }

    #[test]
    fn real_time_waits_until_the_chunk_is_captured() {
        let mut tone = Tone::start(MonotonicNs(1_000_000), Pacing::RealTime);
        let mut chunk = vec![0; AAC_FRAME_SAMPLES * CH];
        let end = tone.sample_pts(AAC_FRAME_SAMPLES as u64);
        assert_eq!(
            tone.poll_samples(MonotonicNs(end.0 - 1), &mut chunk),
            Ok(None)
        );
        let info = tone.poll_samples(end, &mut chunk).unwrap().unwrap();
        assert_eq!(info.pts, MonotonicNs(1_000_000));
        // Late by a lot: still the very next samples, nothing skipped.
        let info = tone.poll_samples(MonotonicNs(u64::MAX / 2), &mut chunk);
        assert_eq!(
            info.unwrap().unwrap().first_sample,
            AAC_FRAME_SAMPLES as u64
        );
    }

    #[test]
    fn blocking_real_time_delivery_keeps_pace() {
        let origin = monotonic_now();
        let mut tone = Tone::start(origin, Pacing::RealTime);
        let mut chunk = vec![0; 480 * CH];
        for _ in 0..3 {
            tone.next_samples(&mut chunk).unwrap();
        }
        // Three 10 ms chunks cannot all be complete before 30 ms have passed.
        assert!(monotonic_now().0 - origin.0 >= 30_000_000);
    }

    #[test]
    fn buffers_must_hold_whole_sample_frames() {
        let mut tone = fast();
        for len in [0, 1, 3, 2_047] {
            let mut out = vec![0; len];
            assert_eq!(
                tone.next_samples(&mut out),
                Err(CaptureError::AudioBuffer {
                    got: len,
                    channels: 2
                })
            );
        }
        assert_eq!(
            CaptureError::AudioBuffer {
                got: 3,
                channels: 2
            }
            .to_string(),
            "the audio buffer holds 3 samples; it must hold a positive multiple of 2 \
             (one sample per channel per frame)"
        );
    }

    #[test]
    fn silence_keeps_the_tones_clock() {
        let mut silence = Tone::silence(MonotonicNs(5), Pacing::AsFastAsPossible);
        let mut chunk = vec![1; AAC_FRAME_SAMPLES * CH];
        for i in 0..3u64 {
            let info = silence.next_samples(&mut chunk).unwrap();
            assert!(chunk.iter().all(|&s| s == 0));
            assert_eq!(info.first_sample, i * AAC_FRAME_SAMPLES as u64);
            assert_eq!(info.pts.0, fast().sample_pts(info.first_sample).0 + 5);
        }
    }
}
