//! Converting and scaling pictures to I420 for the encoder: the one place
//! the video path copies pixels, counted by the caller.

use makara_media::{PixelFormat, VideoFormat};

/// Writes `src` (any supported layout, any size) into `dst` as I420 of
/// `dst_format`'s size, with bilinear filtering when sizes differ.
pub fn to_i420(src: &[u8], src_format: &VideoFormat, dst: &mut [u8], dst_format: &VideoFormat) {
    let (sw, sh) = (src_format.width as usize, src_format.height as usize);
    let (dw, dh) = (dst_format.width as usize, dst_format.height as usize);
    let (y_dst, chroma) = dst.split_at_mut(dw * dh);
    let (u_dst, v_dst) = chroma.split_at_mut(dw * dh / 4);
    let src_planes = src_format.planes();
    match src_format.pixel_format {
        PixelFormat::I420 => {
            let y = &src[src_planes[0].offset..][..src_planes[0].len()];
            let u = &src[src_planes[1].offset..][..src_planes[1].len()];
            let v = &src[src_planes[2].offset..][..src_planes[2].len()];
            resample(&Plane::new(y, sw, sh, 1, 0), y_dst, dw, dh);
            resample(&Plane::new(u, sw / 2, sh / 2, 1, 0), u_dst, dw / 2, dh / 2);
            resample(&Plane::new(v, sw / 2, sh / 2, 1, 0), v_dst, dw / 2, dh / 2);
        }
        PixelFormat::Nv12 => {
            let y = &src[..src_planes[0].len()];
            let uv = &src[src_planes[1].offset..][..src_planes[1].len()];
            resample(&Plane::new(y, sw, sh, 1, 0), y_dst, dw, dh);
            resample(
                &Plane::packed(uv, sw / 2, sh / 2, sw, 2, 0),
                u_dst,
                dw / 2,
                dh / 2,
            );
            resample(
                &Plane::packed(uv, sw / 2, sh / 2, sw, 2, 1),
                v_dst,
                dw / 2,
                dh / 2,
            );
        }
        PixelFormat::Yuyv | PixelFormat::Uyvy => {
            let (y_at, u_at, v_at) = match src_format.pixel_format {
                PixelFormat::Yuyv => (0, 1, 3),
                _ => (1, 0, 2),
            };
            let stride = sw * 2;
            resample(&Plane::packed(src, sw, sh, stride, 2, y_at), y_dst, dw, dh);
            // 4:2:2 to 4:2:0: the vertical halving is part of the resample.
            resample(
                &Plane::packed(src, sw / 2, sh, stride, 4, u_at),
                u_dst,
                dw / 2,
                dh / 2,
            );
            resample(
                &Plane::packed(src, sw / 2, sh, stride, 4, v_at),
                v_dst,
                dw / 2,
                dh / 2,
            );
        }
    }
}

/// One plane (or one component of a packed plane) of the source.
struct Plane<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
    stride: usize,
    step: usize,
    offset: usize,
}

impl<'a> Plane<'a> {
    fn new(data: &'a [u8], width: usize, height: usize, step: usize, offset: usize) -> Plane<'a> {
        Plane {
            data,
            width,
            height,
            stride: width * step,
            step,
            offset,
        }
    }

    fn packed(
        data: &'a [u8],
        width: usize,
        height: usize,
        stride: usize,
        step: usize,
        offset: usize,
    ) -> Plane<'a> {
        Plane {
            data,
            width,
            height,
            stride,
            step,
            offset,
        }
    }

    fn at(&self, x: usize, y: usize) -> u32 {
        u32::from(self.data[y * self.stride + x * self.step + self.offset])
    }
}

