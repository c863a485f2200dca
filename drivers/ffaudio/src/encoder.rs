//! [`FfAudioEncoder`]: framing, sample conversion, timestamps and ADTS
//! around one opened libavcodec encoder.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Once;

use ff::codec::encoder::audio::Encoder as OpenedAudio;
use ff::format::sample::Type as SampleLayout;
use ff::format::Sample;
use ff::{ChannelLayout, Dictionary, Packet};
use ffmpeg_next as ff;
use makara_encode::{AudioEncoder, AudioSettings, EncodeError, RawAudio};
use makara_media::{AudioCodec, Clock90k, EncodedAudio, CLOCK_90K_HZ};

use crate::adts::AdtsConfig;

/// An opened FFmpeg audio encoder: `aac` (AAC-LC, ADTS-framed output) or
/// `mp2` (MPEG-1 Layer II), by [`AudioSettings::codec`].
pub struct FfAudioEncoder {
    encoder: OpenedAudio,
    codec: AudioCodec,
    /// Sample format and channel layout of the frames we hand FFmpeg.
    format: Sample,
    layout: ChannelLayout,
    sample_rate: u32,
    channels: usize,
    /// Samples per channel in one coded frame.
    frame_samples: usize,
    /// AAC only: what each ADTS header says.
    adts: Option<AdtsConfig>,
    /// Interleaved samples short of one whole frame, kept for the next call.
    pending: Vec<i16>,
    /// The PTS of the first sample ever sent.
    origin: Option<Clock90k>,
    /// Samples per channel handed to the encoder so far: the next frame's
    /// PTS in the encoder's time base (1 / sample rate).
    sent: i64,
    flushed: bool,
    ready: VecDeque<EncodedAudio>,
}

impl FfAudioEncoder {
    /// Opens FFmpeg's native encoder for `settings.codec` at
    /// `settings.bitrate_kbps` (constant bitrate for Layer II, average
    /// bitrate for AAC).
    ///
    /// Fails with [`EncodeError::Open`] naming the settings and FFmpeg's
    /// reason (FFmpeg logs its detailed message to stderr).
    pub fn open(settings: AudioSettings) -> Result<FfAudioEncoder, EncodeError> {
        static INIT: Once = Once::new();
        // Fills ffmpeg-next's table of error strings; nothing else is
        // needed since FFmpeg 4.
        INIT.call_once(|| {
            let _ = ff::init();
        });

        let AudioSettings {
            codec,
            bitrate_kbps,
            sample_rate,
            channels,
        } = settings;
        let open_error = |why: &dyn fmt::Display| {
            EncodeError::Open(format!(
                "{} at {sample_rate} Hz, {channels} channel(s), {bitrate_kbps} kbit/s: {why}",
                codec_name(codec)
            ))
        };

        let layout = match channels {
            1 => ChannelLayout::MONO,
            2 => ChannelLayout::STEREO,
            _ => return Err(open_error(&"only mono and stereo are supported")),
        };
        let (format, adts) = match codec {
            AudioCodec::AacAdts => {
                let adts = AdtsConfig::aac_lc(sample_rate, channels).ok_or_else(|| {
                    open_error(&"ADTS has no sampling_frequency_index for the rate")
                })?;
                (Sample::F32(SampleLayout::Planar), Some(adts))
            }
            AudioCodec::Mp2 => (Sample::I16(SampleLayout::Packed), None),
        };
        let rate = i32::try_from(sample_rate).map_err(|_| open_error(&"rate out of range"))?;

        let found = ff::encoder::find_by_name(codec_name(codec))
            .ok_or_else(|| open_error(&"this FFmpeg has no such encoder"))?;
        let mut ctx = ff::codec::Context::new_with_codec(found)
            .encoder()
            .audio()
            .map_err(|e| open_error(&e))?;
        ctx.set_rate(rate);
        ctx.set_format(format);
        ctx.set_channel_layout(layout);
        ctx.set_time_base((1, rate));
        ctx.set_bit_rate(bitrate_kbps as usize * 1000);
        let mut options = Dictionary::new();
        if adts.is_some() {
            // The ADTS headers say AAC-LC; make sure the encoder agrees.
            options.set("profile", "aac_low");
        }
        let encoder = ctx.open_with(options).map_err(|e| open_error(&e))?;

        let frame_samples = encoder.frame_size() as usize;
        if frame_samples == 0 {
            return Err(open_error(&"the encoder takes frames of any size"));
        }
        Ok(FfAudioEncoder {
            encoder,
            codec,
            format,
            layout,
            sample_rate,
            channels: usize::from(channels),
            frame_samples,
            adts,
            pending: Vec::new(),
            origin: None,
            sent: 0,
            flushed: false,
            ready: VecDeque::new(),
        })
    }

    /// The codec this encoder makes.
    pub fn codec(&self) -> AudioCodec {
        self.codec
    }

    /// Interleaved values (samples × channels) in one coded frame.
    fn frame_len(&self) -> usize {
        self.frame_samples * self.channels
    }

