//! Thumbnails: a small JPEG of the picture a stream's encoder last took.
//!
//! The encode thread keeps a reference to the frame it last took
//! ([`LatestPicture`]): no copy, and no slot beyond the one the ring
//! already budgets for the frame in the encoder's hand. A thumbnail clones
//! that reference (a lock held for a pointer copy), shrinks the picture on
//! the caller's thread to RGB of the thumbnail's size (one pass over the
//! source, box-averaged, so fine detail does not alias), lets the frame go,
//! and only then encodes the JPEG. The media path never waits for any of
//! it; the frame is held from the pool for the shrink only.
//!
//! The colours are read as the stream's video says they are: limited range,
//! BT.709 from 720 lines up and BT.601 below (as the encoder signals them).
//! The JPEG is baseline JFIF, 4:2:0, from `jpeg-encoder` (pure Rust; the
//! image's FFmpeg has no MJPEG encoder).

use std::sync::{Mutex, PoisonError};

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};
use makara_engine::Thumbnail;
use makara_framering::Frame;
use makara_media::{PixelFormat, VideoFormat};

/// JPEG quality: small files that still show what the picture is.
const QUALITY: u8 = 80;
/// Pictures this many lines high and more are BT.709, as the encoder
/// signals them; smaller ones BT.601.
const HD_LINES: u32 = 720;

/// The frame the encoder last took, while a run lasts.
#[derive(Debug, Default)]
pub struct LatestPicture {
    frame: Mutex<Option<Frame>>,
}

impl LatestPicture {
    /// Keeps `frame` in place of the one before, which is released
    /// outside the lock.
    pub fn set(&self, frame: Frame) {
        let previous = self.lock().replace(frame);
        drop(previous);
    }

    /// Lets the frame go (the end of a run: a device's buffers must all be
    /// back before it can be opened again).
    pub fn clear(&self) {
        let previous = self.lock().take();
        drop(previous);
    }

    pub fn get(&self) -> Option<Frame> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Frame>> {
        self.frame.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("a thumbnail must be at least 1 pixel wide")]
    ZeroWidth,
    #[error("the JPEG encoder refused the picture: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
}

/// A JPEG of `frame`, at most `max_width` wide, never wider than the
/// picture, its aspect kept.
pub fn thumbnail(frame: Frame, max_width: u32) -> Result<Thumbnail, ThumbnailError> {
    let format = frame.format();
    let (width, height) = thumbnail_size(format.width, format.height, max_width)?;
    let rgb = shrink_to_rgb(&frame, &format, width, height);
    drop(frame);
    let mut jpeg = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = Encoder::new(&mut jpeg, QUALITY);
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    // Sizes are at most the source's, and sources at most 8192 wide.
    encoder.encode(&rgb, width as u16, height as u16, ColorType::Rgb)?;
    Ok(Thumbnail {
        jpeg,
        width,
        height,
    })
}

/// The thumbnail's size: `max_width` wide or the picture's width if that
/// is less, the height in proportion (rounded, at least 1).
fn thumbnail_size(width: u32, height: u32, max_width: u32) -> Result<(u32, u32), ThumbnailError> {
    if max_width == 0 {
        return Err(ThumbnailError::ZeroWidth);
    }
    let w = width.min(max_width);
    let h = (u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width);
    Ok((w, (h as u32).max(1)))
}

/// `src` (a frame of `format`) as packed RGB of `width` x `height`.
pub fn shrink_to_rgb(src: &[u8], format: &VideoFormat, width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let [y, u, v] = components(format).map(|c| c.shrink(src, w, h));
    let matrix = match format.height >= HD_LINES {
        true => Matrix::BT709,
        false => Matrix::BT601,
    };
    let mut rgb = Vec::with_capacity(w * h * 3);
    for ((y, u), v) in y.iter().zip(&u).zip(&v) {
        rgb.extend_from_slice(&matrix.rgb(*y, *u, *v));
    }
    rgb
}

