//! Sound that arrives in pieces (a network input's decoder, a capture
//! card's packets), on its way to the source thread: samples placed by
//! their time on a continuous 48 kHz line that starts with the first
//! picture, read in order; whatever the input did not fill is silence.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::{AudioInfo, AudioSource, CaptureError, TONE_CHANNELS, TONE_SAMPLE_RATE};
use makara_media::MonotonicNs;

/// Channels of the line: stereo, interleaved.
pub(crate) const CHANNELS: usize = TONE_CHANNELS as usize;
/// Its rate.
pub(crate) const RATE: u64 = TONE_SAMPLE_RATE as u64;
/// How long after its time a chunk is handed out, at first: room for
/// sound that arrives later than the pictures of the same time. Senders
/// put up to several hundred milliseconds of sound in one PES packet
/// (ffmpeg's muxer fills about 2900 bytes), which arrives only when it
/// is complete, after the pictures of its first samples.
pub(crate) const HOLD_START_NS: u64 = 300_000_000;
/// The hold grows to what the input needs (its latest sound plus a
/// margin) up to this: within the stream's default presentation delay
/// (the VBV's 500 ms, the 250 ms jitter buffer and 100 ms), so the sound
/// still reaches the multiplexer before its time.
pub(crate) const HOLD_MAX_NS: u64 = 700_000_000;
const HOLD_MARGIN_NS: u64 = 40_000_000;
/// The most sound kept ahead of the reader: 4 s.
const CAPACITY_FRAMES: u64 = 4 * RATE;
/// A piece that starts this close to where the last one ended (2 ms)
/// continues it: rounding and timestamp jitter leave no click.
const SNAP_FRAMES: i64 = 96;

/// One run of sample frames starting at frame `first` of the line.
#[derive(Debug)]
struct Piece {
    first: u64,
    samples: Vec<i16>,
}

impl Piece {
    fn end(&self) -> u64 {
        self.first + (self.samples.len() / CHANNELS) as u64
    }
}

/// The line: see the module documentation. Bounded to
/// [`CAPACITY_FRAMES`] ahead of the reader.
#[derive(Debug)]
pub struct SoundLine {
    /// The time of frame 0: the first picture's stamp.
    start: MonotonicNs,
    /// The next frame the reader takes.
    read: u64,
    pieces: VecDeque<Piece>,
    /// Where the last piece pushed ended, to continue it exactly.
    last_end: Option<u64>,
    /// Frames that came after their time had been read.
    pub late_frames: u64,
    /// Frames refused because they lay too far ahead.
    pub early_frames: u64,
    /// How long after its time a chunk is handed out (see [`HOLD_MAX_NS`]).
    hold_ns: u64,
}

impl SoundLine {
    /// A line whose frame 0 is at `start`: the first picture's stamp.
    pub fn new(start: MonotonicNs) -> SoundLine {
        SoundLine {
            start,
            read: 0,
            pieces: VecDeque::new(),
            last_end: None,
            late_frames: 0,
            early_frames: 0,
            hold_ns: HOLD_START_NS,
        }
    }

