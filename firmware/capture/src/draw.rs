//! Drawing the pattern into a frame buffer of any supported layout: the
//! moving bars as prebuilt row templates (one `copy_from_slice` per row),
//! the text box pixel pair by pixel pair.

use makara_media::{PixelFormat, Plane, VideoFormat};

use crate::font::{glyph, lit, GLYPH_H, GLYPH_W, TIMECODE_CHARS};

/// A BT.709 limited-range ("studio swing") colour: Y in 16–235, Cb (`u`)
/// and Cr (`v`) in 16–240 around 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Yuv {
    /// Luma, Y'.
    pub y: u8,
    /// Blue-difference chroma, Cb.
    pub u: u8,
    /// Red-difference chroma, Cr.
    pub v: u8,
}

/// The seven 75% colour bars, left to right, in BT.709 limited range
/// (R'G'B' of 0.75 or 0, through Kr = 0.2126, Kb = 0.0722, rounded):
///
/// | bar     |   Y |  Cb |  Cr |
/// |---------|----:|----:|----:|
/// | white   | 180 | 128 | 128 |
/// | yellow  | 168 |  44 | 136 |
/// | cyan    | 145 | 147 |  44 |
/// | green   | 133 |  63 |  52 |
/// | magenta |  63 | 193 | 204 |
/// | red     |  51 | 109 | 212 |
/// | blue    |  28 | 212 | 120 |
///
/// Bar `k` covers the pixel pairs `p` (pixels `2p`, `2p + 1`) with
/// `2p * 7 / width == k`, before the motion shift.
pub const BARS_75: [Yuv; 7] = [
    Yuv {
        y: 180,
        u: 128,
        v: 128,
    },
    Yuv {
        y: 168,
        u: 44,
        v: 136,
    },
    Yuv {
        y: 145,
        u: 147,
        v: 44,
    },
    Yuv {
        y: 133,
        u: 63,
        v: 52,
    },
    Yuv {
        y: 63,
        u: 193,
        v: 204,
    },
    Yuv {
        y: 51,
        u: 109,
        v: 212,
    },
    Yuv {
        y: 28,
        u: 212,
        v: 120,
    },
];

/// The digits: 100% white.
pub const TEXT_FOREGROUND: Yuv = Yuv {
    y: 235,
    u: 128,
    v: 128,
};
/// The box behind the digits: black.
pub const TEXT_BACKGROUND: Yuv = Yuv {
    y: 16,
    u: 128,
    v: 128,
};

/// How far the bars slide right each frame, in pixels (even, so chroma
/// pairs stay whole). Frame `i` shows the bars shifted by
/// `i * MOTION_PX_PER_FRAME % width`.
pub const MOTION_PX_PER_FRAME: u32 = 4;

/// Text box layout in font pixels: padding, character advance, the top
/// row of each line, and the whole box.
pub(crate) const BOX_PAD: usize = 2;
pub(crate) const CHAR_ADVANCE: usize = GLYPH_W + 1;
pub(crate) const LINE_TOPS: [usize; 2] = [BOX_PAD, BOX_PAD + GLYPH_H + 3];
const BOX_UNITS_W: usize = 2 * BOX_PAD + TIMECODE_CHARS * CHAR_ADVANCE - 1;
const BOX_UNITS_H: usize = LINE_TOPS[1] + GLYPH_H + BOX_PAD;

/// Where the text box lies in the picture (wholly inside it), and how many
/// picture pixels one font pixel takes. Origin and size are even.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextBox {
    pub(crate) x: usize,
    pub(crate) y: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) scale: usize,
}

impl TextBox {
    /// Centred, scaled with the picture (4 at 720p, 6 at 1080p, 13 at
    /// 2160p). `None` if the picture is too small to hold it (below 70×22):
    /// such pictures show the moving bars only.
    pub(crate) fn new(width: usize, height: usize) -> Option<TextBox> {
        let scale = (height / 160).min(width / 140).max(1);
        let even = |v: usize| (v + 1) & !1;
        let (bw, bh) = (even(BOX_UNITS_W * scale), even(BOX_UNITS_H * scale));
        (bw <= width && bh <= height).then(|| TextBox {
            x: ((width - bw) / 2) & !1,
            y: ((height - bh) / 2) & !1,
            width: bw,
            height: bh,
            scale,
        })
    }

