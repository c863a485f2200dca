//! Transcoders: how a stream is encoded.

use serde::{Deserialize, Serialize};

use crate::input::even;
use crate::invalid::{required, Invalid};
use crate::range::{minus_one_or, Limits};
use crate::text::NAME;

pub const RESOLUTION_MODE: Limits = Limits::new("resolutionMode", 1, 3);
pub const WIDTH: Limits = Limits::new("width", 16, 3840);
pub const HEIGHT: Limits = Limits::new("height", 16, 2160);
pub const FRAME_RATE: Limits = Limits::new("frameRate", -1, 60);
pub const VIDEO_BITRATE_KBPS: Limits = Limits::new("videoBitrate", 150, 15000);
pub const GOP_SIZE: Limits = Limits::new("gopSize", 0, 1000);
pub const AUDIO_BITRATE_KBPS: Limits = Limits::new("audioBitrate", 14, 576);
pub const B_FRAMES: Limits = Limits::new("bFrame", -1, 3);
pub const QUALITY_LEVEL: Limits = Limits::new("qualityLevel", 1, 10);
pub const INTERLEAVE_ADJUSTMENT_MS: Limits = Limits::new("interleaveAdjustmentMs", -5000, 5000);
pub const JITTER_BUFFER_MS: Limits = Limits::new("jitterBufferMs", 0, 10000);
pub const OUTPUT_PACING_INTERVAL_MS: Limits = Limits::new("outputPacingInterval", 1, 1000);
pub const SHAPING_BITRATE_KBPS: Limits = Limits::new("shapingBitrate", 150, 15000);
pub const SHAPING_MAX_PERCENT: Limits = Limits::new("shapingMaxBitratePercent", 1, 400);
pub const SHAPING_TARGET_PERCENT: Limits = Limits::new("shapingTargetBitratePercent", 1, 100);
/// At most 1 s at the peak rate: the T-STD of ISO/IEC 13818-1 lets no
/// byte wait longer than 1 s in a receiver's video buffer, and a larger
/// VBV lets the encoder make pictures that take longer than that to
/// arrive at the peak rate. At least 20 ms, a little more than one frame
/// at 60 fps: the low-latency setting (docs/media-engine.md) uses a VBV
/// of one or two frames, and x264 cannot keep a VBV below one picture.
pub const SHAPING_VBV_MS: Limits = Limits::new("shapingVbvSizeMs", 20, 1000);
pub const SHAPING_BUFFERING_MS: Limits = Limits::new("shapingBufferingIntervalMs", 100, 10000);

