//! libavcodec through ffmpeg-next: the video and audio decoders, and the
//! conversions out of them (libswscale to the capture's one picture size
//! and layout, libswresample to 48 kHz stereo s16).

use ff::codec::{self, Id, Parameters};
use ff::format::{sample, Pixel, Sample};
use ff::software::{resampling, scaling};
use ff::{frame, ChannelLayout, Packet, Rational};
use ffmpeg_next as ff;
use makara_media::{Captions, VideoFormat};

use crate::sound::{CHANNELS, RATE};
use crate::timing::TICKS_PER_SEC;

/// The name of a codec in messages ("h264", "aac").
pub(crate) fn codec_name(id: Id) -> String {
    format!("{id:?}").to_ascii_lowercase()
}

/// FFmpeg's once-per-process set-up (only its table of error strings
/// since FFmpeg 4); FFmpeg's own log is kept to errors.
pub(crate) fn init() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Error);
    });
}

/// Opens a decoder context for `id`, from the demuxer's parameters when
/// there are any (RTSP's SDP carries H.264's parameter sets there).
fn context(id: Id, params: Option<Parameters>) -> Result<codec::Context, String> {
    let found = codec::decoder::find(id)
        .ok_or_else(|| format!("this FFmpeg has no {} decoder", codec_name(id)))?;
    let mut ctx = codec::Context::new_with_codec(found);
    if let Some(params) = params {
        ctx.set_parameters(params)
            .map_err(|e| format!("{} decoder: {e}", codec_name(id)))?;
    }
    Ok(ctx)
}

fn packet(data: &[u8], pts: Option<i64>, dts: Option<i64>) -> Packet {
    let mut packet = Packet::copy(data);
    packet.set_pts(pts);
    packet.set_dts(dts);
    packet
}

/// The closed captions (A/53 cc_data) the decoder found with a picture:
/// H.264 and HEVC SEI, MPEG-2 user data, AV1 T.35 metadata alike.
pub(crate) fn captions(picture: &frame::Video) -> Captions {
    picture
        .side_data(frame::side_data::Type::A53CC)
        .map_or_else(Captions::none, |side| Captions::from_cc_data(side.data()))
}

/// Whether FFmpeg says "give me more input" (or "that was all").
fn is_again(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::error::EAGAIN)
        || matches!(e, ff::Error::Eof)
}

/// An opened video decoder; packets and frames are stamped in 90 kHz ticks.
pub(crate) struct VideoDecoder {
    decoder: codec::decoder::Video,
    id: Id,
}

impl VideoDecoder {
    pub(crate) fn open(id: Id, params: Option<Parameters>) -> Result<VideoDecoder, String> {
        let mut decoder = context(id, params)?.decoder();
        decoder.set_packet_time_base(Rational::new(1, TICKS_PER_SEC as i32));
        let decoder = decoder
            .video()
            .map_err(|e| format!("{} decoder: {e}", codec_name(id)))?;
        Ok(VideoDecoder { decoder, id })
    }

    pub(crate) fn id(&self) -> Id {
        self.id
    }

    /// Sends one access unit. A damaged one is an error the caller counts;
    /// the decoder goes on with the next.
    pub(crate) fn send(
        &mut self,
        data: &[u8],
        pts: Option<i64>,
        dts: Option<i64>,
    ) -> Result<(), ff::Error> {
        match self.decoder.send_packet(&packet(data, pts, dts)) {
            Err(e) if is_again(&e) => Ok(()),
            other => other,
        }
    }