/// Where one of Y, Cb, Cr lies in a frame: its own size, and where its
/// samples are (`offset + row * stride + column * step`).
#[derive(Debug, Clone, Copy)]
struct Component {
    offset: usize,
    stride: usize,
    step: usize,
    width: usize,
    height: usize,
}

/// Y, Cb and Cr of a tightly packed frame of `format`.
fn components(format: &VideoFormat) -> [Component; 3] {
    let (w, h) = (format.width as usize, format.height as usize);
    let planes = format.planes();
    let at = |offset, stride, step, width, height| Component {
        offset,
        stride,
        step,
        width,
        height,
    };
    let luma = at(0, w, 1, w, h);
    match format.pixel_format {
        PixelFormat::I420 => [
            luma,
            at(planes[1].offset, w / 2, 1, w / 2, h / 2),
            at(planes[2].offset, w / 2, 1, w / 2, h / 2),
        ],
        PixelFormat::Nv12 => [
            luma,
            at(planes[1].offset, w, 2, w / 2, h / 2),
            at(planes[1].offset + 1, w, 2, w / 2, h / 2),
        ],
        PixelFormat::Yuyv => [
            at(0, 2 * w, 2, w, h),
            at(1, 2 * w, 4, w / 2, h),
            at(3, 2 * w, 4, w / 2, h),
        ],
        PixelFormat::Uyvy => [
            at(1, 2 * w, 2, w, h),
            at(0, 2 * w, 4, w / 2, h),
            at(2, 2 * w, 4, w / 2, h),
        ],
    }
}

impl Component {
    /// This component at `w` x `h`: each output sample the mean of the
    /// source samples its area covers (at least one), so a shrink reads
    /// every source sample once and an enlargement repeats samples.
    fn shrink(&self, src: &[u8], w: usize, h: usize) -> Vec<u8> {
        let columns = spans(self.width, w);
        let mut sums = vec![0u32; self.width];
        let mut out = Vec::with_capacity(w * h);
        for (top, bottom) in spans(self.height, h) {
            sums.fill(0);
            for row in top..bottom {
                let line = &src[self.offset + row * self.stride..];
                for (sum, sample) in sums.iter_mut().zip(line.iter().step_by(self.step)) {
                    *sum += u32::from(*sample);
                }
            }
            let rows = (bottom - top) as u32;
            for &(left, right) in &columns {
                let total: u32 = sums[left..right].iter().sum();
                let count = rows * (right - left) as u32;
                out.push(((total + count / 2) / count) as u8);
            }
        }
        out
    }
}

/// The source range `[start, end)` each of `out` outputs covers along a
/// line of `len` samples; never empty.
fn spans(len: usize, out: usize) -> Vec<(usize, usize)> {
    (0..out)
        .map(|i| {
            let start = (i * len / out).min(len - 1);
            let end = ((i + 1) * len / out).clamp(start + 1, len);
            (start, end)
        })
        .collect()
}

/// Limited-range Y'CbCr to full-range R'G'B', in 16.16 fixed point.
#[derive(Debug, Clone, Copy)]
struct Matrix {
    /// Cr to R, Cb to G, Cr to G, Cb to B, each scaled for the 224-step
    /// chroma range.
    cr_r: i32,
    cb_g: i32,
    cr_g: i32,
    cb_b: i32,
}

/// 255 / 219: the luma range to full range.
const Y_SCALE: i32 = 76_309;

impl Matrix {
    /// Kr = 0.2126, Kb = 0.0722.
    const BT709: Matrix = Matrix::new(0.2126, 0.0722);
    /// Kr = 0.299, Kb = 0.114.
    const BT601: Matrix = Matrix::new(0.299, 0.114);

    const fn new(kr: f64, kb: f64) -> Matrix {
        let kg = 1.0 - kr - kb;
        let chroma = 255.0 / 224.0 * 65_536.0;
        Matrix {
            cr_r: (2.0 * (1.0 - kr) * chroma) as i32,
            cb_g: (2.0 * (1.0 - kb) * kb / kg * chroma) as i32,
            cr_g: (2.0 * (1.0 - kr) * kr / kg * chroma) as i32,
            cb_b: (2.0 * (1.0 - kb) * chroma) as i32,
        }
    }

