//! [`FfVideoEncoder`]: one opened libavcodec video encoder, the pictures
//! copied into its frames, and its packets stamped back onto 90 kHz.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Once;

use ff::codec::encoder::video::Encoder as OpenedVideo;
use ff::format::Pixel;
use ff::{Dictionary, Packet};
use ffmpeg_next as ff;
use makara_encode::{EncodeError, Hardware, RawPicture, VideoEncoder, VideoSettings};
use makara_media::{Clock90k, EncodedVideo, VideoCodec};

use crate::clock::FrameClock;
use crate::options::{self, codec_name, FfConfig};
use crate::params;

/// An HEVC, AV1 or MPEG-2 video encoder over libavcodec (`libx265`,
/// `libsvtav1`, `mpeg2video`), by [`VideoSettings::codec`]. Send pictures,
/// then receive access units until `Ok(None)`; send `None` at the end of
/// the stream to flush.
pub struct FfVideoEncoder {
    encoder: OpenedVideo,
    settings: VideoSettings,
    config: FfConfig,
    clock: FrameClock,
    ready: VecDeque<EncodedVideo>,
    /// The parameter sets of the latest keyframe.
    headers: Option<Vec<u8>>,
    /// PTS - DTS of the first access unit, once it is out.
    reorder_delay: Option<u64>,
    /// Whether any picture went into the encoder.
    sent_any: bool,
    /// Whether the encoder was told the stream ended.
    eof_sent: bool,
    flushed: bool,
}

impl FfVideoEncoder {
    /// Opens the encoder for `settings.codec`. Fails with
    /// [`EncodeError::Open`] for a setting the codec's library cannot
    /// honour (the message names the setting and the codec), for
    /// hardware (see the crate documentation) and when libavcodec refuses
    /// (its detailed reason goes to stderr).
    pub fn open(settings: &VideoSettings) -> Result<FfVideoEncoder, EncodeError> {
        if settings.hardware != Hardware::Software {
            return Err(crate::hardware::refuse(settings));
        }
        let config = options::config(settings)?;
        static INIT: Once = Once::new();
        // Fills ffmpeg-next's table of error strings; nothing else is
        // needed since FFmpeg 4.
        INIT.call_once(|| {
            let _ = ff::init();
        });
        let codec = codec_name(settings.codec);
        let open_error = |why: &dyn fmt::Display| {
            EncodeError::Open(format!("{codec} through {}: {why}", config.encoder))
        };
        let found = ff::encoder::find_by_name(config.encoder)
            .ok_or_else(|| open_error(&"this FFmpeg has no such encoder"))?;
        let mut ctx = ff::codec::Context::new_with_codec(found)
            .encoder()
            .video()
            .map_err(|e| open_error(&e))?;
        let input = settings.input;
        ctx.set_width(input.width);
        ctx.set_height(input.height);
        ctx.set_format(Pixel::YUV420P);
        // One tick per frame: see clock.rs.
        ctx.set_time_base((input.fps_den as i32, input.fps_num as i32));
        ctx.set_frame_rate(Some((input.fps_num as i32, input.fps_den as i32)));
        let mut dictionary = Dictionary::new();
        for (name, value) in &config.options {
            dictionary.set(name, value);
        }
        let encoder = ctx
            .open_with(dictionary)
            .map_err(|e| open_error(&format!("{e} (FFmpeg logged why)")))?;
        Ok(FfVideoEncoder {
            encoder,
            settings: *settings,
            clock: FrameClock::new(input.fps_num, input.fps_den),
            config,
            ready: VecDeque::new(),
            headers: None,
            reorder_delay: None,
            sent_any: false,
            eof_sent: false,
            flushed: false,
        })
    }

    pub fn settings(&self) -> &VideoSettings {
        &self.settings
    }

    /// How far decoding runs ahead of presentation: the first access
    /// unit's PTS minus its DTS. `None` until the first access unit is
    /// out; zero without B-frames.
    pub fn reorder_delay(&self) -> Option<Clock90k> {
        self.reorder_delay.map(Clock90k)
    }

    fn encode_error(&self, why: impl fmt::Display) -> EncodeError {
        EncodeError::Encode(format!(
            "{} through {}: {why}",
            codec_name(self.settings.codec),
            self.config.encoder
        ))
    }

