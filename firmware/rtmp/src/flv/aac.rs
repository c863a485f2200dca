//! AAC in FLV: SoundFormat 10 with the fixed rate, size and type bits
//! FLV requires for AAC (the real ones are in the AudioSpecificConfig),
//! then the AudioSpecificConfig or a raw frame.

/// SoundFormat 10 (AAC), 44 kHz, 16-bit, stereo: what FLV says for AAC
/// whatever the stream's own rate and channels.
const AAC_HEADER: u8 = 0xAF;
const SEQUENCE_HEADER: u8 = 0;
const RAW: u8 = 1;

/// Sampling frequencies by index (ISO/IEC 14496-3, table 1.18).
const SAMPLING_FREQUENCIES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// The fields of a two-byte AudioSpecificConfig, as an ADTS header gives
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacConfig {
    /// Audio object type (2 for AAC-LC).
    pub object_type: u8,
    pub sampling_index: u8,
    pub channel_config: u8,
}

impl AacConfig {
    /// audioObjectType (5 bits), samplingFrequencyIndex (4),
    /// channelConfiguration (4), then three zero bits.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let value = u16::from(self.object_type & 0x1F) << 11
            | u16::from(self.sampling_index & 0x0F) << 7
            | u16::from(self.channel_config & 0x0F) << 3;
        value.to_be_bytes()
    }

    /// The sampling rate in Hz, if the index is a defined one.
    pub fn sample_rate(&self) -> Option<u32> {
        SAMPLING_FREQUENCIES
            .get(usize::from(self.sampling_index))
            .copied()
    }
}

pub fn aac_sequence_header(config: &AacConfig) -> Vec<u8> {
    let mut tag = vec![AAC_HEADER, SEQUENCE_HEADER];
    tag.extend_from_slice(&config.audio_specific_config());
    tag
}

/// One raw AAC frame (no ADTS header).
pub fn aac_frame(raw: &[u8]) -> Vec<u8> {
    let mut tag = Vec::with_capacity(raw.len() + 2);
    tag.extend_from_slice(&[AAC_HEADER, RAW]);
    tag.extend_from_slice(raw);
    tag
}
