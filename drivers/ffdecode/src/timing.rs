//! Input timestamps onto the monotonic clock: one anchor, shared by
//! pictures, sound and metadata, that ties an input tick (90 kHz) to a
//! moment, re-made when the input's timeline breaks.
//!
//! The first picture is stamped when it leaves the decoder, and every
//! later one `pts - pts0` after it, so the input's own spacing survives
//! network jitter. Pictures are the master: a picture whose mapped time
//! is not strictly after the last stamp, more than [`JUMP_NS`] after it,
//! more than [`LATE_NS`] behind now or [`EARLY_NS`] ahead of it (a new
//! sender, a timestamp jump, clock drift building up) re-anchors, and so
//! does the first picture after a loss: it is stamped at the later of now
//! and one frame after the last stamp, so the stamps stay strictly
//! increasing and without a gap longer than the input's own. Sound and
//! metadata are mapped through the same anchor, which keeps them in step
//! with the pictures to the tick.

use makara_media::MonotonicNs;

/// Input ticks per second: the 90 kHz of MPEG PTS.
pub(crate) const TICKS_PER_SEC: i64 = 90_000;
/// A gap this long between pictures' timestamps is a discontinuity.
pub(crate) const JUMP_NS: u64 = 1_000_000_000;
/// A picture mapped this far before now would reach the encoder too late.
pub(crate) const LATE_NS: u64 = 150_000_000;
/// A picture mapped this far after now belongs to another timeline.
pub(crate) const EARLY_NS: u64 = 1_000_000_000;
/// PTS and DTS are 33-bit counters.
const WRAP: i64 = 1 << 33;

/// Turns 33-bit PTS values into one continuous count: each value becomes
/// the one of its 2^33 aliases nearest the value before it. One instance
/// serves every PID of a program, so they stay on one count.
#[derive(Debug, Default)]
pub(crate) struct Unwrap {
    last: Option<i64>,
}

impl Unwrap {
    pub(crate) fn unwrap(&mut self, wire: u64) -> i64 {
        let raw = (wire & (WRAP as u64 - 1)) as i64;
        let value = match self.last {
            None => raw,
            Some(last) => {
                let base = last - last.rem_euclid(WRAP);
                [base - WRAP, base, base + WRAP]
                    .into_iter()
                    .map(|b| b + raw)
                    .min_by_key(|v| (v - last).abs())
                    .unwrap_or(raw)
            }
        };
        self.last = Some(value);
        value
    }
}

/// Input tick `ticks` was at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    ticks: i64,
    at: MonotonicNs,
}

impl Anchor {
    /// Where `ticks` falls, or `None` before the clock's zero.
    fn map(self, ticks: i64) -> Option<MonotonicNs> {
        let delta_ns = i128::from(ticks - self.ticks) * 1_000_000_000 / i128::from(TICKS_PER_SEC);
        u64::try_from(i128::from(self.at.0) + delta_ns)
            .ok()
            .map(MonotonicNs)
    }
}

/// The stamps of one capture. See the module documentation.
#[derive(Debug)]
pub(crate) struct Clock {
    anchor: Option<Anchor>,
    last: Option<MonotonicNs>,
    /// Nothing is stamped before this: the stream's origin.
    floor: MonotonicNs,
    reanchors: u64,
    /// Stamps follow the input's timestamps alone, not the wall clock
    /// (a file read as fast as it is encoded).
    input_time: bool,
}

impl Clock {
    pub(crate) fn new(floor: MonotonicNs) -> Clock {
        Clock {
            anchor: None,
            last: None,
            floor,
            reanchors: 0,
            input_time: false,
        }
    }

    /// A clock whose stamps follow the input's timestamps however fast or
    /// slowly the pictures come: the first picture is stamped when it
    /// leaves the decoder, every later one by its timestamp from there. A
    /// step back or a jump still re-anchors, one frame after the last.
    pub(crate) fn on_input_time(floor: MonotonicNs) -> Clock {
        Clock {
            input_time: true,
            ..Clock::new(floor)
        }
    }