    /// Whether `text` lights box-relative picture column `lx` in glyph row
    /// `row` (0–6) of its line.
    fn lit_at(&self, text: &[u8], row: usize, lx: usize) -> bool {
        let ux = lx / self.scale;
        if ux < BOX_PAD {
            return false;
        }
        let (ch, col) = ((ux - BOX_PAD) / CHAR_ADVANCE, (ux - BOX_PAD) % CHAR_ADVANCE);
        col < GLYPH_W && text.get(ch).is_some_and(|&c| lit(glyph(c), col, row))
    }
}

/// How one plane stores a horizontal pair of pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PairLayout {
    Luma,
    Cb,
    Cr,
    CbCr,
    Yuyv,
    Uyvy,
}

impl PairLayout {
    /// The layouts of a format's planes, in `VideoFormat::planes` order.
    pub(crate) fn of(format: PixelFormat) -> &'static [PairLayout] {
        match format {
            PixelFormat::I420 => &[PairLayout::Luma, PairLayout::Cb, PairLayout::Cr],
            PixelFormat::Nv12 => &[PairLayout::Luma, PairLayout::CbCr],
            PixelFormat::Yuyv => &[PairLayout::Yuyv],
            PixelFormat::Uyvy => &[PairLayout::Uyvy],
        }
    }

    pub(crate) fn bytes(self) -> usize {
        match self {
            PairLayout::Cb | PairLayout::Cr => 1,
            PairLayout::Luma | PairLayout::CbCr => 2,
            PairLayout::Yuyv | PairLayout::Uyvy => 4,
        }
    }

    /// Picture rows per plane row: 2 for 4:2:0 chroma.
    pub(crate) fn rows(self) -> usize {
        match self {
            PairLayout::Cb | PairLayout::Cr | PairLayout::CbCr => 2,
            _ => 1,
        }
    }

    /// Writes two pixels of luma `y0`, `y1` sharing the chroma of `c`.
    pub(crate) fn write(self, dst: &mut [u8], y0: u8, y1: u8, c: Yuv) {
        match self {
            PairLayout::Luma => dst.copy_from_slice(&[y0, y1]),
            PairLayout::Cb => dst[0] = c.u,
            PairLayout::Cr => dst[0] = c.v,
            PairLayout::CbCr => dst.copy_from_slice(&[c.u, c.v]),
            PairLayout::Yuyv => dst.copy_from_slice(&[y0, c.u, y1, c.v]),
            PairLayout::Uyvy => dst.copy_from_slice(&[c.u, y0, c.v, y1]),
        }
    }
}

#[derive(Debug)]
struct PlaneDraw {
    layout: PairLayout,
    plane: Plane,
    /// One unshifted bar row of this plane, twice over, so a row shifted
    /// by any amount is one contiguous slice of it.
    bars: Vec<u8>,
}

/// Everything a frame needs that does not change between frames.
#[derive(Debug)]
pub(crate) struct Canvas {
    planes: Vec<PlaneDraw>,
    text: Option<TextBox>,
    /// Scratch: one text box row of luma.
    luma: Vec<u8>,
}

impl Canvas {
    pub(crate) fn new(format: &VideoFormat) -> Canvas {
        let (width, height) = (format.width as usize, format.height as usize);
        let planes = PairLayout::of(format.pixel_format)
            .iter()
            .zip(format.planes())
            .map(|(&layout, plane)| PlaneDraw {
                layout,
                plane,
                bars: bar_row(layout, width),
            })
            .collect();
        let text = TextBox::new(width, height);
        Canvas {
            planes,
            text,
            luma: vec![0; text.map_or(0, |t| t.width)],
        }
    }

