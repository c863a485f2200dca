//! The burnt-in text: a 5×7 bitmap font for digits and the colon, and the
//! two lines it draws (timecode and frame counter).

use std::fmt;

/// Glyph width in font pixels.
pub(crate) const GLYPH_W: usize = 5;
/// Glyph height in font pixels.
pub(crate) const GLYPH_H: usize = 7;

/// Rows top to bottom; bit 4 is the leftmost column.
pub(crate) type Glyph = [u8; GLYPH_H];

/// `0`–`9`, in order.
pub(crate) const DIGITS: [Glyph; 10] = [
    [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
    [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
    [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
    [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
    [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
    [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
    [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
    [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
];
pub(crate) const COLON: Glyph = [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00];
const BLANK: Glyph = [0; GLYPH_H];

/// `A`–`Z`, in order: the slate's text (lower case is drawn as upper).
pub(crate) const LETTERS: [Glyph; 26] = [
    [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
    [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
    [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
    [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
    [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
    [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
    [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
    [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
    [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
    [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
    [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
    [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
    [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
    [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
    [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
    [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
    [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
    [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
    [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
    [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
    [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
];

/// The punctuation of URLs and names: `.`, `/`, `-`, `_`, `@`, `?`, `=`,
/// `&`, `%`, `[`, `]`, `!`, `,`, `+`, `(`, `)`, `#`, `~`, `*`, `'`.
pub(crate) const PUNCTUATION: [(u8, Glyph); 20] = [
    (b'.', [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C]),
    (b'/', [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00]),
    (b'-', [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00]),
    (b'_', [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F]),
    (b'@', [0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E]),
    (b'?', [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04]),
    (b'=', [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00]),
    (b'&', [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D]),
    (b'%', [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03]),
    (b'[', [0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E]),
    (b']', [0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E]),
    (b'!', [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04]),
    (b',', [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08]),
    (b'+', [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00]),
    (b'(', [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02]),
    (b')', [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08]),
    (b'#', [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A]),
    (b'~', [0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00]),
    (b'*', [0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00]),
    (b'\'', [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00]),
];

/// The glyph of an ASCII character: digits, `:`, letters (either case)
/// and [`PUNCTUATION`]; anything else is blank.
pub(crate) fn glyph(ch: u8) -> &'static Glyph {
    match ch {
        b'0'..=b'9' => &DIGITS[usize::from(ch - b'0')],
        b':' => &COLON,
        b'A'..=b'Z' => &LETTERS[usize::from(ch - b'A')],
        b'a'..=b'z' => &LETTERS[usize::from(ch - b'a')],
        _ => PUNCTUATION
            .iter()
            .find(|(c, _)| *c == ch)
            .map_or(&BLANK, |(_, g)| g),
    }
}

/// Whether the font pixel at `col`, `row` of `glyph` is lit.
pub(crate) fn lit(glyph: &Glyph, col: usize, row: usize) -> bool {
    glyph[row] >> (GLYPH_W - 1 - col) & 1 == 1
}

/// Characters in the timecode line, `HH:MM:SS:FF`.
pub(crate) const TIMECODE_CHARS: usize = 11;
/// Digits in the frame counter line; it wraps at 10^10 frames (5 years at
/// 60 fps).
pub(crate) const COUNTER_DIGITS: usize = 10;

/// A non-drop-frame SMPTE timecode at a whole frame rate, counted from the
/// first frame and wrapping at 24 hours.
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
    /// (1–60; anything else is treated as the nearest bound).
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

    /// `HH:MM:SS:FF` as ASCII, without allocating.
    pub(crate) fn ascii(&self) -> [u8; TIMECODE_CHARS] {
        let mut out = [b':'; TIMECODE_CHARS];
        for (i, v) in [self.hours, self.minutes, self.seconds, self.frames]
            .into_iter()
            .enumerate()
        {
            out[i * 3] = b'0' + v / 10;
            out[i * 3 + 1] = b'0' + v % 10;
        }
        out
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

/// Frame `index` as ten zero-padded decimal digits (modulo 10^10).
pub(crate) fn counter_ascii(index: u64) -> [u8; COUNTER_DIGITS] {
    let mut out = [b'0'; COUNTER_DIGITS];
    let mut rest = index;
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(index: u64, rate: u32) -> String {
        Timecode::from_frame(index, rate).to_string()
    }

    #[test]
    fn glyphs_are_distinct_and_fit_five_columns() {
        let mut all: Vec<&Glyph> = DIGITS.iter().chain(&LETTERS).collect();
        all.push(&COLON);
        all.extend(PUNCTUATION.iter().map(|(_, g)| g));
        for (i, a) in all.iter().enumerate() {
            assert!(a.iter().all(|row| *row < 1 << GLYPH_W));
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn timecode_rolls_over_at_30_fps() {
        assert_eq!(tc(0, 30), "00:00:00:00");
        assert_eq!(tc(29, 30), "00:00:00:29");
        assert_eq!(tc(30, 30), "00:00:01:00");
        assert_eq!(tc(30 * 60 - 1, 30), "00:00:59:29");
        assert_eq!(tc(30 * 60, 30), "00:01:00:00");
        assert_eq!(tc(30 * 3600 - 1, 30), "00:59:59:29");
        assert_eq!(tc(30 * 3600, 30), "01:00:00:00");
        assert_eq!(tc(30 * 86_400 - 1, 30), "23:59:59:29");
        assert_eq!(tc(30 * 86_400, 30), "00:00:00:00");
        assert_eq!(tc(30 * 86_400 + 31, 30), "00:00:01:01");
    }

    #[test]
    fn timecode_at_other_whole_rates() {
        assert_eq!(tc(24, 25), "00:00:00:24");
        assert_eq!(tc(25, 25), "00:00:01:00");
        assert_eq!(tc(59, 60), "00:00:00:59");
        assert_eq!(tc(60, 60), "00:00:01:00");
        assert_eq!(tc(3_599, 1), "00:59:59:00");
        assert_eq!(tc(29, 29), "00:00:01:00");
        assert_eq!(tc(28, 29), "00:00:00:28");
        assert_eq!(tc(u64::MAX, 60).len(), 11);
    }

    #[test]
    fn ascii_matches_display() {
        for (index, rate) in [(0, 30), (1_234_567, 30), (99, 50), (5_183_999, 60)] {
            let t = Timecode::from_frame(index, rate);
            assert_eq!(t.ascii(), t.to_string().as_bytes());
        }
    }

    #[test]
    fn counter_is_ten_digits_and_wraps() {
        assert_eq!(&counter_ascii(0), b"0000000000");
        assert_eq!(&counter_ascii(123), b"0000000123");
        assert_eq!(&counter_ascii(9_999_999_999), b"9999999999");
        assert_eq!(&counter_ascii(10_000_000_007), b"0000000007");
    }
}