    /// The next decoded picture, if one is ready.
    pub(crate) fn receive(&mut self, frame: &mut frame::Video) -> Result<bool, ff::Error> {
        match self.decoder.receive_frame(frame) {
            Ok(()) => Ok(true),
            Err(e) if is_again(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Tells the decoder the input ended, so that `receive` gives the
    /// pictures it holds for reordering.
    pub(crate) fn drain(&mut self) -> Result<(), ff::Error> {
        match self.decoder.send_eof() {
            Err(e) if is_again(&e) => Ok(()),
            other => other,
        }
    }

    /// Forgets the pictures held for reordering: the input was lost.
    pub(crate) fn flush(&mut self) {
        self.decoder.flush();
    }

    /// The frame rate the stream declares (H.264/HEVC VUI timing, the
    /// MPEG-2 sequence header), if it is a usable one.
    pub(crate) fn frame_rate(&self) -> Option<(u32, u32)> {
        self.decoder.frame_rate().and_then(usable_rate)
    }
}

/// A frame rate the pipeline takes (1 to 240 fps), as a fraction.
pub(crate) fn usable_rate(r: Rational) -> Option<(u32, u32)> {
    let (num, den) = (
        u32::try_from(r.numerator()).ok()?,
        u32::try_from(r.denominator()).ok()?,
    );
    (num > 0 && den > 0 && num >= den && num / den <= 240).then_some((num, den))
}

/// An opened audio decoder with its resampler to 48 kHz stereo s16.
pub(crate) struct AudioDecoder {
    decoder: codec::decoder::Audio,
    id: Id,
    resampler: Option<Resampler>,
    decoded: frame::Audio,
}

/// The resampler for one input format; made again when the input changes.
struct Resampler {
    context: resampling::Context,
    from: (Sample, ChannelLayout, u32),
}

/// One decoded piece of sound: interleaved stereo at 48 kHz, and the
/// input time of its first sample (90 kHz ticks) if known.
pub(crate) struct Decoded {
    pub(crate) samples: Vec<i16>,
    pub(crate) pts: Option<i64>,
    /// Ticks the piece lasts at its own rate.
    pub(crate) duration: i64,
}

impl AudioDecoder {
    pub(crate) fn open(id: Id, params: Option<Parameters>) -> Result<AudioDecoder, String> {
        let mut decoder = context(id, params)?.decoder();
        decoder.set_packet_time_base(Rational::new(1, TICKS_PER_SEC as i32));
        let decoder = decoder
            .audio()
            .map_err(|e| format!("{} decoder: {e}", codec_name(id)))?;
        Ok(AudioDecoder {
            decoder,
            id,
            resampler: None,
            decoded: frame::Audio::empty(),
        })
    }

    pub(crate) fn id(&self) -> Id {
        self.id
    }

    /// Decodes one packet (a PES packet's payload may hold several coded
    /// frames: the decoder takes them one after another) and appends the
    /// sound to `out`.
    pub(crate) fn decode(
        &mut self,
        data: &[u8],
        pts: Option<i64>,
        out: &mut Vec<Decoded>,
    ) -> Result<(), String> {
        let name = codec_name(self.id);
        match self.decoder.send_packet(&packet(data, pts, pts)) {
            Ok(()) => {}
            Err(e) if is_again(&e) => {}
            Err(e) => return Err(format!("{name} decoder: {e}")),
        }
        loop {
            match self.decoder.receive_frame(&mut self.decoded) {
                Ok(()) => {}
                Err(e) if is_again(&e) => return Ok(()),
                Err(e) => return Err(format!("{name} decoder: {e}")),
            }
            let piece = self
                .resample()
                .map_err(|e| format!("{name} resampler: {e}"))?;
            out.push(piece);
        }
    }

    fn resample(&mut self) -> Result<Decoded, ff::Error> {
        let frame = &mut self.decoded;
        if frame.channel_layout().is_empty() {
            let channels = i32::from(frame.channels().max(1));
            frame.set_channel_layout(ChannelLayout::default(channels));
        }
        let from = (frame.format(), frame.channel_layout(), frame.rate().max(1));
        if self.resampler.as_ref().is_none_or(|r| r.from != from) {
            let context = resampling::Context::get(
                from.0,
                from.1,
                from.2,
                Sample::I16(sample::Type::Packed),
                ChannelLayout::STEREO,
                RATE as u32,
            )?;
            self.resampler = Some(Resampler { context, from });
        }
        let resampler = self.resampler.as_mut().expect("made above");
        // Room for every sample the input makes at 48 kHz, and what the
        // resampler held back from the last call.
        let room = frame.samples() * RATE as usize / from.2 as usize + 256;
        let mut output = frame::Audio::new(
            Sample::I16(sample::Type::Packed),
            room,
            ChannelLayout::STEREO,
        );
        resampler.context.run(frame, &mut output)?;
        let values = output.samples() * CHANNELS;
        let samples = output.data(0)[..values * 2]
            .chunks_exact(2)
            .map(|b| i16::from_ne_bytes([b[0], b[1]]))
            .collect();
        Ok(Decoded {
            samples,
            pts: frame.pts(),
            duration: frame.samples() as i64 * TICKS_PER_SEC / i64::from(from.2),
        })
    }
}

/// Writes decoded pictures into frame buffers of one fixed I420 format,
/// scaling (and converting the layout) when a picture differs from it.
pub(crate) struct Pictures {
    target: VideoFormat,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    scaled: frame::Video,
}

impl Pictures {
    pub(crate) fn new(target: VideoFormat) -> Pictures {
        Pictures {
            target,
            scaler: None,
            scaled: frame::Video::empty(),
        }
    }

    /// Fills `out` (one frame of the target format) from `picture`.
    pub(crate) fn write(&mut self, picture: &frame::Video, out: &mut [u8]) -> Result<(), String> {
        let (w, h) = (self.target.width, self.target.height);
        let direct = matches!(picture.format(), Pixel::YUV420P | Pixel::YUVJ420P)
            && picture.width() == w
            && picture.height() == h;
        if direct {
            copy_planes(picture, &self.target, out);
            return Ok(());
        }
        let from = (picture.format(), picture.width(), picture.height());
        if self.scaler.as_ref().is_none_or(|(_, f)| *f != from) {
            let context = scaling::Context::get(
                from.0,
                from.1,
                from.2,
                Pixel::YUV420P,
                w,
                h,
                scaling::Flags::BILINEAR,
            )
            .map_err(|e| {
                format!(
                    "cannot convert {}x{} {:?} pictures to {w}x{h} I420: {e}",
                    from.1, from.2, from.0
                )
            })?;
            self.scaler = Some((context, from));
            self.scaled = frame::Video::empty();
        }
        let (context, _) = self.scaler.as_mut().expect("made above");
        context
            .run(picture, &mut self.scaled)
            .map_err(|e| format!("picture conversion: {e}"))?;
        copy_planes(&self.scaled, &self.target, out);
        Ok(())
    }
}

/// Copies the three planes of an I420 picture of the target's size into
/// a tightly packed frame buffer.
fn copy_planes(picture: &frame::Video, target: &VideoFormat, out: &mut [u8]) {
    for (i, plane) in target.planes().iter().enumerate() {
        let src = picture.data(i);
        let stride = picture.stride(i);
        let dst = &mut out[plane.offset..][..plane.len()];
        for (row, line) in dst.chunks_exact_mut(plane.stride).enumerate() {
            line.copy_from_slice(&src[row * stride..][..plane.stride]);
        }
    }
}
