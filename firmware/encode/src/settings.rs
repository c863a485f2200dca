//! From a Kraken transcoder to concrete encoder settings. This is where
//! `encodingProfile`, `qualityLevel` and the `shaping*` properties get their
//! meaning; docs/media-engine.md carries the same table for operators.

use makara_config::{
    EncoderType, EncodingProfile, ResolutionMode, TranscoderConfig, VideoProfile, VideoType,
};
use makara_media::{PixelFormat, VideoCodec, VideoFormat, VideoFormatError};

use crate::video::EncodeError;
use thiserror::Error;

/// x264's speed/quality presets, fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Preset {
    Ultrafast,
    Superfast,
    Veryfast,
    Faster,
    Fast,
    Medium,
    Slow,
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Ultrafast => "ultrafast",
            Preset::Superfast => "superfast",
            Preset::Veryfast => "veryfast",
            Preset::Faster => "faster",
            Preset::Fast => "fast",
            Preset::Medium => "medium",
            Preset::Slow => "slow",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        [
            Preset::Ultrafast,
            Preset::Superfast,
            Preset::Veryfast,
            Preset::Faster,
            Preset::Fast,
            Preset::Medium,
            Preset::Slow,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// `qualityLevel` 1 (fastest) to 10 (best).
    fn from_quality_level(level: u8) -> Preset {
        match level {
            0..=1 => Preset::Ultrafast,
            2 => Preset::Superfast,
            3..=4 => Preset::Veryfast,
            5..=6 => Preset::Faster,
            7 => Preset::Fast,
            8..=9 => Preset::Medium,
            _ => Preset::Slow,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateControl {
    /// Constant bitrate with HRD signalling and filler: what a contribution
    /// link budgets for.
    Cbr,
    /// Average bitrate, capped by the VBV maximum rate.
    Vbr,
}

/// Where the pictures are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hardware {
    /// On the CPU, by the codec's software library.
    Software,
    /// Intel Quick Sync Video.
    Qsv,
    /// VA-API (Intel, AMD).
    Vaapi,
}

/// The MPEG-2 video profile (ISO/IEC 13818-2 §8): Simple has no B
/// pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mpeg2Profile {
    Main,
    Simple,
}

/// Everything a video encoder needs, resolved: no "automatic" left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSettings {
    pub codec: VideoCodec,
    pub hardware: Hardware,
    /// Only for MPEG-2 video; `Main` unless videoProfile says Simple.
    pub mpeg2_profile: Mpeg2Profile,
    /// The pictures the encoder receives (after any scaling).
    pub input: VideoFormat,
    pub rate_control: RateControl,
    pub bitrate_kbps: u32,
    /// VBV maximum rate.
    pub max_bitrate_kbps: u32,
    /// VBV buffer size, in milliseconds at the maximum rate.
    pub vbv_buffer_ms: u32,
    /// Frames between keyframes; keyframes come exactly this often.
    pub gop_frames: u32,
    pub b_frames: u32,
    pub intra_refresh: bool,
    pub preset: Preset,
    /// No lookahead and no frame delay: the contribution default.
    pub zero_latency: bool,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum VideoSettingsError {
    #[error("the output frame rate must be fixed (frameRate 1-60) or come from the input")]
    FrameRate,
    #[error(transparent)]
    Format(#[from] VideoFormatError),
}

/// Default VBV buffer: long enough for x264 to spend bits where the
/// picture needs them, short enough for a low-latency receiver.
const DEFAULT_VBV_MS: u32 = 500;
const QUALITY_VBV_MS: u32 = 1000;
/// VBR may peak this far above its average unless shaping says otherwise.
const DEFAULT_VBR_PEAK_PERCENT: u32 = 150;

impl VideoSettings {
    /// Settings for encoding `source` pictures with `t`. The output size is
    /// the transcoder's custom resolution, else the source's; the output
    /// rate its fixed frameRate, else the source's.
    pub fn from_transcoder(
        t: &TranscoderConfig,
        source: VideoFormat,
    ) -> Result<VideoSettings, VideoSettingsError> {
        let (width, height) = match t.resolution {
            ResolutionMode::Custom { width, height } => (width, height),
            _ => (source.width, source.height),
        };
        let (fps_num, fps_den) = match t.frame_rate {
            1..=60 => (t.frame_rate as u32, 1),
            _ => (source.fps_num, source.fps_den),
        };
        // x264 reads planar 4:2:0 (I420, NV12) straight from the frame ring.
        // Packed 4:2:2 sources and scaled pictures go through the converter,
        // which writes I420.
        let same_size = (width, height) == (source.width, source.height);
        // The other codecs' libraries read only I420.
        let pixel_format = match (source.pixel_format, t.video_type) {
            (PixelFormat::I420, _) | (PixelFormat::Nv12, VideoType::Avc) if same_size => {
                source.pixel_format
            }
            _ => PixelFormat::I420,
        };
        let input = VideoFormat::new(width, height, pixel_format, fps_num, fps_den)?;
        let quality = t.encoding_profile == EncodingProfile::Quality;
        // Live AV1 has constant bitrate only (SVT-AV1's low-delay mode):
        // there the profile picks only the preset.
        let rate_control = match (t.encoding_profile, t.video_type) {
            (EncodingProfile::Cbr, _) | (_, VideoType::Av1) => RateControl::Cbr,
            _ => RateControl::Vbr,
        };
        let preset = t.quality_level.map_or_else(
            || profile_preset(t.encoding_profile),
            Preset::from_quality_level,
        );
        let bitrate_kbps = target_bitrate(t);
        let mpeg2_profile = match t.video_profile {
            VideoProfile::Mpeg2Simple => Mpeg2Profile::Simple,
            VideoProfile::Unset | VideoProfile::Mpeg2Main => Mpeg2Profile::Main,
        };
        Ok(VideoSettings {
            codec: codec(t.video_type),
            hardware: match t.encoder_type {
                EncoderType::Unset => Hardware::Software,
                EncoderType::Qsv => Hardware::Qsv,
                EncoderType::Vaapi => Hardware::Vaapi,
            },
            mpeg2_profile,
            input,
            rate_control,
            bitrate_kbps,
            max_bitrate_kbps: max_bitrate(t, rate_control, bitrate_kbps),
            vbv_buffer_ms: match t.shaping.vbv_size_ms {
                ms if ms > 0 => ms as u32,
                _ if quality => QUALITY_VBV_MS,
                _ => DEFAULT_VBV_MS,
            },
            gop_frames: match t.gop_size {
                // "0: the encoder chooses": two seconds.
                0 => (2 * fps_num).div_ceil(fps_den),
                n => n,
            },
            b_frames: match t.b_frames {
                // Simple profile has no B pictures (ISO/IEC 13818-2 §8.2).
                _ if t.video_type == VideoType::Mpeg2Video
                    && mpeg2_profile == Mpeg2Profile::Simple =>
                {
                    0
                }
                n if n >= 0 => n as u32,
                // Low-delay AV1 never reorders pictures.
                _ if t.video_type == VideoType::Av1 => 0,
                _ if quality => 3,
                _ => 0,
            },
            intra_refresh: t.intra_refresh,
            preset,
            zero_latency: !quality,
        })
    }
}

impl VideoSettings {
    /// What settings made by hand (the fields are public) could get
    /// wrong, checked again by each encoder before it opens: the picture
    /// format, and a bitrate, VBV and GOP of at least one.
    pub fn check(&self) -> Result<(), EncodeError> {
        let input = self.input;
        VideoFormat::new(
            input.width,
            input.height,
            input.pixel_format,
            input.fps_num,
            input.fps_den,
        )
        .map_err(|e| EncodeError::Open(e.to_string()))?;
        let refuse = |why: &str| Err(EncodeError::Open(why.into()));
        if self.bitrate_kbps == 0 {
            return refuse("the bitrate must be at least 1 kbit/s");
        }
        if self.vbv_buffer_ms == 0 {
            return refuse("the VBV buffer must be at least 1 ms");
        }
        if self.gop_frames == 0 {
            return refuse("the GOP must be at least 1 frame");
        }
        Ok(())
    }

    /// The VBV maximum rate: CBR holds the rate at the bitrate (with HRD
    /// signalling a higher maximum would turn it into VBR); VBR may peak
    /// up to the maximum, never below the bitrate.
    pub fn vbv_max_kbps(&self) -> u32 {
        match self.rate_control {
            RateControl::Cbr => self.bitrate_kbps,
            RateControl::Vbr => self.max_bitrate_kbps.max(self.bitrate_kbps),
        }
    }
}

fn codec(video_type: VideoType) -> VideoCodec {
    match video_type {
        VideoType::Avc => VideoCodec::H264,
        VideoType::Hevc => VideoCodec::Hevc,
        VideoType::Mpeg2Video => VideoCodec::Mpeg2,
        VideoType::Av1 => VideoCodec::Av1,
    }
}

fn profile_preset(profile: EncodingProfile) -> Preset {
    match profile {
        EncodingProfile::Performance => Preset::Superfast,
        EncodingProfile::Vbr | EncodingProfile::Cbr | EncodingProfile::Balanced => Preset::Veryfast,
        EncodingProfile::Quality => Preset::Medium,
    }
}

/// `shapingTargetBitratePercent` scales the video bitrate down, leaving
/// room in a shaped link for audio and overhead.
fn target_bitrate(t: &TranscoderConfig) -> u32 {
    match t.shaping.target_bitrate_percent {
        p if p > 0 => (t.video_bitrate_kbps * p as u32 / 100).max(1),
        _ => t.video_bitrate_kbps,
    }
}

fn max_bitrate(t: &TranscoderConfig, rc: RateControl, bitrate: u32) -> u32 {
    if t.shaping.bitrate_kbps > 0 {
        return (t.shaping.bitrate_kbps as u32).max(bitrate);
    }
    if t.shaping.max_bitrate_percent > 0 {
        return (t.video_bitrate_kbps * t.shaping.max_bitrate_percent as u32 / 100).max(bitrate);
    }
    match rc {
        RateControl::Cbr => bitrate,
        RateControl::Vbr => bitrate * DEFAULT_VBR_PEAK_PERCENT / 100,
    }
}

#[cfg(test)]
mod tests;