    /// Converts one whole frame of interleaved samples into FFmpeg's layout,
    /// sends it, and collects whatever packets come out.
    fn encode_frame(&mut self, interleaved: &[i16]) -> Result<(), EncodeError> {
        debug_assert_eq!(interleaved.len(), self.frame_len());
        // A fresh frame each time: the encoder may still hold a reference
        // to the previous one's buffer.
        let mut frame = ff::frame::Audio::new(self.format, self.frame_samples, self.layout);
        frame.set_rate(self.sample_rate);
        frame.set_pts(Some(self.sent));
        match self.format {
            Sample::F32(SampleLayout::Planar) => {
                for ch in 0..self.channels {
                    let plane = frame.plane_mut::<f32>(ch);
                    for (out, s) in plane
                        .iter_mut()
                        .zip(interleaved.iter().skip(ch).step_by(self.channels))
                    {
                        *out = f32::from(*s) / 32768.0;
                    }
                }
            }
            _ => frame.plane_mut::<i16>(0).copy_from_slice(interleaved),
        }
        self.sent += self.frame_samples as i64;
        self.encoder
            .send_frame(&frame)
            .map_err(|e| EncodeError::Encode(format!("{}: {e}", codec_name(self.codec))))?;
        self.drain()
    }

    /// Moves every packet the encoder has ready into `ready`.
    fn drain(&mut self) -> Result<(), EncodeError> {
        loop {
            let mut packet = Packet::empty();
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => self.take(&packet)?,
                Err(ff::Error::Other { errno }) if errno == ff::error::EAGAIN => return Ok(()),
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => {
                    return Err(EncodeError::Encode(format!(
                        "{}: {e}",
                        codec_name(self.codec)
                    )))
                }
            }
        }
    }

    /// Stamps one packet and frames it for the wire.
    fn take(&mut self, packet: &Packet) -> Result<(), EncodeError> {
        let encode_error =
            |why: &str| EncodeError::Encode(format!("{}: {why}", codec_name(self.codec)));
        let pts = packet
            .pts()
            .ok_or_else(|| encode_error("a packet without a timestamp"))?;
        let Some(pts) = self
            .origin
            .and_then(|origin| to_90k(origin, pts, self.sample_rate))
        else {
            // Stamped before the 90 kHz clock's zero: dropped (see lib.rs).
            return Ok(());
        };
        let payload = packet.data().unwrap_or_default();
        let data = match &self.adts {
            Some(adts) => {
                let header = adts
                    .header(payload.len())
                    .ok_or_else(|| encode_error("a frame too long for ADTS"))?;
                let mut data = Vec::with_capacity(header.len() + payload.len());
                data.extend_from_slice(&header);
                data.extend_from_slice(payload);
                data
            }
            None => payload.to_vec(),
        };
        self.ready.push_back(EncodedAudio { data, pts });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), EncodeError> {
        if self.flushed {
            return Ok(());
        }
        self.flushed = true;
        if !self.pending.is_empty() {
            let mut last = std::mem::take(&mut self.pending);
            last.resize(self.frame_len(), 0);
            self.encode_frame(&last)?;
        }
        self.encoder
            .send_eof()
            .map_err(|e| EncodeError::Encode(format!("{}: {e}", codec_name(self.codec))))?;
        self.drain()
    }
}

/// `origin` moved by `samples` (negative for priming) at `sample_rate`,
/// on the 90 kHz clock; `None` before its zero. Computed from the whole
/// count each time, so rounding never accumulates.
pub(crate) fn to_90k(origin: Clock90k, samples: i64, sample_rate: u32) -> Option<Clock90k> {
    let ticks =
        (i128::from(samples) * i128::from(CLOCK_90K_HZ)).div_euclid(i128::from(sample_rate));
    u64::try_from(i128::from(origin.0) + ticks)
        .ok()
        .map(Clock90k)
}

fn codec_name(codec: AudioCodec) -> &'static str {
    match codec {
        AudioCodec::AacAdts => "aac",
        AudioCodec::Mp2 => "mp2",
    }
}

impl AudioEncoder for FfAudioEncoder {
    /// Takes any number of whole sample frames (a multiple of the channel
    /// count), or `None` to pad the last frame with silence and flush.
    fn send_samples(&mut self, audio: Option<RawAudio<'_>>) -> Result<(), EncodeError> {
        let Some(audio) = audio else {
            return self.flush();
        };
        if self.flushed {
            return Err(EncodeError::Encode(format!(
                "{}: samples sent after the end of the stream",
                codec_name(self.codec)
            )));
        }
        if audio.samples.len() % self.channels != 0 {
            return Err(EncodeError::Encode(format!(
                "{} interleaved values do not make whole {}-channel samples",
                audio.samples.len(),
                self.channels
            )));
        }
        if audio.samples.is_empty() {
            return Ok(());
        }
        self.origin.get_or_insert(audio.pts);

        let frame_len = self.frame_len();
        let mut input = audio.samples;
        if !self.pending.is_empty() {
            let take = (frame_len - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() < frame_len {
                return Ok(());
            }
            let whole = std::mem::take(&mut self.pending);
            self.encode_frame(&whole)?;
            // Keep the allocation for the next partial frame.
            self.pending = whole;
            self.pending.clear();
        }
        let mut frames = input.chunks_exact(frame_len);
        for frame in &mut frames {
            self.encode_frame(frame)?;
        }
        self.pending.extend_from_slice(frames.remainder());
        Ok(())
    }

    fn receive(&mut self) -> Result<Option<EncodedAudio>, EncodeError> {
        Ok(self.ready.pop_front())
    }

    fn frame_samples(&self) -> usize {
        self.frame_samples
    }
}

impl fmt::Debug for FfAudioEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FfAudioEncoder")
            .field("codec", &self.codec)
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .field("frame_samples", &self.frame_samples)
            .field("origin", &self.origin)
            .field("sent", &self.sent)
            .field("pending", &(self.pending.len() / self.channels))
            .field("ready", &self.ready.len())
            .field("flushed", &self.flushed)
            .finish_non_exhaustive()
    }
}