    /// The frame of the line at `at`, rounded to the nearest.
    fn frame_at(&self, at: MonotonicNs) -> i64 {
        let ns = i128::from(at.0) - i128::from(self.start.0);
        let frames = (ns * i128::from(RATE) + 500_000_000).div_euclid(1_000_000_000);
        frames.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The time of frame `n`.
    pub fn time_of(&self, n: u64) -> MonotonicNs {
        let ns = u128::from(n) * 1_000_000_000 / u128::from(RATE);
        MonotonicNs(self.start.0.saturating_add(ns as u64))
    }

    /// Places interleaved stereo `samples` whose first frame is at `at`;
    /// they were decoded at `arrived`, which lengthens the hold if they
    /// came later after their time than sound has so far.
    pub fn push(&mut self, at: MonotonicNs, samples: &[i16], arrived: MonotonicNs) {
        if at >= self.start {
            let wanted = arrived.saturating_sub(at) + HOLD_MARGIN_NS;
            self.hold_ns = self.hold_ns.max(wanted.min(HOLD_MAX_NS));
        }
        let frames = (samples.len() / CHANNELS) as i64;
        let mut first = self.frame_at(at);
        if let Some(end) = self.last_end {
            if (first - end as i64).abs() <= SNAP_FRAMES {
                first = end as i64;
            }
        }
        // Drop what the reader has already passed.
        let skip = (self.read as i64 - first).clamp(0, frames);
        self.late_frames += skip as u64;
        let first = (first + skip) as u64;
        let samples = &samples[skip as usize * CHANNELS..];
        if samples.is_empty() {
            return;
        }
        let end = first + (samples.len() / CHANNELS) as u64;
        if end > self.read + CAPACITY_FRAMES {
            self.early_frames += (samples.len() / CHANNELS) as u64;
            return;
        }
        self.pieces.push_back(Piece {
            first,
            samples: samples.to_vec(),
        });
        self.last_end = Some(end);
    }

    /// Frames the reader can take by `until`: whole chunks of `frames`.
    fn due(&self, until: MonotonicNs, frames: usize) -> bool {
        let end = self.time_of(self.read + frames as u64);
        end.0.saturating_add(self.hold_ns) <= until.0
    }

    /// Fills `out` with the next frames of the line and moves on.
    fn take(&mut self, out: &mut [i16]) -> AudioInfo {
        out.fill(0);
        let frames = (out.len() / CHANNELS) as u64;
        let (from, to) = (self.read, self.read + frames);
        for piece in &self.pieces {
            let (a, b) = (piece.first.max(from), piece.end().min(to));
            if a < b {
                let src = &piece.samples[(a - piece.first) as usize * CHANNELS..]
                    [..(b - a) as usize * CHANNELS];
                out[(a - from) as usize * CHANNELS..][..src.len()].copy_from_slice(src);
            }
        }
        self.pieces.retain(|p| p.end() > to);
        self.read = to;
        AudioInfo {
            first_sample: from,
            frames: frames as usize,
            pts: self.time_of(from),
        }
    }
}

/// The line, once the first picture has started it.
pub type SharedLine = Arc<Mutex<Option<SoundLine>>>;

/// The line's sound, for the source thread.
#[derive(Debug)]
pub struct LineSound {
    /// The line the input fills.
    pub line: SharedLine,
}

impl AudioSource for LineSound {
    fn poll_samples(
        &mut self,
        until: MonotonicNs,
        out: &mut [i16],
    ) -> Result<Option<AudioInfo>, CaptureError> {
        if out.is_empty() || !out.len().is_multiple_of(CHANNELS) {
            return Err(CaptureError::AudioBuffer {
                got: out.len(),
                channels: TONE_CHANNELS,
            });
        }
        let mut line = self.line.lock().unwrap_or_else(|e| e.into_inner());
        let Some(line) = line.as_mut() else {
            return Ok(None);
        };
        if !line.due(until, out.len() / CHANNELS) {
            return Ok(None);
        }
        Ok(Some(line.take(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn line() -> SoundLine {
        SoundLine::new(MonotonicNs(1_000 * MS))
    }

    fn ramp(first: i16, frames: usize) -> Vec<i16> {
        (0..frames)
            .flat_map(|k| [first + k as i16, first + k as i16])
            .collect()
    }

    #[test]
    fn samples_land_at_their_time_and_gaps_are_silence() {
        let mut l = line();
        // 10 ms in: frame 480.
        l.push(MonotonicNs(1_010 * MS), &ramp(1, 100), MonotonicNs(0));
        let mut out = vec![7; 1_024 * CHANNELS];
        let info = l.take(&mut out);
        assert_eq!(info.first_sample, 0);
        assert_eq!(info.pts, MonotonicNs(1_000 * MS));
        assert!(out[..480 * CHANNELS].iter().all(|&s| s == 0));
        assert_eq!(&out[480 * CHANNELS..580 * CHANNELS], &ramp(1, 100)[..]);
        assert!(out[580 * CHANNELS..].iter().all(|&s| s == 0));
        // The next chunk follows on.
        let info = l.take(&mut out);
        assert_eq!(info.first_sample, 1_024);
        assert!(out.iter().all(|&s| s == 0));
    }

    #[test]
    fn a_piece_close_to_the_last_ones_end_continues_it() {
        let mut l = line();
        l.push(MonotonicNs(1_000 * MS), &ramp(1, 1_000), MonotonicNs(0));
        // Stamped 1 ms late: snapped to frame 1000.
        let at = MonotonicNs(1_000 * MS + 1_000 * MS / 48 + MS);
        l.push(at, &ramp(1_001, 500), MonotonicNs(0));
        let mut out = vec![0; 1_500 * CHANNELS];
        l.take(&mut out);
        assert_eq!(out, ramp(1, 1_500));
    }

    #[test]
    fn late_samples_are_dropped_and_counted() {
        let mut l = line();
        let mut out = vec![0; 480 * CHANNELS];
        l.take(&mut out);
        // Frames 0..960: the first 480 were read already.
        l.push(MonotonicNs(1_000 * MS), &ramp(1, 960), MonotonicNs(0));
        assert_eq!(l.late_frames, 480);
        l.take(&mut out);
        assert_eq!(out, ramp(481, 480));
    }

    #[test]
    fn the_line_holds_at_most_four_seconds_ahead() {
        let mut l = line();
        l.push(
            MonotonicNs(1_000 * MS + 5_000 * MS),
            &ramp(1, 10),
            MonotonicNs(0),
        );
        assert_eq!(l.early_frames, 10);
        assert!(l.pieces.is_empty());
    }

    #[test]
    fn chunks_are_due_a_hold_after_their_end() {
        let shared: SharedLine = Arc::new(Mutex::new(None));
        let mut sound = LineSound {
            line: Arc::clone(&shared),
        };
        let mut out = vec![0; 480 * CHANNELS];
        let far = MonotonicNs(u64::MAX / 2);
        assert_eq!(sound.poll_samples(far, &mut out), Ok(None), "not started");
        *shared.lock().unwrap() = Some(line());
        let end = 1_010 * MS + HOLD_START_NS;
        assert_eq!(sound.poll_samples(MonotonicNs(end - 1), &mut out), Ok(None));
        let info = sound
            .poll_samples(MonotonicNs(end), &mut out)
            .unwrap()
            .unwrap();
        assert_eq!((info.first_sample, info.frames), (0, 480));
        assert!(sound.poll_samples(far, &mut [0; 3]).is_err());
    }

    #[test]
    fn the_hold_grows_with_late_sound_up_to_its_limit() {
        let mut l = line();
        let at = MonotonicNs(1_100 * MS);
        l.push(at, &ramp(1, 10), MonotonicNs(at.0 + 100 * MS));
        assert_eq!(l.hold_ns, HOLD_START_NS, "early enough");
        l.push(at, &ramp(1, 10), MonotonicNs(at.0 + 400 * MS));
        assert_eq!(l.hold_ns, 440 * MS);
        l.push(at, &ramp(1, 10), MonotonicNs(at.0 + 5_000 * MS));
        assert_eq!(l.hold_ns, HOLD_MAX_NS);
        // Sound from before the line started says nothing.
        let mut l = line();
        l.push(MonotonicNs(900 * MS), &ramp(1, 10), MonotonicNs(2_000 * MS));
        assert_eq!(l.hold_ns, HOLD_START_NS);
    }
}
