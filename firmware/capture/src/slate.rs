//! The slate: the still picture a network input shows while it has lost
//! its input, dark grey with lines of white text ("NO INPUT" and the
//! input's name), drawn once and copied into each frame.

use makara_media::VideoFormat;

use crate::draw::{PairLayout, Yuv, TEXT_FOREGROUND};
use crate::font::{glyph, lit, GLYPH_H, GLYPH_W};
use crate::CaptureError;

/// The slate's background: a dark grey, BT.709 limited range.
pub const SLATE_BACKGROUND: Yuv = Yuv {
    y: 48,
    u: 128,
    v: 128,
};

/// Font pixels from one character to the next.
const ADVANCE: usize = GLYPH_W + 1;
/// The text may use this share of the width, in tenths.
const TEXT_WIDTH_TENTHS: usize = 9;

/// A rendered slate picture, ready to copy into frames of its format.
#[derive(Debug, Clone)]
pub struct Slate {
    format: VideoFormat,
    image: Vec<u8>,
}

/// One line of text placed on the picture.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    text: &'a [u8],
    /// Picture pixels per font pixel.
    scale: usize,
    x: usize,
    y: usize,
}

impl Line<'_> {
    fn lit_at(&self, px: usize, py: usize) -> bool {
        if px < self.x || py < self.y {
            return false;
        }
        let (ux, uy) = ((px - self.x) / self.scale, (py - self.y) / self.scale);
        if uy >= GLYPH_H {
            return false;
        }
        let (ch, col) = (ux / ADVANCE, ux % ADVANCE);
        col < GLYPH_W && self.text.get(ch).is_some_and(|&c| lit(glyph(c), col, uy))
    }
}

impl Slate {
    /// Draws `title` large in the middle of a `format` picture and
    /// `subtitle` below it, each scaled with the picture and cut to fit its
    /// width (letters in either case are drawn as capitals; characters the
    /// font lacks, as blanks).
    pub fn new(format: VideoFormat, title: &str, subtitle: &str) -> Slate {
        let (width, height) = (format.width as usize, format.height as usize);
        let title_scale = (height / 60).max(1);
        let title = fit(title.as_bytes(), title_scale, width);
        let sub = fit(subtitle.as_bytes(), (title_scale / 2).max(1), width);
        let title_y = (height * 2 / 5).saturating_sub(GLYPH_H * title.1 / 2);
        let sub_y = height * 3 / 5;
        let lines = [centred(title, width, title_y), centred(sub, width, sub_y)];
        let mut image = vec![0; format.frame_len()];
        draw(&format, &lines, &mut image);
        Slate { format, image }
    }

    /// The format the slate was drawn for.
    pub fn format(&self) -> VideoFormat {
        self.format
    }

    /// The whole picture, planes laid out as [`VideoFormat::planes`] says.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// Copies the picture into `out`, which must hold exactly one frame.
    pub fn render(&self, out: &mut [u8]) -> Result<(), CaptureError> {
        if out.len() != self.image.len() {
            return Err(CaptureError::FrameBuffer {
                expected: self.image.len(),
                got: out.len(),
                width: self.format.width,
                height: self.format.height,
            });
        }
        out.copy_from_slice(&self.image);
        Ok(())
    }
}

/// A line of `text` at `scale`, centred across `width`, its top at `y`.
fn centred((text, scale): (&[u8], usize), width: usize, y: usize) -> Line<'_> {
    let w = (text.len() * ADVANCE).saturating_sub(1) * scale;
    Line {
        text,
        scale,
        x: width.saturating_sub(w) / 2,
        y,
    }
}

/// `text` at `scale`, scaled down (to 1) and then cut until it fits in
/// [`TEXT_WIDTH_TENTHS`] of `width`.
fn fit(text: &[u8], scale: usize, width: usize) -> (&[u8], usize) {
    let room = width * TEXT_WIDTH_TENTHS / 10;
    let chars_at = |s: usize| (room / s + 1) / ADVANCE;
    let mut scale = scale.max(1);
    while scale > 1 && chars_at(scale) < text.len() {
        scale -= 1;
    }
    (&text[..text.len().min(chars_at(scale))], scale)
}