    /// A libavcodec frame holding a copy of `raw`, checked against the
    /// input format. A fresh frame each time: the encoder may keep a
    /// reference to the previous one (B-frames, lookahead).
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
        if raw.force_keyframe && !self.config.forced_keyframes {
            return Err(self.encode_error(
                "SVT-AV1 1.4.1 cannot make a keyframe on request in low delay; \
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
            let target = frame.data_mut(index);
            for (src, dst) in source
                .chunks(plane.stride)
                .zip(target.chunks_mut(stride))
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
        if raw.force_keyframe {
            frame.set_kind(ff::picture::Type::I);
        }
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

    /// Stamps one packet with the caller's clock and queues it.
    fn take(&mut self, packet: &Packet) -> Result<(), EncodeError> {
        let (Some(pts_number), Some(dts_number)) = (packet.pts(), packet.dts()) else {
            return Err(self.encode_error("a packet without a timestamp"));
        };
        let pts = self.clock.time_of(pts_number).ok_or_else(|| {
            self.encode_error(format!(
                "a packet for picture {pts_number}, which was not sent"
            ))
        })?;
        let dts = self.clock.time_of(dts_number).ok_or_else(|| {
            self.encode_error(format!(
                "the DTS of picture {pts_number} (pts {pts}) would fall before 90 kHz zero: \
                 the first pts must leave room for the reorder delay of {} B-frames",
                self.settings.b_frames
            ))
        })?;
        self.clock.forget_before(dts_number);
        self.reorder_delay.get_or_insert(pts.saturating_sub(dts));
        let data = packet.data().unwrap_or_default().to_vec();
        let keyframe = packet.is_key()
            || (self.config.refresh_points_are_keyframes && params::hevc_has_vps(&data));
        if keyframe {
            if let Some(headers) = params::parameter_sets(self.settings.codec, &data) {
                self.headers = Some(headers);
            }
        }
        self.ready.push_back(EncodedVideo {
            data,
            pts: Clock90k(pts),
            dts: Clock90k(dts),
            keyframe,
        });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), EncodeError> {
        self.flushed = true;
        if !self.sent_any {
            // Nothing to flush; and SVT-AV1 1.4.1, told the stream ended
            // before its first picture, waits forever for a last packet.
            return Ok(());
        }
        self.eof_sent = true;
        self.encoder.send_eof().map_err(|e| self.encode_error(e))?;
        self.drain()
    }
}

impl VideoEncoder for FfVideoEncoder {
    /// Encodes one picture; `None` flushes the pictures the encoder still
    /// holds and ends the stream (sending a picture after that is an
    /// error).
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        let Some(raw) = picture else {
            if !self.flushed {
                self.flush()?;
            }
            return Ok(());
        };
        if self.flushed {
            return Err(self.encode_error("the stream was flushed; open a new encoder"));
        }
        let frame = self.frame(&raw)?;
        self.sent_any = true;
        self.encoder
            .send_frame(&frame)
            .map_err(|e| self.encode_error(e))?;
        self.drain()
    }

    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
        Ok(self.ready.pop_front())
    }

    /// The parameter sets of the latest keyframe: HEVC's VPS, SPS and PPS
    /// (Annex B), MPEG-2's sequence header with its extensions, AV1's
    /// sequence header OBU. The libraries write them into the keyframes
    /// themselves, so they are known once the first keyframe is out.
    fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
        self.headers.clone().ok_or_else(|| {
            self.encode_error(
                "no keyframe is out of the encoder yet; its parameter sets come with it",
            )
        })
    }
}

impl Drop for FfVideoEncoder {
    /// SVT-AV1 1.4.1 never returns from closing an encoder that got no
    /// picture (its threads wait for the first one), and complains when
    /// closed without the end of the stream: it is given a grey picture
    /// if it had none, then the end, and what it still returns is dropped.
    fn drop(&mut self) {
        if self.settings.codec != VideoCodec::Av1 || self.eof_sent {
            return;
        }
        if !self.sent_any {
            let input = self.settings.input;
            let mut grey = ff::frame::Video::new(Pixel::YUV420P, input.width, input.height);
            for plane in 0..grey.planes() {
                grey.data_mut(plane).fill(128);
            }
            grey.set_pts(Some(0));
            if self.encoder.send_frame(&grey).is_err() {
                return;
            }
        }
        if self.encoder.send_eof().is_ok() {
            // Each call returns a packet until the end-of-stream one.
            while self.encoder.receive_packet(&mut Packet::empty()).is_ok() {}
        }
    }
}

impl fmt::Debug for FfVideoEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FfVideoEncoder")
            .field("encoder", &self.config.encoder)
            .field("settings", &self.settings)
            .field("remembered", &self.clock.remembered())
            .field("ready", &self.ready.len())
            .field("reorder_delay", &self.reorder_delay)
            .field("flushed", &self.flushed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use makara_media::{PixelFormat, VideoFormat};

    #[test]
    fn h264_software_is_sent_to_makara_x264() {
        let settings = VideoSettings {
            codec: VideoCodec::H264,
            hardware: Hardware::Software,
            mpeg2_profile: makara_encode::Mpeg2Profile::Main,
            input: VideoFormat::new(320, 240, PixelFormat::I420, 30, 1).unwrap(),
            rate_control: makara_encode::RateControl::Cbr,
            bitrate_kbps: 500,
            max_bitrate_kbps: 500,
            vbv_buffer_ms: 500,
            gop_frames: 30,
            b_frames: 0,
            intra_refresh: false,
            preset: makara_encode::Preset::Veryfast,
            zero_latency: true,
        };
        let Err(EncodeError::Open(why)) = FfVideoEncoder::open(&settings) else {
            panic!("H.264 in software opened")
        };
        assert!(why.contains("makara-x264"), "{why}");
    }
}
