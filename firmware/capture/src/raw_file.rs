//! Raw frames from a file as a live source: what `makarad bench encode`
//! feeds the stream's stages instead of a camera.
//!
//! The file holds tightly packed frames of one format (FFmpeg's rawvideo).
//! Each frame is read straight into a slot of the source's own pool, one
//! `read` per frame (from the page cache, as FFmpeg's rawvideo demuxer
//! does), and the file starts over at its end, so any number of frames can
//! be asked for. Frames come as fast as the reader gives slots back.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use makara_framering::{Frame, FramePool};
use makara_media::{MonotonicNs, PixelFormat, VideoFormat};
use thiserror::Error;

use crate::clock::{monotonic_now, Timeline};
use crate::device::{DeviceError, LiveCapture};
use crate::pattern::PATTERN_SLOTS;

/// How often the reader looks for a slot its readers gave back.
const SLOT_POLL: Duration = Duration::from_micros(100);

/// Why a raw file cannot be a source.
#[derive(Debug, Error)]
pub enum RawFileError {
    /// The file could not be opened or read.
    #[error("raw input {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file does not hold whole frames of the format.
    #[error(
        "raw input {path} holds {len} bytes, which is not a whole number of \
         {width}x{height} {format} frames of {frame_len} bytes; check --width, --height \
         and --pixfmt"
    )]
    Size {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
        /// Picture width asked for.
        width: u32,
        /// Picture height asked for.
        height: u32,
        /// Pixel layout asked for.
        format: &'static str,
        /// Bytes one such frame takes.
        frame_len: usize,
    },
}

/// A raw video file read one frame per slot, from the start again at its end.
pub struct RawFile {
    file: File,
    path: PathBuf,
    frames_in_file: u64,
    next_in_file: u64,
    next_index: u64,
    timeline: Timeline,
    pool: Arc<FramePool>,
}

impl std::fmt::Debug for RawFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawFile")
            .field("path", &self.path)
            .field("next_index", &self.next_index)
            .finish_non_exhaustive()
    }
}

impl RawFile {
    /// Opens `path` as frames of `format`, frame 0 stamped `origin` and
    /// each next one a frame period later.
    pub fn open(
        path: &Path,
        format: VideoFormat,
        origin: MonotonicNs,
    ) -> Result<RawFile, RawFileError> {
        let io = |source| RawFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let frame_len = format.frame_len();
        if len == 0 || !len.is_multiple_of(frame_len as u64) {
            return Err(RawFileError::Size {
                path: path.to_path_buf(),
                len,
                width: format.width,
                height: format.height,
                format: pixel_format_name(format.pixel_format),
                frame_len,
            });
        }
        Ok(RawFile {
            file,
            path: path.to_path_buf(),
            frames_in_file: len / frame_len as u64,
            next_in_file: 0,
            next_index: 0,
            timeline: Timeline::new(origin, format.fps_num, format.fps_den),
            pool: FramePool::new(format, PATTERN_SLOTS),
        })
    }

    fn read_into(&mut self, out: &mut [u8]) -> io::Result<()> {
        if self.next_in_file == self.frames_in_file {
            self.file.seek(SeekFrom::Start(0))?;
            self.next_in_file = 0;
        }
        self.file.read_exact(out)?;
        self.next_in_file += 1;
        Ok(())
    }
}

impl LiveCapture for RawFile {
    fn format(&self) -> VideoFormat {
        self.pool.format()
    }

    fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        let give_up = MonotonicNs(monotonic_now().0.saturating_add(timeout.as_nanos() as u64));
        let mut slot = loop {
            if let Some(slot) = self.pool.try_acquire() {
                break slot;
            }
            if monotonic_now() >= give_up {
                return Ok(None);
            }
            std::thread::sleep(SLOT_POLL);
        };
        self.read_into(&mut slot).map_err(|e| DeviceError::Device {
            device: self.path.display().to_string(),
            what: e.to_string(),
        })?;
        let index = self.next_index;
        self.next_index += 1;
        Ok(Some(slot.freeze(self.timeline.at(index), index)))
    }
}

fn pixel_format_name(format: PixelFormat) -> &'static str {
    match format {
        PixelFormat::I420 => "i420",
        PixelFormat::Nv12 => "nv12",
        PixelFormat::Yuyv => "yuyv",
        PixelFormat::Uyvy => "uyvy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("makara-raw-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn frames_come_in_file_order_and_the_file_loops() {
        let format = VideoFormat::new(16, 16, PixelFormat::I420, 25, 1).unwrap();
        let len = format.frame_len();
        let bytes: Vec<u8> = (0..3u8).flat_map(|i| vec![i; len]).collect();
        let path = temp_file("loop.yuv", &bytes);
        let mut raw = RawFile::open(&path, format, MonotonicNs(1_000)).unwrap();
        let mut firsts = Vec::new();
        for i in 0..7u64 {
            let frame = raw.next_frame(Duration::from_secs(1)).unwrap().unwrap();
            assert_eq!(frame.sequence(), i);
            assert_eq!(frame.pts().0, 1_000 + i * 40_000_000);
            assert!(frame.iter().all(|&b| b == frame[0]));
            firsts.push(frame[0]);
        }
        let _ = std::fs::remove_file(&path);
        assert_eq!(firsts, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn a_reader_that_holds_every_slot_makes_it_wait_not_drop() {
        let format = VideoFormat::new(16, 16, PixelFormat::Yuyv, 30, 1).unwrap();
        let path = temp_file("held.yuv", &vec![7; format.frame_len()]);
        let mut raw = RawFile::open(&path, format, MonotonicNs(0)).unwrap();
        let held: Vec<Frame> = (0..PATTERN_SLOTS)
            .map(|_| raw.next_frame(Duration::from_secs(1)).unwrap().unwrap())
            .collect();
        assert!(raw.next_frame(Duration::from_millis(20)).unwrap().is_none());
        drop(held);
        let next = raw.next_frame(Duration::from_secs(1)).unwrap().unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            next.sequence(),
            PATTERN_SLOTS as u64,
            "no frame was skipped"
        );
    }

    #[test]
    fn a_file_of_partial_frames_is_refused_with_the_sizes() {
        let format = VideoFormat::new(32, 16, PixelFormat::Uyvy, 30, 1).unwrap();
        let path = temp_file("partial.yuv", &vec![0; format.frame_len() + 1]);
        let err = RawFile::open(&path, format, MonotonicNs(0)).err().unwrap();
        let missing = RawFile::open(&path.with_extension("none"), format, MonotonicNs(0));
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            err.to_string(),
            format!(
                "raw input {} holds 1025 bytes, which is not a whole number of 32x16 uyvy \
                 frames of 1024 bytes; check --width, --height and --pixfmt",
                path.display()
            )
        );
        assert!(matches!(missing, Err(RawFileError::Io { .. })));
    }
}
