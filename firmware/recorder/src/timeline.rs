//! Recorded duration, from the stream's own clock.
//!
//! A track's duration is the sum of the steps between consecutive clock
//! readings (PCRs, or PTS/DTS when a program has no PCR) of the packets
//! in its file. A step longer than [`MAX_STEP_TICKS`], or backwards, is a
//! hole, not recorded time: a pause, data dropped because the writer fell
//! behind, or a restarted source. ISO/IEC 13818-1 puts PCRs at most
//! 100 ms apart, and any video has a picture at least every second, so a
//! whole stream never has such a step. The same rule measures a file
//! after a crash, where pauses left no other trace.

use makara_media::{CLOCK_90K_HZ, PCR_HZ};

/// The 27 MHz clock wraps with the 33-bit PCR base.
const WRAP_TICKS: u64 = (1 << 33) * (PCR_HZ / CLOCK_90K_HZ);
/// The longest step between two readings that counts as recorded time.
pub(crate) const MAX_STEP_TICKS: u64 = PCR_HZ;

/// A running sum of clock steps, on the 27 MHz clock.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    last: Option<u64>,
    ticks: u64,
}

impl Timeline {
    /// Takes a clock reading in 27 MHz ticks (a PCR, or a PTS × 300).
    pub fn observe(&mut self, ticks: u64) {
        let now = ticks % WRAP_TICKS;
        if let Some(last) = self.last {
            let step = (now + WRAP_TICKS - last) % WRAP_TICKS;
            if step <= MAX_STEP_TICKS {
                self.ticks += step;
            }
        }
        self.last = Some(now);
    }

    /// What comes next does not follow on from what came before (a
    /// resume, a discontinuity_indicator): no step across it counts.
    pub fn cut(&mut self) {
        self.last = None;
    }

    #[cfg(test)]
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    pub fn seconds(&self) -> f64 {
        self.ticks as f64 / PCR_HZ as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = PCR_HZ / 1000;

    #[test]
    fn steps_add_up() {
        let mut t = Timeline::default();
        for n in 0..=250 {
            t.observe(5 * PCR_HZ + n * 40 * MS);
        }
        assert_eq!(t.ticks(), 10 * PCR_HZ);
        assert_eq!(t.seconds(), 10.0);
    }

    #[test]
    fn holes_and_backward_steps_do_not_count() {
        let mut t = Timeline::default();
        t.observe(0);
        t.observe(40 * MS);
        t.observe(40 * MS + 2 * PCR_HZ); // a 2 s hole
        t.observe(80 * MS + 2 * PCR_HZ);
        t.observe(10 * MS); // backwards: a new time base
        t.observe(50 * MS);
        assert_eq!(t.ticks(), 120 * MS);
    }

    #[test]
    fn a_cut_forgets_the_last_reading() {
        let mut t = Timeline::default();
        t.observe(0);
        t.observe(100 * MS);
        t.cut();
        t.observe(300 * MS);
        t.observe(340 * MS);
        assert_eq!(t.ticks(), 140 * MS);
    }

    #[test]
    fn the_clock_wraps() {
        let mut t = Timeline::default();
        t.observe(WRAP_TICKS - 20 * MS);
        t.observe(WRAP_TICKS + 20 * MS);
        t.observe(60 * MS);
        assert_eq!(t.ticks(), 80 * MS);
    }
}
