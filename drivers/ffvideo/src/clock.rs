//! Picture numbers for the encoder, 90 kHz timestamps for the caller.
//!
//! The encoders count time in frames: `mpeg2video` takes its frame rate
//! from the time base, and x265's and SVT-AV1's rate control count frames
//! at the configured rate. So each picture sent is numbered 0, 1, 2, … in
//! a time base of one frame, and each packet's numbers are turned back
//! into the 90 kHz PTS the caller gave that picture. A DTS number is the
//! number of the picture presented in that decoding slot (x265 and
//! mpeg2video derive DTS from earlier PTS), so it maps the same way; one
//! before the first picture lies whole frames before the first PTS.

use std::collections::VecDeque;

use makara_media::{Clock90k, CLOCK_90K_HZ};

#[derive(Debug)]
pub(crate) struct FrameClock {
    fps_num: u64,
    fps_den: u64,
    /// (number, 90 kHz PTS) of the pictures a packet may still name.
    sent: VecDeque<(i64, u64)>,
    first_pts: Option<u64>,
    next: i64,
}

impl FrameClock {
    pub fn new(fps_num: u32, fps_den: u32) -> FrameClock {
        FrameClock {
            fps_num: u64::from(fps_num),
            fps_den: u64::from(fps_den),
            sent: VecDeque::new(),
            first_pts: None,
            next: 0,
        }
    }

    /// Numbers the next picture, whose PTS must come after the last one's.
    pub fn stamp(&mut self, pts: Clock90k) -> Result<i64, String> {
        if let Some(&(_, last)) = self.sent.back() {
            if pts.0 <= last {
                return Err(format!(
                    "pts {} does not come after the previous picture's {last}",
                    pts.0
                ));
            }
        }
        let number = self.next;
        self.next += 1;
        self.first_pts.get_or_insert(pts.0);
        self.sent.push_back((number, pts.0));
        Ok(number)
    }

    /// The 90 kHz time of picture `number`: its PTS if it was sent, a
    /// whole number of frames before the first PTS if it lies before the
    /// first picture, `None` if that would be before 90 kHz zero or the
    /// picture is unknown.
    pub fn time_of(&self, number: i64) -> Option<u64> {
        if number < 0 {
            let before = number.unsigned_abs() * CLOCK_90K_HZ * self.fps_den / self.fps_num;
            return self.first_pts?.checked_sub(before);
        }
        let first = self.sent.front()?.0;
        let index = usize::try_from(number.checked_sub(first)?).ok()?;
        self.sent
            .get(index)
            .filter(|(n, _)| *n == number)
            .map(|&(_, pts)| pts)
    }

    /// Forgets the pictures before `number`: decoding reached it, so no
    /// later packet names them.
    pub fn forget_before(&mut self, number: i64) {
        while self.sent.front().is_some_and(|&(n, _)| n < number) {
            self.sent.pop_front();
        }
    }

    /// Pictures still remembered, for tests and `Debug`.
    pub fn remembered(&self) -> usize {
        self.sent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_map_back_to_the_callers_pts() {
        let mut clock = FrameClock::new(30000, 1001);
        for (n, pts) in [9009u64, 12012, 15016].into_iter().enumerate() {
            assert_eq!(clock.stamp(Clock90k(pts)), Ok(n as i64));
        }
        assert_eq!(clock.time_of(2), Some(15016));
        assert_eq!(clock.time_of(3), None);
        // Two frames before the first PTS: 2 × 3003 ticks.
        assert_eq!(clock.time_of(-2), Some(3003));
        assert_eq!(clock.time_of(-4), None, "before 90 kHz zero");
        clock.forget_before(1);
        assert_eq!(clock.time_of(0), None);
        assert_eq!(clock.time_of(1), Some(12012));
        assert_eq!(clock.time_of(-1), Some(6006), "still from the first PTS");
        assert_eq!(clock.remembered(), 2);
    }

    #[test]
    fn a_pts_that_does_not_advance_is_refused() {
        let mut clock = FrameClock::new(25, 1);
        clock.stamp(Clock90k(3600)).unwrap();
        assert!(clock.stamp(Clock90k(3600)).unwrap_err().contains("3600"));
        assert_eq!(clock.stamp(Clock90k(7200)), Ok(1));
    }
}
