//! H.264 through the system's libx264, as a [`VideoEncoder`].
//!
//! [`X264Encoder`] turns [`VideoSettings`] into libx264 parameters (preset
//! and tune, then options by their x264 command-line names, then the
//! `high` profile), sends pictures without copying them on our side (libx264
//! copies each picture into its own frame inside `x264_encoder_encode`), and
//! queues the access units it gets back: Annex B, an AUD first in each, SPS
//! and PPS before each IDR. The SPS's VUI says square pixels, limited range
//! and the colour standard of the size (BT.709 from 720 lines up, BT.601
//! below).
//!
//! # Build requirements
//!
//! The `x264-sys` crate runs bindgen on the system `x264.h` at build time
//! and links the system library. On Debian:
//!
//! ```text
//! apt-get install pkg-config libx264-dev clang libclang-dev
//! pkg-config --modversion x264    # 0.164.x on bookworm (X264_BUILD 164)
//! ```
//!
//! `scripts/lib/deps.sh` installs these in CI. The binary needs only the
//! runtime library (`libx264-164`).
//!
//! # Input layouts
//!
//! I420 and NV12 are read directly. YUYV and UYVY are refused at open:
//! libx264 would encode them as 4:2:2 (High 4:2:2), so a 4:2:0 stream needs
//! a conversion before the encoder.
//!
//! # Timestamps
//!
//! PTS go through libx264 untouched, so they stay [`Clock90k`] ticks and a
//! picture is presented exactly when its caller said, B-frames or not.
//! With B-frames, decoding runs ahead of presentation: each DTS lies the
//! reorder delay before the PTS of the picture in that decoding slot, so
//! the first DTS is the first PTS minus the reorder delay
//! ([`X264Encoder::reorder_delay`]; zero without B-frames, the
//! contribution default): one frame with one B-frame, two with more (they
//! form a pyramid), never more than one per B-frame. The caller leaves
//! room for it: a DTS that would fall before 90 kHz zero is an error.
//!
//! # Example
//!
//! ```
//! use makara_encode::{
//!     Hardware, Mpeg2Profile, Preset, RateControl, RawPicture, VideoEncoder, VideoSettings,
//! };
//! use makara_media::{Clock90k, PixelFormat, VideoCodec, VideoFormat};
//! use makara_x264::X264Encoder;
//!
//! let input = VideoFormat::new(320, 240, PixelFormat::I420, 25, 1)?;
//! let mut encoder = X264Encoder::open(&VideoSettings {
//!     codec: VideoCodec::H264,
//!     hardware: Hardware::Software,
//!     mpeg2_profile: Mpeg2Profile::Main,
//!     input,
//!     rate_control: RateControl::Cbr,
//!     bitrate_kbps: 500,
//!     max_bitrate_kbps: 500,
//!     vbv_buffer_ms: 500,
//!     gop_frames: 25,
//!     b_frames: 0,
//!     intra_refresh: false,
//!     preset: Preset::Ultrafast,
//!     zero_latency: true,
//! })?;
//! let grey = vec![128u8; input.frame_len()];
//! encoder.send_picture(Some(RawPicture {
//!     format: input,
//!     data: &grey,
//!     pts: Clock90k(0),
//!     force_keyframe: false,
//! }))?;
//! encoder.send_picture(None)?; // end of stream: flush
//! let first = encoder.receive()?.expect("one access unit");
//! assert!(first.keyframe);
//! assert!(first.data.starts_with(&[0, 0, 0, 1, 0x09])); // an AUD
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// `unsafe` is denied here and everywhere below, except in `ffi`, the one
// module that calls libx264 (allow-listed in tests/tidy).
#![deny(unsafe_code)]

mod ffi;
mod options;

use std::collections::VecDeque;
use std::fmt;

use makara_encode::{EncodeError, Hardware, RawPicture, VideoEncoder, VideoSettings};
use makara_media::{Clock90k, EncodedVideo, VideoCodec};

use ffi::{Csp, FfiError, NalType, Params, Picture, PlaneRef};

/// An H.264 encoder over libx264. Send pictures, then receive access units
/// until `Ok(None)`; send `None` at the end of the stream to flush.
pub struct X264Encoder {
    encoder: ffi::Encoder,
    settings: VideoSettings,
    csp: Csp,
    ready: VecDeque<EncodedVideo>,
    /// PTS - DTS of the first access unit (never negative), once it is out.
    reorder_delay: Option<i64>,
    flushed: bool,
}

impl fmt::Debug for X264Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X264Encoder")
            .field("settings", &self.settings)
            .field("ready", &self.ready.len())
            .field("reorder_delay", &self.reorder_delay)
            .field("flushed", &self.flushed)
            .finish_non_exhaustive()
    }
}

fn open_error(e: FfiError) -> EncodeError {
    EncodeError::Open(e.to_string())
}

fn encode_error(e: FfiError) -> EncodeError {
    EncodeError::Encode(e.to_string())
}