    /// The stamp of a picture with input time `ticks` (if it has one)
    /// that left the decoder at `now`; pictures are `period_ns` apart.
    pub(crate) fn picture(
        &mut self,
        ticks: Option<i64>,
        now: MonotonicNs,
        period_ns: u64,
    ) -> MonotonicNs {
        let mapped = match (self.anchor, ticks) {
            (Some(anchor), Some(t)) => anchor.map(t).filter(|&m| self.plausible(m, now)),
            (Some(_), None) => self.last.map(|l| MonotonicNs(l.0 + period_ns)),
            (None, _) => None,
        };
        let stamp = match mapped {
            Some(m) => m,
            None => {
                let at = self.resume_at(now, period_ns);
                if let Some(t) = ticks {
                    if self.anchor.is_some() {
                        self.reanchors += 1;
                    }
                    self.anchor = Some(Anchor { ticks: t, at });
                }
                at
            }
        };
        self.last = Some(stamp);
        stamp
    }

    /// The stamp of the next slate picture, when it falls due by `now`:
    /// the latest point of the grid of `period_ns` steps from the last
    /// stamp that is not after now (a late call skips the points missed,
    /// as a live source loses frames), or `None` if the next is not due.
    pub(crate) fn slate(&mut self, now: MonotonicNs, period_ns: u64) -> Option<MonotonicNs> {
        let period = period_ns.max(1);
        let stamp = match self.last {
            None => now.max(self.floor),
            Some(last) if last.0 + period > now.0 => return None,
            Some(last) => MonotonicNs(last.0 + (now.0 - last.0) / period * period),
        };
        self.last = Some(stamp);
        Some(stamp)
    }

    /// When the next slate picture is due.
    pub(crate) fn next_slate_due(&self, now: MonotonicNs, period_ns: u64) -> MonotonicNs {
        self.last.map_or(now, |l| MonotonicNs(l.0 + period_ns))
    }

    /// The input was lost: its next picture starts a new anchor.
    pub(crate) fn lost(&mut self) {
        if self.anchor.take().is_some() {
            self.reanchors += 1;
        }
    }

    /// Where input time `ticks` falls on the monotonic clock, while there
    /// is an anchor.
    pub(crate) fn map(&self, ticks: i64) -> Option<MonotonicNs> {
        self.anchor.and_then(|a| a.map(ticks))
    }

    /// Times the anchor was made again after the first.
    #[cfg(test)]
    pub(crate) fn reanchors(&self) -> u64 {
        self.reanchors
    }

    fn plausible(&self, mapped: MonotonicNs, now: MonotonicNs) -> bool {
        let after_last = self
            .last
            .is_none_or(|l| mapped > l && mapped.0 <= l.0 + JUMP_NS);
        let near_now = mapped.0 + LATE_NS >= now.0 && mapped.0 <= now.0 + EARLY_NS;
        after_last && (self.input_time || near_now)
    }

