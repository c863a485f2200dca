//! [`Rav1eEncoder`]: AV1 through libavcodec's `librav1e`, the offline
//! quality mode (options in `options/rav1e.rs`).
//!
//! A type of its own beside [`FfVideoEncoder`](crate::FfVideoEncoder),
//! whose `open` picks the library from the settings: rav1e is chosen by
//! the caller (the appliance's offline commands), not by a transcoder.
//! The picture copy and the stamping are FfVideoEncoder's; what differs is
//! what rav1e needs less of: its temporal units keep DTS = PTS (no reorder
//! delay), and its hidden frames ride inside them, so every picture sent
//! comes back as one access unit.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Once;

use ff::codec::encoder::video::Encoder as OpenedVideo;
use ff::format::Pixel;
use ff::{Dictionary, Packet};
use ffmpeg_next as ff;
use makara_encode::{EncodeError, RawPicture, VideoEncoder, VideoSettings};
use makara_media::{Clock90k, EncodedVideo, VideoCodec};

use crate::clock::FrameClock;
use crate::options::{self, FfConfig};
use crate::params;

/// An AV1 encoder through rav1e, for files: it looks ahead and holds
/// dozens of pictures before its first access unit. Send pictures, then
/// receive access units until `Ok(None)`; send `None` at the end of the
/// stream to flush.
pub struct Rav1eEncoder {
    encoder: OpenedVideo,
    settings: VideoSettings,
    clock: FrameClock,
    ready: VecDeque<EncodedVideo>,
    /// The sequence header of the latest keyframe.
    headers: Option<Vec<u8>>,
    flushed: bool,
}

impl Rav1eEncoder {
    /// Opens rav1e for `settings` (AV1). Fails with [`EncodeError::Open`]
    /// for a setting rav1e cannot honour (the message names it), when the
    /// linked FFmpeg was built without librav1e (the appliance image's),
    /// and when libavcodec refuses (its detailed reason goes to stderr).
    pub fn open(settings: &VideoSettings) -> Result<Rav1eEncoder, EncodeError> {
        let config = options::rav1e_config(settings)?;
        static INIT: Once = Once::new();
        // Fills ffmpeg-next's table of error strings, as FfVideoEncoder does.
        INIT.call_once(|| {
            let _ = ff::init();
        });
        let found = ff::encoder::find_by_name(config.encoder).ok_or_else(missing_librav1e)?;
        let encoder = open_context(found, settings, &config)?;
        Ok(Rav1eEncoder {
            encoder,
            settings: *settings,
            clock: FrameClock::new(settings.input.fps_num, settings.input.fps_den),
            ready: VecDeque::new(),
            headers: None,
            flushed: false,
        })
    }

    pub fn settings(&self) -> &VideoSettings {
        &self.settings
    }

    fn encode_error(&self, why: impl fmt::Display) -> EncodeError {
        EncodeError::Encode(format!("AV1 through librav1e: {why}"))
    }

    /// A libavcodec frame holding a copy of `raw`, checked against the
    /// input format; a fresh one each time, as rav1e keeps the pictures it
    /// looks ahead over.
    fn frame(&mut self, raw: &RawPicture<'_>) -> Result<ff::frame::Video, EncodeError> {
        let expected = self.settings.input;
        if raw.format != expected {
            return Err(EncodeError::Format {
                expected,
                got: raw.format,
            });
        }
        let short = || EncodeError::ShortFrame {
            expected: expected.frame_len(),
            got: raw.data.len(),
        };
        if raw.data.len() < expected.frame_len() {
            return Err(short());
        }
        if raw.force_keyframe {
            return Err(self.encode_error(
                "FFmpeg's librav1e passes no keyframe request on to rav1e; \
                 keyframes come every gop_frames",
            ));
        }
        let mut frame = ff::frame::Video::new(Pixel::YUV420P, expected.width, expected.height);
        for (index, plane) in expected.planes().iter().enumerate() {
            let row = frame.plane_width(index) as usize;
            let stride = frame.stride(index);
            let source = raw
                .data
                .get(plane.offset..plane.offset + plane.len())
                .ok_or_else(short)?;
            for (src, dst) in source
                .chunks(plane.stride)
                .zip(frame.data_mut(index).chunks_mut(stride))
                .take(plane.height)
            {
                dst[..row].copy_from_slice(&src[..row]);
            }
        }
        let number = self
            .clock
            .stamp(raw.pts)
            .map_err(|why| self.encode_error(why))?;
        frame.set_pts(Some(number));
        Ok(frame)
    }

