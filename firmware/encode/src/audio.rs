//! The audio encoder trait and settings from a Kraken transcoder.

use makara_config::{AudioType, TranscoderConfig, VideoType};
use makara_media::{AudioCodec, Clock90k, EncodedAudio};

use crate::video::EncodeError;

/// The one audio format sources deliver: interleaved stereo 16-bit PCM at
/// 48 kHz, the broadcast norm.
pub const SAMPLE_RATE: u32 = 48_000;
pub const CHANNELS: u16 = 2;

/// Bitrates an MPEG-1 Layer II encoder can produce at 48 kHz stereo, kbps.
const MP2_BITRATES: [u32; 14] = [
    32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
];
/// The native AAC encoder's useful ceiling for stereo.
const AAC_MAX_KBPS: u32 = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSettings {
    pub codec: AudioCodec,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    pub channels: u16,
}

impl AudioSettings {
    /// `None` when the transcoder has audio off. `audioType` unset means
    /// AAC for avc/hevc and Layer II for mpeg2video; a bitrate the codec
    /// cannot make is moved to the nearest one it can.
    pub fn from_transcoder(t: &TranscoderConfig) -> Option<AudioSettings> {
        if !t.audio {
            return None;
        }
        let codec = match (t.audio_type, t.video_type) {
            (AudioType::Mpeg1Layer2, _) | (AudioType::Unset, VideoType::Mpeg2Video) => {
                AudioCodec::Mp2
            }
            _ => AudioCodec::AacAdts,
        };
        let bitrate_kbps = match codec {
            AudioCodec::Mp2 => nearest_mp2(t.audio_bitrate_kbps),
            AudioCodec::AacAdts => t.audio_bitrate_kbps.min(AAC_MAX_KBPS),
        };
        Some(AudioSettings {
            codec,
            bitrate_kbps,
            sample_rate: SAMPLE_RATE,
            channels: CHANNELS,
        })
    }
}

fn nearest_mp2(kbps: u32) -> u32 {
    MP2_BITRATES
        .into_iter()
        .min_by_key(|b| b.abs_diff(kbps))
        .unwrap_or(192)
}

/// Interleaved samples lent to an encoder, stamped with the time of their
/// first sample.
#[derive(Debug, Clone, Copy)]
pub struct RawAudio<'a> {
    pub samples: &'a [i16],
    pub pts: Clock90k,
}

/// An audio encoder in the send/receive style. Samples may come in any
/// amount; the encoder frames them itself and stamps each frame from the
/// sample count, so audio keeps the source's clock.
pub trait AudioEncoder: Send {
    fn send_samples(&mut self, audio: Option<RawAudio<'_>>) -> Result<(), EncodeError>;
    fn receive(&mut self) -> Result<Option<EncodedAudio>, EncodeError>;
    /// Samples per channel in one coded frame (1024 for AAC, 1152 for MP2).
    fn frame_samples(&self) -> usize;
}

#[cfg(test)]
mod tests {
    use makara_config::TranscoderRequest;

    use super::*;

    fn transcoder(edit: impl FnOnce(&mut TranscoderRequest)) -> TranscoderConfig {
        let mut r = TranscoderRequest {
            name: Some("t".into()),
            ..TranscoderRequest::default()
        };
        edit(&mut r);
        r.validate().unwrap()
    }

    #[test]
    fn aac_by_default_layer_two_on_request() {
        let s = AudioSettings::from_transcoder(&transcoder(|_| {})).unwrap();
        assert_eq!(
            (s.codec, s.bitrate_kbps, s.sample_rate, s.channels),
            (AudioCodec::AacAdts, 256, 48_000, 2)
        );
        let t = transcoder(|r| r.audio_type = Some(AudioType::Mpeg1Layer2));
        assert_eq!(
            AudioSettings::from_transcoder(&t).unwrap().codec,
            AudioCodec::Mp2
        );
    }

    #[test]
    fn audio_off_means_none() {
        assert!(AudioSettings::from_transcoder(&transcoder(|r| r.audio = Some(false))).is_none());
    }

    #[test]
    fn bitrates_snap_to_what_the_codec_can_do() {
        let t = transcoder(|r| {
            r.audio_type = Some(AudioType::Mpeg1Layer2);
            r.audio_bitrate_kbps = Some(200);
        });
        assert_eq!(
            AudioSettings::from_transcoder(&t).unwrap().bitrate_kbps,
            192
        );
        let t = transcoder(|r| r.audio_bitrate_kbps = Some(576));
        assert_eq!(
            AudioSettings::from_transcoder(&t).unwrap().bitrate_kbps,
            512
        );
    }
}
