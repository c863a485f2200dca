//! The 90 kHz clock of PTS and DTS (33 bits, wrapping every 26.5 hours)
//! as RTMP's milliseconds (32 bits, wrapping every 49.7 days), counted
//! from the first time seen, so that a push starts near zero whatever the
//! source's clock says.

/// PTS and DTS wrap at 2^33.
const WRAP_90K: i64 = 1 << 33;

/// One push's timeline. Audio and video share it, so they stay in step.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The last time seen, as it came (33 bits) and unwrapped.
    last: Option<(u64, i64)>,
    /// The unwrapped time that is 0 ms.
    base: i64,
}

impl Timeline {
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Starts again: the next time seen is 0 ms (a new connection).
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// Milliseconds since the timeline's start for a 90 kHz time; times
    /// a little before the start (audio that precedes the first key frame)
    /// are 0. Steps across the 33-bit wrap are followed; the result wraps
    /// at 32 bits, as RTMP's timestamps do.
    pub fn ms(&mut self, time_90k: u64) -> u32 {
        let raw = time_90k & (WRAP_90K as u64 - 1);
        let unwrapped = match self.last {
            None => {
                self.base = raw as i64;
                raw as i64
            }
            Some((last_raw, last)) => {
                let mut delta = (raw as i64 - last_raw as i64).rem_euclid(WRAP_90K);
                // More than half the range forward is a step back.
                if delta >= WRAP_90K / 2 {
                    delta -= WRAP_90K;
                }
                last + delta
            }
        };
        self.last = Some((raw, unwrapped));
        let ms = (unwrapped - self.base).max(0) / 90;
        ms as u32
    }
}

/// PTS minus DTS in milliseconds, as FLV's signed 24-bit composition
/// time: 0 when the PTS is missing or comes before the DTS.
pub fn composition_ms(pts_90k: u64, dts_90k: u64) -> i32 {
    let diff = (pts_90k as i64 - dts_90k as i64).rem_euclid(WRAP_90K);
    if diff >= WRAP_90K / 2 {
        return 0;
    }
    (diff / 90).min(0x7F_FFFF) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_time_is_zero_and_the_rest_count_from_it() {
        let mut t = Timeline::new();
        assert_eq!(t.ms(900_000), 0);
        assert_eq!(t.ms(903_600), 40);
        assert_eq!(t.ms(899_100), 0, "before the start");
        t.reset();
        assert_eq!(t.ms(5_000_000), 0);
    }

    #[test]
    fn the_33_bit_wrap_is_a_step_forward() {
        let mut t = Timeline::new();
        let near_end = (1u64 << 33) - 900;
        assert_eq!(t.ms(near_end), 0);
        assert_eq!(t.ms(2700), 40);
    }

    #[test]
    fn milliseconds_wrap_at_32_bits() {
        let mut t = Timeline::new();
        t.ms(0);
        // Six hours at a time: 50 days cross 2^32 ms.
        let step = 90_000u64 * 21_600;
        let mut time = 0u64;
        let mut last = 0u32;
        for _ in 0..200 {
            time += step;
            last = t.ms(time);
        }
        assert_eq!(last, (200 * 21_600_000u64) as u32);
    }

    #[test]
    fn composition_time_is_pts_minus_dts() {
        assert_eq!(composition_ms(93_600, 90_000), 40);
        assert_eq!(composition_ms(90_000, 93_600), 0);
        assert_eq!(composition_ms(1800, (1u64 << 33) - 1800), 40);
    }
}
