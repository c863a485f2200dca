//! Pixel formats and plane layouts.

use thiserror::Error;

/// Raw picture layouts capture can deliver and encoders can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Planar 4:2:0: Y, then U, then V.
    I420,
    /// Semi-planar 4:2:0: Y, then interleaved UV.
    Nv12,
    /// Packed 4:2:2: Y0 U Y1 V.
    Yuyv,
    /// Packed 4:2:2: U Y0 V Y1.
    Uyvy,
}

/// Where one plane lies in a frame buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plane {
    pub offset: usize,
    pub stride: usize,
    pub height: usize,
}

impl Plane {
    pub fn len(&self) -> usize {
        self.stride * self.height
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A picture size, layout and rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoFormat {
    pub width: u32,
    pub height: u32,
    pub pixel_format: PixelFormat,
    /// Frames per second as a fraction (30000/1001 for 29.97).
    pub fps_num: u32,
    pub fps_den: u32,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum VideoFormatError {
    #[error("{width}x{height} is not a usable picture size (even, 2-8192)")]
    Size { width: u32, height: u32 },
    #[error("{num}/{den} is not a usable frame rate")]
    Rate { num: u32, den: u32 },
}

impl VideoFormat {
    pub fn new(
        width: u32,
        height: u32,
        pixel_format: PixelFormat,
        fps_num: u32,
        fps_den: u32,
    ) -> Result<VideoFormat, VideoFormatError> {
        let size_ok = |v: u32| (2..=8192).contains(&v) && v.is_multiple_of(2);
        if !size_ok(width) || !size_ok(height) {
            return Err(VideoFormatError::Size { width, height });
        }
        if fps_num == 0 || fps_den == 0 || fps_num / fps_den > 240 {
            return Err(VideoFormatError::Rate {
                num: fps_num,
                den: fps_den,
            });
        }
        Ok(VideoFormat {
            width,
            height,
            pixel_format,
            fps_num,
            fps_den,
        })
    }

    /// The planes of a tightly packed frame of this format.
    pub fn planes(&self) -> Vec<Plane> {
        let (w, h) = (self.width as usize, self.height as usize);
        match self.pixel_format {
            PixelFormat::I420 => vec![
                Plane {
                    offset: 0,
                    stride: w,
                    height: h,
                },
                Plane {
                    offset: w * h,
                    stride: w / 2,
                    height: h / 2,
                },
                Plane {
                    offset: w * h + w * h / 4,
                    stride: w / 2,
                    height: h / 2,
                },
            ],
            PixelFormat::Nv12 => vec![
                Plane {
                    offset: 0,
                    stride: w,
                    height: h,
                },
                Plane {
                    offset: w * h,
                    stride: w,
                    height: h / 2,
                },
            ],
            PixelFormat::Yuyv | PixelFormat::Uyvy => vec![Plane {
                offset: 0,
                stride: w * 2,
                height: h,
            }],
        }
    }

    /// Bytes in one tightly packed frame.
    pub fn frame_len(&self) -> usize {
        self.planes().iter().map(Plane::len).sum()
    }

    /// The duration of one frame in nanoseconds.
    pub fn frame_ns(&self) -> u64 {
        1_000_000_000 * u64::from(self.fps_den) / u64::from(self.fps_num)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes() {
        let f = |p| VideoFormat::new(1920, 1080, p, 30, 1).unwrap().frame_len();
        assert_eq!(f(PixelFormat::I420), 1920 * 1080 * 3 / 2);
        assert_eq!(f(PixelFormat::Nv12), 1920 * 1080 * 3 / 2);
        assert_eq!(f(PixelFormat::Yuyv), 1920 * 1080 * 2);
        assert_eq!(f(PixelFormat::Uyvy), 4_147_200);
    }

    #[test]
    fn i420_planes_are_contiguous() {
        let p = VideoFormat::new(8, 4, PixelFormat::I420, 25, 1)
            .unwrap()
            .planes();
        assert_eq!(p[1].offset, p[0].len());
        assert_eq!(p[2].offset, p[1].offset + p[1].len());
    }

    #[test]
    fn bad_formats() {
        assert!(VideoFormat::new(1281, 720, PixelFormat::I420, 30, 1).is_err());
        assert!(VideoFormat::new(1280, 720, PixelFormat::I420, 0, 1).is_err());
        assert_eq!(
            VideoFormat::new(1280, 720, PixelFormat::I420, 30000, 1001)
                .unwrap()
                .frame_ns(),
            33_366_666
        );
    }
}