/// Fills `out` with the background and `lines` of text, pixel pair by
/// pixel pair, in any layout the pipeline takes.
fn draw(format: &VideoFormat, lines: &[Line<'_>], out: &mut [u8]) {
    let width = format.width as usize;
    let mut luma = vec![0u8; width];
    let layouts = PairLayout::of(format.pixel_format);
    let planes = format.planes();
    for y in 0..format.height as usize {
        for (x, px) in luma.iter_mut().enumerate() {
            let on = lines.iter().any(|l| l.lit_at(x, y));
            *px = if on {
                TEXT_FOREGROUND.y
            } else {
                SLATE_BACKGROUND.y
            };
        }
        for (layout, plane) in layouts.iter().zip(&planes) {
            if y % layout.rows() != 0 {
                continue;
            }
            let bytes = layout.bytes();
            let row = &mut out[plane.offset + y / layout.rows() * plane.stride..][..plane.stride];
            for (dst, pair) in row.chunks_exact_mut(bytes).zip(luma.chunks_exact(2)) {
                layout.write(dst, pair[0], pair[1], SLATE_BACKGROUND);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use makara_media::PixelFormat;

    use super::*;

    fn i420(width: u32, height: u32) -> VideoFormat {
        VideoFormat::new(width, height, PixelFormat::I420, 25, 1).unwrap()
    }

    #[test]
    fn background_is_dark_grey_with_white_text() {
        let format = i420(640, 360);
        let slate = Slate::new(format, "NO INPUT", "udp://127.0.0.1:5000");
        let image = slate.image();
        let luma = &image[..640 * 360];
        let text = luma.iter().filter(|&&y| y == TEXT_FOREGROUND.y).count();
        let grey = luma.iter().filter(|&&y| y == SLATE_BACKGROUND.y).count();
        assert_eq!(text + grey, luma.len());
        // Some text, far less than the background.
        assert!(text > 1_000 && text < luma.len() / 10, "{text} text pixels");
        assert!(image[640 * 360..].iter().all(|&c| c == 128));
        // The corners are background.
        assert_eq!(luma[0], SLATE_BACKGROUND.y);
        assert_eq!(luma[640 * 360 - 1], SLATE_BACKGROUND.y);
    }

    #[test]
    fn lines_are_centred_and_the_title_is_larger() {
        let format = i420(1280, 720);
        let slate = Slate::new(format, "NO INPUT", "x");
        let luma = &slate.image()[..1280 * 720];
        let lit_rows: Vec<usize> = (0..720)
            .filter(|&y| luma[y * 1280..][..1280].contains(&TEXT_FOREGROUND.y))
            .collect();
        // "NO INPUT" at scale 12 is 7 * 12 rows tall; "x" at scale 6, 7 * 6.
        assert_eq!(lit_rows.len(), 7 * 12 + 7 * 6, "{lit_rows:?}");
        let cols: Vec<usize> = (0..1280)
            .filter(|&x| (0..720).any(|y| luma[y * 1280 + x] == TEXT_FOREGROUND.y))
            .collect();
        let (first, last) = (cols[0], cols[cols.len() - 1]);
        assert!((first + last).abs_diff(1280) <= 12, "{first}..{last}");
    }

    #[test]
    fn long_labels_are_cut_to_the_width_and_small_pictures_work() {
        let long = "srt://a-very-long-host-name.example:9000?streamid=".repeat(10);
        for (w, h) in [(16, 16), (64, 36), (1920, 1080)] {
            let slate = Slate::new(i420(w, h), "NO INPUT", &long);
            assert_eq!(slate.image().len(), i420(w, h).frame_len());
        }
        let (text, scale) = fit(long.as_bytes(), 9, 1920);
        assert_eq!(scale, 1);
        assert_eq!(text.len(), (1920 * 9 / 10 + 1) / ADVANCE);
    }

    #[test]
    fn every_layout_is_drawn_and_render_checks_the_buffer() {
        for pixel_format in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Yuyv,
            PixelFormat::Uyvy,
        ] {
            let format = VideoFormat::new(320, 180, pixel_format, 30, 1).unwrap();
            let slate = Slate::new(format, "NO INPUT", "rtsp://cam/live");
            let mut out = vec![0; format.frame_len()];
            slate.render(&mut out).unwrap();
            assert_eq!(out, slate.image());
            assert!(out.contains(&TEXT_FOREGROUND.y));
            let mut short = vec![0; 10];
            assert!(slate.render(&mut short).is_err());
        }
    }
}