    /// Moves every packet the encoder has ready into `ready`.
    fn drain(&mut self) -> Result<(), EncodeError> {
        loop {
            let mut packet = Packet::empty();
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => self.take(&packet)?,
                Err(ff::Error::Other { errno }) if errno == ff::error::EAGAIN => return Ok(()),
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(self.encode_error(e)),
            }
        }
    }

    /// Stamps one temporal unit with its picture's PTS (DTS the same) and
    /// queues it.
    fn take(&mut self, packet: &Packet) -> Result<(), EncodeError> {
        let number = packet
            .pts()
            .ok_or_else(|| self.encode_error("a packet without a timestamp"))?;
        let pts = self.clock.time_of(number).ok_or_else(|| {
            self.encode_error(format!("a packet for picture {number}, which was not sent"))
        })?;
        self.clock.forget_before(number);
        let data = packet.data().unwrap_or_default().to_vec();
        let keyframe = packet.is_key();
        if keyframe {
            if let Some(headers) = params::parameter_sets(VideoCodec::Av1, &data) {
                self.headers = Some(headers);
            }
        }
        self.ready.push_back(EncodedVideo {
            data,
            pts: Clock90k(pts),
            dts: Clock90k(pts),
            keyframe,
        });
        Ok(())
    }
}

/// The libavcodec context for `settings`, opened with `config`'s options.
fn open_context(
    codec: ff::Codec,
    settings: &VideoSettings,
    config: &FfConfig,
) -> Result<OpenedVideo, EncodeError> {
    let open_error = |why: &dyn fmt::Display| {
        EncodeError::Open(format!("AV1 through {}: {why}", config.encoder))
    };
    let mut ctx = ff::codec::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| open_error(&e))?;
    let input = settings.input;
    ctx.set_width(input.width);
    ctx.set_height(input.height);
    ctx.set_format(Pixel::YUV420P);
    // One tick per frame (clock.rs); rav1e's rate control reads the frame
    // rate.
    ctx.set_time_base((input.fps_den as i32, input.fps_num as i32));
    ctx.set_frame_rate(Some((input.fps_num as i32, input.fps_den as i32)));
    let mut dictionary = Dictionary::new();
    for (name, value) in &config.options {
        dictionary.set(name, value);
    }
    ctx.open_with(dictionary)
        .map_err(|e| open_error(&format!("{e} (FFmpeg logged why)")))
}

/// Why rav1e cannot be opened on an FFmpeg without it, such as the
/// appliance image's small one: never a silent fallback to SVT-AV1.
fn missing_librav1e() -> EncodeError {
    EncodeError::Open(
        "AV1 through librav1e: the linked FFmpeg was built without the librav1e encoder \
         (the appliance image's FFmpeg has libsvtav1 only, for live AV1); the rav1e mode \
         needs an FFmpeg with librav1e, such as Debian's"
            .into(),
    )
}

impl VideoEncoder for Rav1eEncoder {
    /// Encodes one picture; `None` flushes the pictures rav1e still holds
    /// and ends the stream (sending a picture after that is an error).
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        let Some(raw) = picture else {
            if !self.flushed {
                self.flushed = true;
                self.encoder.send_eof().map_err(|e| self.encode_error(e))?;
                self.drain()?;
            }
            return Ok(());
        };
        if self.flushed {
            return Err(self.encode_error("the stream was flushed; open a new encoder"));
        }
        let frame = self.frame(&raw)?;
        self.encoder
            .send_frame(&frame)
            .map_err(|e| self.encode_error(e))?;
        self.drain()
    }

    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
        Ok(self.ready.pop_front())
    }

    /// The sequence header OBU of the latest keyframe: rav1e writes it
    /// into every keyframe's temporal unit, so it is known once the first
    /// one is out.
    fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
        self.headers.clone().ok_or_else(|| {
            self.encode_error(
                "no keyframe is out of the encoder yet; its sequence header comes with it",
            )
        })
    }
}

impl fmt::Debug for Rav1eEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rav1eEncoder")
            .field("settings", &self.settings)
            .field("remembered", &self.clock.remembered())
            .field("ready", &self.ready.len())
            .field("flushed", &self.flushed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_librav1e_is_named_with_why() {
        let why = missing_librav1e().to_string();
        assert!(why.contains("without the librav1e encoder"), "{why}");
        assert!(why.contains("appliance image"), "{why}");
    }
}