    fn rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let y = (i32::from(y) - 16) * Y_SCALE + 32_768;
        let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
        let clamp = |v: i32| (v >> 16).clamp(0, 255) as u8;
        [
            clamp(y + self.cr_r * cr),
            clamp(y - self.cb_g * cb - self.cr_g * cr),
            clamp(y + self.cb_b * cb),
        ]
    }
}

#[cfg(test)]
mod tests {
    use makara_capture::{Yuv, BARS_75};

    use super::*;

    fn format(w: u32, h: u32, p: PixelFormat) -> VideoFormat {
        VideoFormat::new(w, h, p, 30, 1).unwrap()
    }

    /// A frame of `f` whose left half is `left` and right half `right`.
    fn halves(f: &VideoFormat, left: Yuv, right: Yuv) -> Vec<u8> {
        let (w, h) = (f.width as usize, f.height as usize);
        let colour = |x: usize| if x < w / 2 { left } else { right };
        let mut buf = vec![0u8; f.frame_len()];
        let [y, u, v] = components(f);
        for row in 0..h {
            for x in 0..w {
                buf[y.offset + row * y.stride + x * y.step] = colour(x).y;
            }
        }
        for (c, pick) in [(u, 0), (v, 1)] {
            for row in 0..c.height {
                for x in 0..c.width {
                    let yuv = colour(x * w / c.width);
                    buf[c.offset + row * c.stride + x * c.step] = [yuv.u, yuv.v][pick];
                }
            }
        }
        buf
    }