pub const DEFAULT_FRAME_RATE: i64 = 30;
pub const DEFAULT_VIDEO_BITRATE_KBPS: i64 = 3000;
pub const DEFAULT_GOP_SIZE: i64 = 30;
pub const DEFAULT_AUDIO_BITRATE_KBPS: i64 = 256;
pub const DEFAULT_INTERLEAVE_ADJUSTMENT_MS: i64 = -1;
pub const DEFAULT_JITTER_BUFFER_MS: i64 = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoType {
    Avc,
    Hevc,
    Mpeg2Video,
    /// AV1: a Makara extension to the contract's three video types.
    Av1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EncodingProfile {
    Vbr,
    Cbr,
    Performance,
    Balanced,
    Quality,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EncoderType {
    /// Software (CPU) encoding.
    Unset,
    /// Intel Quick Sync, through the GPU's render node.
    Qsv,
    /// VA-API (Intel, AMD), through the GPU's render node: a Makara
    /// extension.
    Vaapi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoProfile {
    Unset,
    Mpeg2Main,
    Mpeg2Simple,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AudioType {
    /// The codec's usual choice: AAC for avc/hevc, MPEG-1 Layer II for mpeg2video.
    Unset,
    Mpeg1Layer2,
    Mpeg2AacAdts,
}

/// Output picture size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResolutionMode {
    Custom { width: u32, height: u32 },
    DetectOnStart,
    DetectContinuously,
}

impl ResolutionMode {
    /// The Kraken number of the mode.
    pub fn code(&self) -> i64 {
        match self {
            ResolutionMode::Custom { .. } => 1,
            ResolutionMode::DetectOnStart => 2,
            ResolutionMode::DetectContinuously => 3,
        }
    }
}

/// Traffic shaping (VBV) settings; `-1` means "encoder default".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shaping {
    pub bitrate_kbps: i32,
    pub max_bitrate_percent: i32,
    pub target_bitrate_percent: i32,
    pub vbv_size_ms: i32,
    pub buffering_interval_ms: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscoderRequest {
    pub name: Option<String>,
    pub resolution_mode: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub frame_rate: Option<i64>,
    pub video_bitrate_kbps: Option<i64>,
    pub gop_size: Option<i64>,
    pub metadata: Option<bool>,
    pub audio: Option<bool>,
    pub video_type: Option<VideoType>,
    pub audio_bitrate_kbps: Option<i64>,
    pub b_frames: Option<i64>,
    pub quality_level: Option<i64>,
    pub intra_refresh: Option<bool>,
    pub encoding_profile: Option<EncodingProfile>,
    pub encoder_type: Option<EncoderType>,
    pub interleave_adjustment_ms: Option<i64>,
    pub jitter_buffer_ms: Option<i64>,
    pub video_profile: Option<VideoProfile>,
    pub audio_type: Option<AudioType>,
    pub output_pacing: Option<bool>,
    pub output_pacing_interval_ms: Option<i64>,
    pub shaping_bitrate_kbps: Option<i64>,
    pub shaping_max_bitrate_percent: Option<i64>,
    pub shaping_target_bitrate_percent: Option<i64>,
    pub shaping_vbv_size_ms: Option<i64>,
    pub shaping_buffering_interval_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscoderConfig {
    pub name: String,
    pub resolution: ResolutionMode,
    /// -1: detect continuously, 0: detect on start, 1-60: fixed.
    pub frame_rate: i32,
    pub video_bitrate_kbps: u32,
    /// Frames between keyframes; 0 lets the encoder choose.
    pub gop_size: u32,
    pub metadata: bool,
    pub audio: bool,
    pub video_type: VideoType,
    pub audio_bitrate_kbps: u32,
    /// -1: encoder chooses; 0-3: B-frames between references.
    pub b_frames: i32,
    pub quality_level: Option<u8>,
    pub intra_refresh: bool,
    pub encoding_profile: EncodingProfile,
    pub encoder_type: EncoderType,
    /// -1: the transcoder decides.
    pub interleave_adjustment_ms: i32,
    pub jitter_buffer_ms: u32,
    pub video_profile: VideoProfile,
    pub audio_type: AudioType,
    pub output_pacing: bool,
    /// -1: automatic.
    pub output_pacing_interval_ms: i32,
    pub shaping: Shaping,
}

impl TranscoderRequest {
    /// Fields left out take their documented defaults: a PUT replaces the
    /// whole transcoder, as the contract says.
    pub fn validate(self) -> Result<TranscoderConfig, Invalid> {
        let name = NAME.required(self.name.clone())?;
        let video_type = self.video_type.unwrap_or(VideoType::Avc);
        let encoding_profile = self.profile(video_type)?;
        let encoder_type = self.encoder_type.unwrap_or(EncoderType::Unset);
        if encoder_type != EncoderType::Unset && video_type == VideoType::Av1 {
            return Err(Invalid::NotAllowed {
                field: "encoderType",
                reason: "other than unset (software) when videoType is av1: AV1 is encoded by SVT-AV1 on the CPU".into(),
            });
        }
        let video_profile = self.video_profile.unwrap_or(VideoProfile::Unset);
        if video_profile != VideoProfile::Unset && video_type != VideoType::Mpeg2Video {
            return Err(Invalid::NotAllowed {
                field: "videoProfile",
                reason: "unless videoType is mpeg2video".into(),
            });
        }
        self.codec_limits(video_type)?;
        if video_profile == VideoProfile::Mpeg2Simple && self.b_frames.is_some_and(|b| b > 0) {
            return Err(Invalid::NotAllowed {
                field: "bFrame",
                reason:
                    "above 0 with videoProfile mpeg2_simple: the Simple profile has no B pictures"
                        .into(),
            });
        }
        Ok(TranscoderConfig {
            name,
            resolution: self.resolution()?,
            frame_rate: FRAME_RATE.or_default(self.frame_rate, DEFAULT_FRAME_RATE)? as i32,
            video_bitrate_kbps: VIDEO_BITRATE_KBPS
                .or_default(self.video_bitrate_kbps, DEFAULT_VIDEO_BITRATE_KBPS)?
                as u32,
            gop_size: GOP_SIZE.or_default(self.gop_size, DEFAULT_GOP_SIZE)? as u32,
            metadata: self.metadata.unwrap_or(false),
            audio: self.audio.unwrap_or(true),
            video_type,
            audio_bitrate_kbps: AUDIO_BITRATE_KBPS
                .or_default(self.audio_bitrate_kbps, DEFAULT_AUDIO_BITRATE_KBPS)?
                as u32,
            b_frames: B_FRAMES.or_default(self.b_frames, -1)? as i32,
            quality_level: self
                .quality_level
                .map(|q| QUALITY_LEVEL.check_as(q))
                .transpose()?,
            intra_refresh: self.intra_refresh.unwrap_or(false),
            encoding_profile,
            encoder_type,
            interleave_adjustment_ms: INTERLEAVE_ADJUSTMENT_MS.or_default(
                self.interleave_adjustment_ms,
                DEFAULT_INTERLEAVE_ADJUSTMENT_MS,
            )? as i32,
            jitter_buffer_ms: JITTER_BUFFER_MS
                .or_default(self.jitter_buffer_ms, DEFAULT_JITTER_BUFFER_MS)?
                as u32,
            video_profile,
            audio_type: self.audio_type.unwrap_or(AudioType::Unset),
            output_pacing: self.output_pacing.unwrap_or(true),
            output_pacing_interval_ms: minus_one_or(
                OUTPUT_PACING_INTERVAL_MS,
                self.output_pacing_interval_ms,
            )?,
            shaping: self.shaping()?,
        })
    }

    fn resolution(&self) -> Result<ResolutionMode, Invalid> {
        let size_given = self.width.is_some() || self.height.is_some();
        // A resolution without a mode can only mean Custom.
        let default_mode = if size_given { 1 } else { 3 };
        match RESOLUTION_MODE.or_default(self.resolution_mode, default_mode)? {
            1 => {
                let width = WIDTH.check(required(self.width, "width")?)?;
                let height = HEIGHT.check(required(self.height, "height")?)?;
                even("width", width)?;
                even("height", height)?;
                Ok(ResolutionMode::Custom {
                    width: width as u32,
                    height: height as u32,
                })
            }
            mode if size_given => Err(Invalid::NotAllowed {
                field: "resolution",
                reason: format!("with resolutionMode {mode}; it needs resolutionMode 1 (Custom)"),
            }),
            2 => Ok(ResolutionMode::DetectOnStart),
            _ => Ok(ResolutionMode::DetectContinuously),
        }
    }

    /// What a codec's encoder cannot do at all, refused when the
    /// transcoder is saved rather than when a stream starts.
    fn codec_limits(&self, video_type: VideoType) -> Result<(), Invalid> {
        let refresh = self.intra_refresh == Some(true);
        match video_type {
            VideoType::Av1 if self.b_frames.is_some_and(|b| b > 0) => Err(Invalid::NotAllowed {
                field: "bFrame",
                reason: "above 0 with videoType av1: live AV1 is encoded in low delay, \
                         which never reorders pictures"
                    .into(),
            }),
            VideoType::Av1 if refresh => Err(Invalid::NotAllowed {
                field: "enableIntraRefresh",
                reason: "with videoType av1: SVT-AV1 has no intra refresh".into(),
            }),
            VideoType::Mpeg2Video if refresh => Err(Invalid::NotAllowed {
                field: "enableIntraRefresh",
                reason: "with videoType mpeg2video: its encoder has no intra refresh".into(),
            }),
            _ => Ok(()),
        }
    }

    fn profile(&self, video_type: VideoType) -> Result<EncodingProfile, Invalid> {
        match (self.encoding_profile, video_type) {
            (None, VideoType::Hevc) => Ok(EncodingProfile::Balanced),
            // Live AV1 (SVT-AV1's low-delay mode) has constant bitrate only.
            (None, VideoType::Av1) => Ok(EncodingProfile::Cbr),
            (None, _) => Ok(EncodingProfile::Vbr),
            (
                Some(EncodingProfile::Vbr),
                VideoType::Hevc | VideoType::Mpeg2Video | VideoType::Av1,
            ) => Err(Invalid::NotAllowed {
                field: "encodingProfile",
                reason: "vbr unless videoType is avc".into(),
            }),
            (Some(p), _) => Ok(p),
        }
    }

    fn shaping(&self) -> Result<Shaping, Invalid> {
        Ok(Shaping {
            bitrate_kbps: minus_one_or(SHAPING_BITRATE_KBPS, self.shaping_bitrate_kbps)?,
            max_bitrate_percent: minus_one_or(
                SHAPING_MAX_PERCENT,
                self.shaping_max_bitrate_percent,
            )?,
            target_bitrate_percent: minus_one_or(
                SHAPING_TARGET_PERCENT,
                self.shaping_target_bitrate_percent,
            )?,
            vbv_size_ms: minus_one_or(SHAPING_VBV_MS, self.shaping_vbv_size_ms)?,
            buffering_interval_ms: minus_one_or(
                SHAPING_BUFFERING_MS,
                self.shaping_buffering_interval_ms,
            )?,
        })
    }
}

#[cfg(test)]
mod tests;