impl X264Encoder {
    /// Opens libx264 with `settings`. Fails with [`EncodeError::Open`] for
    /// settings libx264 cannot take (packed 4:2:2 input, a zero bitrate or
    /// GOP, …); the message says which.
    pub fn open(settings: &VideoSettings) -> Result<X264Encoder, EncodeError> {
        if settings.codec != VideoCodec::H264 || settings.hardware != Hardware::Software {
            return Err(EncodeError::Open(format!(
                "libx264 encodes H.264 in software, not {:?} on {:?}",
                settings.codec, settings.hardware
            )));
        }
        let config = options::config(settings)?;
        let mut params = Params::with_preset(config.preset, config.tune).map_err(open_error)?;
        params
            .set_picture(config.width, config.height, config.csp)
            .map_err(open_error)?;
        for (name, value) in &config.options {
            params.parse(name, value).map_err(open_error)?;
        }
        params.apply_profile(config.profile).map_err(open_error)?;
        let encoder = ffi::Encoder::open(&mut params, config.csp).map_err(open_error)?;
        Ok(X264Encoder {
            encoder,
            settings: *settings,
            csp: config.csp,
            ready: VecDeque::new(),
            reorder_delay: None,
            flushed: false,
        })
    }

    pub fn settings(&self) -> &VideoSettings {
        &self.settings
    }

    /// How far decoding runs ahead of presentation: the first access
    /// unit's PTS minus its DTS, the B-frame reorder delay. `None` until the
    /// first access unit is out; zero without B-frames.
    pub fn reorder_delay(&self) -> Option<Clock90k> {
        self.reorder_delay.map(|d| Clock90k(d.unsigned_abs()))
    }

    /// Pictures sent but not yet out of libx264 (lookahead, B-frames,
    /// frame threads).
    pub fn delayed_frames(&self) -> usize {
        self.encoder.delayed_frames()
    }

    fn picture<'a>(&self, p: &RawPicture<'a>) -> Result<Picture<'a>, EncodeError> {
        let expected = self.settings.input;
        if p.format != expected {
            return Err(EncodeError::Format {
                expected,
                got: p.format,
            });
        }
        let short = || EncodeError::ShortFrame {
            expected: expected.frame_len(),
            got: p.data.len(),
        };
        if p.data.len() < expected.frame_len() {
            return Err(short());
        }
        let planes = expected
            .planes()
            .iter()
            .map(|plane| {
                let end = plane.offset.checked_add(plane.len()).ok_or_else(short)?;
                let data = p.data.get(plane.offset..end).ok_or_else(short)?;
                Ok(PlaneRef {
                    data,
                    stride: plane.stride,
                })
            })
            .collect::<Result<Vec<_>, EncodeError>>()?;
        let pts = i64::try_from(p.pts.0)
            .map_err(|_| EncodeError::Encode(format!("pts {} is out of range", p.pts.0)))?;
        Ok(Picture {
            csp: self.csp,
            planes,
            pts,
            force_idr: p.force_keyframe,
        })
    }

    /// Queues one access unit with libx264's timestamps: the PTS as sent,
    /// the DTS as libx264 scheduled it.
    fn push(&mut self, frame: ffi::Frame) -> Result<(), EncodeError> {
        self.reorder_delay
            .get_or_insert(frame.pts.saturating_sub(frame.dts).max(0));
        let pts = u64::try_from(frame.pts).map_err(|_| {
            EncodeError::Encode(format!("libx264 returned pts {}, below zero", frame.pts))
        })?;
        let dts = u64::try_from(frame.dts).map_err(|_| {
            EncodeError::Encode(format!(
                "libx264 put dts {} (pts {pts}) before 90 kHz zero: the first pts must leave \
                 room for the reorder delay of {} B-frames",
                frame.dts, self.settings.b_frames
            ))
        })?;
        self.ready.push_back(EncodedVideo {
            data: frame.data,
            pts: Clock90k(pts),
            dts: Clock90k(dts),
            keyframe: frame.keyframe,
        });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), EncodeError> {
        // Each drain call normally returns one picture; the bound only
        // stops a libx264 that keeps saying it holds frames but never
        // returns them.
        let mut budget = self.encoder.maximum_delayed_frames() + self.encoder.delayed_frames() + 8;
        while self.encoder.delayed_frames() > 0 {
            if budget == 0 {
                return Err(EncodeError::Encode(format!(
                    "libx264 still holds {} pictures after the flush",
                    self.encoder.delayed_frames()
                )));
            }
            budget -= 1;
            if let Some(frame) = self.encoder.encode(None).map_err(encode_error)? {
                self.push(frame)?;
            }
        }
        Ok(())
    }
}

impl VideoEncoder for X264Encoder {
    /// Encodes one picture; `None` flushes the pictures libx264 still holds
    /// and ends the stream (sending a picture after that is an error).
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        let Some(raw) = picture else {
            if !self.flushed {
                self.flushed = true;
                self.flush()?;
            }
            return Ok(());
        };
        if self.flushed {
            return Err(EncodeError::Encode(
                "the stream was flushed; open a new encoder".into(),
            ));
        }
        let picture = self.picture(&raw)?;
        if let Some(frame) = self.encoder.encode(Some(&picture)).map_err(encode_error)? {
            self.push(frame)?;
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
        Ok(self.ready.pop_front())
    }

    /// SPS and PPS, each with its start code.
    fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
        let nals = self.encoder.headers().map_err(encode_error)?;
        let out: Vec<u8> = nals
            .into_iter()
            .filter(|(kind, _)| matches!(kind, NalType::Sps | NalType::Pps))
            .flat_map(|(_, bytes)| bytes)
            .collect();
        if out.is_empty() {
            return Err(EncodeError::Encode(
                "x264_encoder_headers returned no SPS or PPS".into(),
            ));
        }
        Ok(out)
    }
}