/// Bilinear resampling in 16.16 fixed point. Two common cases take a fast
/// path: equal size (a copy, or a de-interleave of a packed plane) and
/// equal width at half height (4:2:2 chroma to 4:2:0: average row pairs).
fn resample(src: &Plane, dst: &mut [u8], dw: usize, dh: usize) {
    if src.width == dw && src.height == dh {
        for (row, out) in dst.chunks_exact_mut(dw).enumerate().take(dh) {
            let line = &src.data[row * src.stride + src.offset..];
            if src.step == 1 {
                out.copy_from_slice(&line[..dw]);
            } else {
                for (px, value) in out.iter_mut().zip(line.iter().step_by(src.step)) {
                    *px = *value;
                }
            }
        }
        return;
    }
    if src.width == dw && src.height == dh * 2 {
        for (row, out) in dst.chunks_exact_mut(dw).enumerate().take(dh) {
            let top = &src.data[2 * row * src.stride + src.offset..];
            let bottom = &src.data[(2 * row + 1) * src.stride + src.offset..];
            let pairs = top
                .iter()
                .step_by(src.step)
                .zip(bottom.iter().step_by(src.step));
            for (px, (a, b)) in out.iter_mut().zip(pairs) {
                *px = (u16::from(*a) + u16::from(*b)).div_ceil(2) as u8;
            }
        }
        return;
    }
    let x_ratio = ((src.width.max(1) - 1) << 16) / dw.max(2).saturating_sub(1).max(1);
    let y_ratio = ((src.height.max(1) - 1) << 16) / dh.max(2).saturating_sub(1).max(1);
    for (row, out) in dst.chunks_exact_mut(dw).enumerate().take(dh) {
        let fy = row * y_ratio;
        let (y0, wy) = (fy >> 16, (fy & 0xffff) as u32);
        let y1 = (y0 + 1).min(src.height - 1);
        for (col, px) in out.iter_mut().enumerate() {
            let fx = col * x_ratio;
            let (x0, wx) = (fx >> 16, (fx & 0xffff) as u32);
            let x1 = (x0 + 1).min(src.width - 1);
            let top = src.at(x0, y0) * (65536 - wx) + src.at(x1, y0) * wx;
            let bottom = src.at(x0, y1) * (65536 - wx) + src.at(x1, y1) * wx;
            let value = (u64::from(top >> 8) * u64::from(65536 - wy)
                + u64::from(bottom >> 8) * u64::from(wy))
                >> 24;
            *px = value.min(255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(w: u32, h: u32, p: PixelFormat) -> VideoFormat {
        VideoFormat::new(w, h, p, 30, 1).unwrap()
    }

    #[test]
    fn same_size_i420_is_an_exact_copy() {
        let f = format(16, 8, PixelFormat::I420);
        let src: Vec<u8> = (0..f.frame_len()).map(|i| (i % 251) as u8).collect();
        let mut dst = vec![0; f.frame_len()];
        to_i420(&src, &f, &mut dst, &f);
        assert_eq!(src, dst);
    }

    #[test]
    fn flat_colours_survive_any_conversion() {
        let (y, u, v) = (81u8, 90u8, 240u8);
        let cases = [
            (PixelFormat::I420, 64, 36),
            (PixelFormat::Nv12, 64, 36),
            (PixelFormat::Yuyv, 64, 36),
            (PixelFormat::Uyvy, 64, 36),
        ];
        for (p, w, h) in cases {
            let sf = format(w, h, p);
            let mut src = vec![0u8; sf.frame_len()];
            fill(&mut src, &sf, y, u, v);
            for (dw, dh) in [(w, h), (32, 18), (128, 72)] {
                let df = format(dw, dh, PixelFormat::I420);
                let mut dst = vec![0u8; df.frame_len()];
                to_i420(&src, &sf, &mut dst, &df);
                let n = (dw * dh) as usize;
                assert!(dst[..n].iter().all(|&b| b == y), "{p:?} luma");
                assert!(dst[n..n + n / 4].iter().all(|&b| b == u), "{p:?} u");
                assert!(dst[n + n / 4..].iter().all(|&b| b == v), "{p:?} v");
            }
        }
    }

    #[test]
    fn downscale_averages_a_gradient() {
        let sf = format(64, 2, PixelFormat::I420);
        let mut src = vec![128u8; sf.frame_len()];
        for x in 0..64 {
            src[x] = (x * 4) as u8;
            src[64 + x] = (x * 4) as u8;
        }
        let df = format(32, 2, PixelFormat::I420);
        let mut dst = vec![0u8; df.frame_len()];
        to_i420(&src, &sf, &mut dst, &df);
        assert_eq!(dst[0], 0);
        assert!(dst[31] >= 250, "{}", dst[31]);
        assert!(dst[..32].windows(2).all(|w| w[0] <= w[1]));
    }

    fn fill(buf: &mut [u8], f: &VideoFormat, y: u8, u: u8, v: u8) {
        let p = f.planes();
        match f.pixel_format {
            PixelFormat::I420 => {
                buf[..p[0].len()].fill(y);
                buf[p[1].offset..p[1].offset + p[1].len()].fill(u);
                buf[p[2].offset..].fill(v);
            }
            PixelFormat::Nv12 => {
                buf[..p[0].len()].fill(y);
                for pair in buf[p[1].offset..].chunks_exact_mut(2) {
                    pair.copy_from_slice(&[u, v]);
                }
            }
            PixelFormat::Yuyv => buf
                .chunks_exact_mut(4)
                .for_each(|c| c.copy_from_slice(&[y, u, y, v])),
            PixelFormat::Uyvy => buf
                .chunks_exact_mut(4)
                .for_each(|c| c.copy_from_slice(&[u, y, v, y])),
        }
    }
}
