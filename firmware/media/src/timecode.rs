//! SMPTE timecode as it travels with a picture: the test pattern's own
//! count, or what a capture card read from the signal (RP188, VITC).

use std::fmt;

/// A non-drop-frame SMPTE timecode, `HH:MM:SS:FF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    /// Hours, `0..24`.
    pub hours: u8,
    /// Minutes, `0..60`.
    pub minutes: u8,
    /// Seconds, `0..60`.
    pub seconds: u8,
    /// Frames, `0..frame_rate`.
    pub frames: u8,
}

impl Timecode {
    /// The timecode of frame `index` at `frame_rate` whole frames per second
    /// (1–60; anything else is treated as the nearest bound), counted from
    /// the first frame and wrapping at 24 hours.
    pub fn from_frame(index: u64, frame_rate: u32) -> Timecode {
        let rate = u64::from(frame_rate.clamp(1, 60));
        let secs = index / rate;
        // Every value is below 60 after the modulo, so the casts are exact.
        Timecode {
            hours: (secs / 3600 % 24) as u8,
            minutes: (secs / 60 % 60) as u8,
            seconds: (secs % 60) as u8,
            frames: (index % rate) as u8,
        }
    }

    /// A timecode packed as binary-coded decimal, `0xHHMMSSFF` (SMPTE 12M's
    /// digits; the flag bits some carriers keep in the tens digits, drop
    /// frame and colour frame, are masked off). `None` when a digit is not
    /// decimal or a field is out of range.
    pub fn from_bcd(bcd: u32) -> Option<Timecode> {
        let field = |shift: u32, tens_mask: u32| -> Option<u8> {
            let byte = (bcd >> shift) & 0xff;
            let (tens, units) = ((byte >> 4) & tens_mask, byte & 0x0f);
            (units <= 9).then(|| (tens * 10 + units) as u8)
        };
        let tc = Timecode {
            hours: field(24, 0x3)?,
            minutes: field(16, 0x7)?,
            seconds: field(8, 0x7)?,
            frames: field(0, 0x3)?,
        };
        let valid = tc.hours < 24 && tc.minutes < 60 && tc.seconds < 60 && tc.frames < 60;
        valid.then_some(tc)
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}:{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_count_into_seconds_minutes_and_hours() {
        assert_eq!(Timecode::from_frame(0, 25).to_string(), "00:00:00:00");
        assert_eq!(
            Timecode::from_frame(25 * 3661 + 7, 25).to_string(),
            "01:01:01:07"
        );
        assert_eq!(
            Timecode::from_frame(30 * 86_400, 30).to_string(),
            "00:00:00:00"
        );
    }

    #[test]
    fn bcd_reads_as_its_digits_without_the_flag_bits() {
        let tc = Timecode::from_bcd(0x1259_5923).unwrap();
        assert_eq!(tc.to_string(), "12:59:59:23");
        // Drop-frame (bit 6 of the frames byte) and colour-frame flags.
        assert_eq!(
            Timecode::from_bcd(0x0100_0040 | 0x0000_0080),
            Timecode::from_bcd(0x0100_0000)
        );
    }

    #[test]
    fn bcd_with_a_digit_over_nine_or_a_field_out_of_range_is_refused() {
        assert_eq!(Timecode::from_bcd(0x0000_000a), None);
        assert_eq!(Timecode::from_bcd(0x2400_0000), None);
        assert_eq!(Timecode::from_bcd(0x0070_0000), None);
    }
}