    /// Fills `out` (exactly one frame) with the bars slid right by `shift`
    /// pixels (even, below the width), then draws the two text lines.
    pub(crate) fn draw(&mut self, shift: usize, lines: [&[u8]; 2], out: &mut [u8]) {
        for p in &self.planes {
            let row_len = p.plane.stride;
            let skip = shift / 2 * p.layout.bytes();
            let src = &p.bars[row_len - skip..][..row_len];
            for row in out[p.plane.offset..][..p.plane.len()].chunks_exact_mut(row_len) {
                row.copy_from_slice(src);
            }
        }
        self.draw_text(lines, out);
    }

    fn draw_text(&mut self, lines: [&[u8]; 2], out: &mut [u8]) {
        let Some(t) = self.text else { return };
        let luma = &mut self.luma[..];
        let mut drawn_unit_row = None;
        for y in t.y..t.y + t.height {
            let unit_row = (y - t.y) / t.scale;
            if drawn_unit_row != Some(unit_row) {
                drawn_unit_row = Some(unit_row);
                let line = LINE_TOPS
                    .iter()
                    .position(|&top| (top..top + GLYPH_H).contains(&unit_row));
                for (lx, px) in luma.iter_mut().enumerate() {
                    let on = line.is_some_and(|l| t.lit_at(lines[l], unit_row - LINE_TOPS[l], lx));
                    *px = if on {
                        TEXT_FOREGROUND.y
                    } else {
                        TEXT_BACKGROUND.y
                    };
                }
            }
            for p in &self.planes {
                let rows = p.layout.rows();
                if y % rows != 0 {
                    continue;
                }
                let bytes = p.layout.bytes();
                let start = p.plane.offset + y / rows * p.plane.stride + t.x / 2 * bytes;
                let dst = &mut out[start..][..luma.len() / 2 * bytes];
                for (d, pair) in dst.chunks_exact_mut(bytes).zip(luma.chunks_exact(2)) {
                    p.layout.write(d, pair[0], pair[1], TEXT_BACKGROUND);
                }
            }
        }
    }
}

/// One plane row of unshifted bars, twice over.
fn bar_row(layout: PairLayout, width: usize) -> Vec<u8> {
    let bytes = layout.bytes();
    let mut row = vec![0; width / 2 * bytes];
    for (p, dst) in row.chunks_exact_mut(bytes).enumerate() {
        let c = BARS_75[2 * p * BARS_75.len() / width];
        layout.write(dst, c.y, c.y, c);
    }
    row.extend_from_within(..);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented table follows from the BT.709 equations.
    #[test]
    fn bars_are_bt709_limited_range_75_percent() {
        let rgb = [
            (1, 1, 1),
            (1, 1, 0),
            (0, 1, 1),
            (0, 1, 0),
            (1, 0, 1),
            (1, 0, 0),
            (0, 0, 1),
        ];
        let (kr, kb) = (0.2126, 0.0722);
        for ((r, g, b), bar) in rgb.into_iter().zip(BARS_75) {
            let [r, g, b] = [r, g, b].map(|v| 0.75 * f64::from(v));
            let y = kr * r + (1.0 - kr - kb) * g + kb * b;
            let cb = (b - y) / (2.0 * (1.0 - kb));
            let cr = (r - y) / (2.0 * (1.0 - kr));
            let q = |v: f64| v.round() as u8;
            let expected = Yuv {
                y: q(16.0 + 219.0 * y),
                u: q(128.0 + 224.0 * cb),
                v: q(128.0 + 224.0 * cr),
            };
            assert_eq!(bar, expected);
        }
    }

    #[test]
    fn text_box_scales_with_the_picture_and_stays_even() {
        let sizes = [
            (1280, 720, 4),
            (1920, 1080, 6),
            (3840, 2160, 13),
            (70, 22, 1),
            (16, 2160, 1),
        ];
        for (w, h, scale) in sizes {
            let Some(t) = TextBox::new(w, h) else {
                assert!(w < 70 || h < 22, "{w}x{h}");
                continue;
            };
            assert_eq!(t.scale, scale, "{w}x{h}");
            assert_eq!([t.x % 2, t.y % 2, t.width % 2, t.height % 2], [0; 4]);
            assert!(t.x + t.width <= w && t.y + t.height <= h, "{w}x{h}");
        }
        assert_eq!(TextBox::new(68, 2160), None);
        assert_eq!(TextBox::new(3840, 20), None);
    }
}