    /// The stamp of a picture that starts a new anchor: one frame after
    /// the last stamp, or now if that is later; on input time, one frame
    /// after the last whatever now is.
    fn resume_at(&self, now: MonotonicNs, period_ns: u64) -> MonotonicNs {
        let next = self
            .last
            .map_or(MonotonicNs(0), |l| MonotonicNs(l.0 + period_ns));
        match (self.input_time, self.last) {
            // Not before one frame after the last, whatever now is.
            (true, Some(_)) => next.max(self.floor),
            _ => now.max(next).max(self.floor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    /// 40 ms at 90 kHz.
    const FRAME: i64 = 3_600;

    fn at_ms(ms: u64) -> MonotonicNs {
        MonotonicNs(ms * MS)
    }

    #[test]
    fn unwrap_follows_the_33_bit_wrap_both_ways() {
        let mut u = Unwrap::default();
        assert_eq!(u.unwrap((WRAP - 10) as u64), WRAP - 10);
        assert_eq!(u.unwrap(5), WRAP + 5);
        assert_eq!(u.unwrap((WRAP - 3) as u64), WRAP - 3);
        assert_eq!(u.unwrap(100), WRAP + 100);
        // The top bits of the wire value are ignored.
        assert_eq!(u.unwrap(WRAP as u64 + 200), WRAP + 200);
    }

    #[test]
    fn pictures_keep_the_inputs_spacing_from_the_first() {
        let mut c = Clock::new(at_ms(0));
        assert_eq!(
            c.picture(Some(900_000), at_ms(1_000), 40 * MS),
            at_ms(1_000)
        );
        // Jitter in the arrival does not move the stamps.
        assert_eq!(
            c.picture(Some(900_000 + FRAME), at_ms(1_070), 40 * MS),
            at_ms(1_040)
        );
        assert_eq!(
            c.picture(Some(900_000 + 2 * FRAME), at_ms(1_075), 40 * MS),
            at_ms(1_080)
        );
        assert_eq!(c.reanchors(), 0);
        // Sound maps through the same anchor, to the tick.
        assert_eq!(c.map(900_000 + 90), Some(at_ms(1_001)));
    }

    #[test]
    fn a_jump_or_a_step_back_continues_one_frame_after_the_last() {
        let mut c = Clock::new(at_ms(0));
        c.picture(Some(0), at_ms(500), 40 * MS);
        c.picture(Some(FRAME), at_ms(540), 40 * MS);
        // The sender restarted: its timestamps begin again near zero.
        let s = c.picture(Some(-50 * FRAME), at_ms(560), 40 * MS);
        assert_eq!(s, at_ms(580));
        assert_eq!(c.reanchors(), 1);
        // And then run on from there.
        assert_eq!(
            c.picture(Some(-49 * FRAME), at_ms(600), 40 * MS),
            at_ms(620)
        );
        // Ten seconds ahead: a jump.
        let s = c.picture(Some(250 * FRAME), at_ms(640), 40 * MS);
        assert_eq!(s, at_ms(660));
        assert_eq!(c.reanchors(), 2);
    }

    #[test]
    fn late_pictures_move_the_anchor_to_now() {
        let mut c = Clock::new(at_ms(0));
        c.picture(Some(0), at_ms(100), 40 * MS);
        // Mapped to 140 ms but leaving the decoder at 400: too late.
        assert_eq!(c.picture(Some(FRAME), at_ms(400), 40 * MS), at_ms(400));
        assert_eq!(c.reanchors(), 1);
        assert_eq!(c.picture(Some(2 * FRAME), at_ms(430), 40 * MS), at_ms(440));
    }

    #[test]
    fn slate_runs_on_the_grid_and_the_input_resumes_after_it() {
        let mut c = Clock::new(at_ms(0));
        c.picture(Some(0), at_ms(1_000), 40 * MS);
        c.lost();
        assert_eq!(c.slate(at_ms(1_039), 40 * MS), None);
        assert_eq!(c.slate(at_ms(1_040), 40 * MS), Some(at_ms(1_040)));
        // Called late: the latest due point, the grid kept.
        assert_eq!(c.slate(at_ms(1_199), 40 * MS), Some(at_ms(1_160)));
        assert_eq!(c.next_slate_due(at_ms(1_199), 40 * MS), at_ms(1_200));
        // The input returns with any timestamps: one frame on.
        assert_eq!(
            c.picture(Some(123_456_789), at_ms(1_170), 40 * MS),
            at_ms(1_200)
        );
        assert_eq!(
            c.picture(Some(123_456_789 + FRAME), at_ms(1_210), 40 * MS),
            at_ms(1_240)
        );
    }

    #[test]
    fn stamps_are_never_before_the_floor() {
        let mut c = Clock::new(at_ms(5_000));
        assert_eq!(c.picture(Some(0), at_ms(10), 40 * MS), at_ms(5_000));
        let mut c = Clock::new(at_ms(5_000));
        assert_eq!(c.slate(at_ms(10), 40 * MS), Some(at_ms(5_000)));
    }

    #[test]
    fn on_input_time_the_wall_clock_does_not_move_the_stamps() {
        let mut c = Clock::on_input_time(at_ms(0));
        assert_eq!(c.picture(Some(0), at_ms(1_000), 40 * MS), at_ms(1_000));
        // Decoded far faster than real time, then far slower: the input's
        // 40 ms spacing stays.
        // (Live, the 26th would be more than 1 s early, the last late.)
        for k in 1..=50u64 {
            let stamp = c.picture(Some(k as i64 * FRAME), at_ms(1_001), 40 * MS);
            assert_eq!(stamp, at_ms(1_000 + 40 * k));
        }
        assert_eq!(
            c.picture(Some(51 * FRAME), at_ms(60_000), 40 * MS),
            at_ms(1_000 + 51 * 40)
        );
        assert_eq!(c.reanchors(), 0);
        // A step back still re-anchors, one frame on, not at now.
        assert_eq!(
            c.picture(Some(0), at_ms(90_000), 40 * MS),
            at_ms(1_000 + 52 * 40)
        );
        assert_eq!(c.reanchors(), 1);
    }

    #[test]
    fn a_picture_without_a_timestamp_is_one_frame_after_the_last() {
        let mut c = Clock::new(at_ms(0));
        c.picture(Some(0), at_ms(100), 40 * MS);
        assert_eq!(c.picture(None, at_ms(150), 40 * MS), at_ms(140));
        assert_eq!(c.picture(Some(2 * FRAME), at_ms(190), 40 * MS), at_ms(180));
    }
}