    fn near(got: [u8; 3], want: [u8; 3]) -> bool {
        got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 2)
    }

    /// 75% white and blue bars, in every layout, at HD and SD sizes and
    /// shrunk or not, come out as 75% RGB white and blue.
    #[test]
    fn every_pixel_format_converts_to_the_right_colours() {
        let (white, blue) = (BARS_75[0], BARS_75[6]);
        for p in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Yuyv,
            PixelFormat::Uyvy,
        ] {
            for (w, h, tw, th) in [
                (1280, 720, 320, 180),
                (1280, 720, 1280, 720),
                (64, 36, 16, 9),
            ] {
                let f = format(w, h, p);
                // Blue's chroma says 709 at HD sizes; at SD the bars drawn in
                // 709 read slightly off in 601, so SD gets 601 bars.
                let blue = if h >= HD_LINES { blue } else { bt601_blue() };
                let rgb = shrink_to_rgb(&halves(&f, white, blue), &f, tw, th);
                assert_eq!(rgb.len(), (tw * th * 3) as usize);
                let px = |x: u32, y: u32| {
                    let i = ((y * tw + x) * 3) as usize;
                    [rgb[i], rgb[i + 1], rgb[i + 2]]
                };
                for y in [0, th / 2, th - 1] {
                    assert!(
                        near(px(0, y), [191, 191, 191]),
                        "{p:?} {w}x{h}: {:?}",
                        px(0, y)
                    );
                    assert!(
                        near(px(tw / 2 - 1, y), [191, 191, 191]),
                        "{p:?} {w}x{h}: {:?}",
                        px(tw / 2 - 1, y)
                    );
                    assert!(
                        near(px(tw / 2, y), [0, 0, 191]),
                        "{p:?} {w}x{h}: {:?}",
                        px(tw / 2, y)
                    );
                    assert!(
                        near(px(tw - 1, y), [0, 0, 191]),
                        "{p:?} {w}x{h}: {:?}",
                        px(tw - 1, y)
                    );
                }
            }
        }
    }

    /// 75% blue in BT.601 limited range.
    fn bt601_blue() -> Yuv {
        let (kr, kb) = (0.299, 0.114);
        let b = 0.75;
        let y = kb * b;
        let q = |v: f64| v.round() as u8;
        Yuv {
            y: q(16.0 + 219.0 * y),
            u: q(128.0 + 224.0 * (b - y) / (2.0 * (1.0 - kb))),
            v: q(128.0 + 224.0 * (-y) / (2.0 * (1.0 - kr))),
        }
    }

    #[test]
    fn black_and_white_reach_the_ends_of_the_range() {
        for m in [Matrix::BT709, Matrix::BT601] {
            assert_eq!(m.rgb(16, 128, 128), [0, 0, 0]);
            assert_eq!(m.rgb(235, 128, 128), [255, 255, 255]);
            // Out of range clamps, never wraps round.
            assert_eq!(m.rgb(255, 128, 255)[0], 255);
            assert_eq!(m.rgb(0, 128, 128), [0, 0, 0]);
        }
    }

    #[test]
    fn a_shrink_averages_what_each_pixel_covers() {
        let f = format(4, 2, PixelFormat::I420);
        // Luma 0, 100, 200, 255 in both rows; flat grey chroma.
        let mut src = vec![128u8; f.frame_len()];
        src[..8].copy_from_slice(&[0, 100, 200, 255, 0, 100, 200, 255]);
        let [y, _, _] = components(&f);
        assert_eq!(y.shrink(&src, 2, 1), vec![50, 228]);
        assert_eq!(y.shrink(&src, 4, 2), src[..8].to_vec());
        assert_eq!(
            y.shrink(&src, 8, 1),
            vec![0, 0, 100, 100, 200, 200, 255, 255]
        );
    }

    /// A 1080p frame of each layout to a 640-wide JPEG that decodes at
    /// that size; prints the time each took (`--release --nocapture` for
    /// the figure that matters; nothing here is timed against a bound).
    #[test]
    fn a_1080p_frame_of_every_layout_makes_a_640_wide_jpeg() {
        for p in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Yuyv,
            PixelFormat::Uyvy,
        ] {
            let f = format(1920, 1080, p);
            let pool = makara_framering::FramePool::new(f, 1);
            let mut slot = pool.try_acquire().unwrap();
            slot.data_mut()
                .copy_from_slice(&halves(&f, BARS_75[0], BARS_75[6]));
            let frame = slot.freeze(makara_media::MonotonicNs(0), 0);
            let started = std::time::Instant::now();
            let t = thumbnail(frame, 640).unwrap();
            let took = started.elapsed();
            println!(
                "{p:?} 1920x1080 to 640x360: {took:?}, {} bytes",
                t.jpeg.len()
            );
            assert_eq!((t.width, t.height), (640, 360));
            let mut decoder = jpeg_decoder::Decoder::new(&t.jpeg[..]);
            let rgb = decoder.decode().unwrap();
            assert_eq!(rgb.len(), 640 * 360 * 3);
            assert!(
                near([rgb[0], rgb[1], rgb[2]], [191, 191, 191]),
                "{:?}",
                &rgb[..3]
            );
            // The frame went back to the pool with the thumbnail made.
            let mut slot = pool.try_acquire().unwrap();
            // Noise: the worst case for the JPEG's entropy coding.
            let mut state = 0x2545_f491_4f6c_dd1d_u64;
            for byte in slot.data_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = (state >> 32) as u8;
            }
            let frame = slot.freeze(makara_media::MonotonicNs(1), 1);
            let started = std::time::Instant::now();
            let t = thumbnail(frame, 640).unwrap();
            let took = started.elapsed();
            println!(
                "{p:?} 1920x1080 noise to 640x360: {took:?}, {} bytes",
                t.jpeg.len()
            );
            assert_eq!((t.width, t.height), (640, 360));
        }
    }

    #[test]
    fn sizes_keep_the_aspect_and_never_grow() {
        assert_eq!(thumbnail_size(1280, 720, 320).unwrap(), (320, 180));
        assert_eq!(thumbnail_size(1920, 1080, 640).unwrap(), (640, 360));
        assert_eq!(thumbnail_size(320, 180, 640).unwrap(), (320, 180));
        assert_eq!(thumbnail_size(720, 576, 100).unwrap(), (100, 80));
        assert_eq!(thumbnail_size(8192, 2, 1).unwrap(), (1, 1));
        assert!(matches!(
            thumbnail_size(1280, 720, 0),
            Err(ThumbnailError::ZeroWidth)
        ));
    }
}
