//! The ADTS header (ISO/IEC 14496-3 §1.A.2.2, the same layout as
//! ISO/IEC 13818-7 §6.2): seven bytes in front of every raw AAC frame,
//! which is what MPEG-TS stream type 0x0F carries.
//!
//! Written by hand from what the encoder was opened with, instead of
//! through libavformat's "adts" muxer: it is 20 lines, and it keeps the
//! muxer layer out of the audio path.

/// Bytes in a header without CRC (`protection_absent = 1`).
pub(crate) const HEADER_LEN: usize = 7;

/// `aac_frame_length` is 13 bits and counts the header too.
const MAX_FRAME_LEN: usize = (1 << 13) - 1;

/// `adts_buffer_fullness` all ones: a variable-rate stream.
const FULLNESS_VBR: u16 = 0x7FF;

/// AAC-LC's audio object type (14496-3 Table 1.1). ADTS carries it minus 1.
pub(crate) const OBJECT_TYPE_AAC_LC: u8 = 2;

/// `sampling_frequency_index` (14496-3 Table 1.18): the position in this
/// table.
const SAMPLE_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// What every header of one stream says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdtsConfig {
    object_type: u8,
    sample_rate_index: u8,
    channel_config: u8,
}

impl AdtsConfig {
    /// AAC-LC at `sample_rate` with `channels` channels; `None` when ADTS
    /// cannot express it (a rate outside Table 1.18, or more than the
    /// seven channel configurations).
    pub(crate) fn aac_lc(sample_rate: u32, channels: u16) -> Option<AdtsConfig> {
        let sample_rate_index = SAMPLE_RATES.iter().position(|&r| r == sample_rate)?;
        // Channel configurations 1..=6 are 1..=6 channels; 7 is 8 channels.
        let channel_config = match channels {
            1..=6 => channels,
            8 => 7,
            _ => return None,
        };
        Some(AdtsConfig {
            object_type: OBJECT_TYPE_AAC_LC,
            sample_rate_index: sample_rate_index as u8,
            channel_config: channel_config as u8,
        })
    }

    /// The header for one raw frame of `payload_len` bytes; `None` when
    /// header plus payload do not fit the 13-bit length.
    pub(crate) fn header(&self, payload_len: usize) -> Option<[u8; HEADER_LEN]> {
        let len = payload_len + HEADER_LEN;
        if len > MAX_FRAME_LEN {
            return None;
        }
        let len = len as u16;
        let profile = self.object_type - 1;
        Some([
            // syncword 0xFFF
            0xFF,
            // syncword (4) | ID 0 = MPEG-4, as FFmpeg writes it | layer 00 |
            // protection_absent 1
            0xF1,
            // profile (2) | sampling_frequency_index (4) | private_bit 0 |
            // channel_configuration bit 2
            (profile << 6) | (self.sample_rate_index << 2) | (self.channel_config >> 2),
            // channel_configuration bits 1..0 | original_copy, home,
            // copyright_id_bit, copyright_id_start all 0 | frame length 12..11
            ((self.channel_config & 0b11) << 6) | ((len >> 11) as u8 & 0b11),
            // frame length bits 10..3
            (len >> 3) as u8,
            // frame length bits 2..0 | buffer fullness bits 10..6
            ((len as u8 & 0b111) << 5) | (FULLNESS_VBR >> 6) as u8,
            // buffer fullness bits 5..0 | number_of_raw_data_blocks_in_frame 0
            ((FULLNESS_VBR as u8 & 0b11_1111) << 2),
        ])
    }
}

/// The fields of an ADTS fixed and variable header, read back bit by bit
/// in the order the standard lists them. For tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdtsFields {
    pub syncword: u32,
    pub id: u32,
    pub layer: u32,
    pub protection_absent: u32,
    pub profile: u32,
    pub sampling_frequency_index: u32,
    pub private_bit: u32,
    pub channel_configuration: u32,
    pub original_copy: u32,
    pub home: u32,
    pub copyright_identification_bit: u32,
    pub copyright_identification_start: u32,
    pub aac_frame_length: u32,
    pub adts_buffer_fullness: u32,
    pub number_of_raw_data_blocks_in_frame: u32,
}

#[cfg(test)]
impl AdtsFields {
    pub(crate) fn parse(bytes: &[u8]) -> Option<AdtsFields> {
        let header = bytes.get(..HEADER_LEN)?;
        let mut bit = 0usize;
        let mut read = |width: usize| {
            let mut v = 0u32;
            for _ in 0..width {
                let b = (header[bit / 8] >> (7 - bit % 8)) & 1;
                v = (v << 1) | u32::from(b);
                bit += 1;
            }
            v
        };
        Some(AdtsFields {
            syncword: read(12),
            id: read(1),
            layer: read(2),
            protection_absent: read(1),
            profile: read(2),
            sampling_frequency_index: read(4),
            private_bit: read(1),
            channel_configuration: read(3),
            original_copy: read(1),
            home: read(1),
            copyright_identification_bit: read(1),
            copyright_identification_start: read(1),
            aac_frame_length: read(13),
            adts_buffer_fullness: read(11),
            number_of_raw_data_blocks_in_frame: read(2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_lands_where_the_standard_puts_it() {
        let config = AdtsConfig::aac_lc(48_000, 2).unwrap();
        for payload in [0usize, 1, 255, 256, 371, 2047, 2048, 8184] {
            let header = config.header(payload).unwrap();
            let f = AdtsFields::parse(&header).unwrap();
            assert_eq!(
                f,
                AdtsFields {
                    syncword: 0xFFF,
                    id: 0,
                    layer: 0,
                    protection_absent: 1,
                    profile: 1,
                    sampling_frequency_index: 3,
                    private_bit: 0,
                    channel_configuration: 2,
                    original_copy: 0,
                    home: 0,
                    copyright_identification_bit: 0,
                    copyright_identification_start: 0,
                    aac_frame_length: (payload + HEADER_LEN) as u32,
                    adts_buffer_fullness: 0x7FF,
                    number_of_raw_data_blocks_in_frame: 0,
                },
                "payload {payload}"
            );
        }
    }

    #[test]
    fn the_well_known_bytes_for_48k_stereo_lc() {
        // FF F1 4C 80 is what every 48 kHz stereo AAC-LC ADTS stream
        // starts with; 0x173 = 371 bytes = 364 of payload.
        let header = AdtsConfig::aac_lc(48_000, 2).unwrap().header(364).unwrap();
        assert_eq!(header, [0xFF, 0xF1, 0x4C, 0x80, 0x2E, 0x7F, 0xFC]);
    }

    #[test]
    fn other_rates_and_layouts() {
        let f = |rate, ch| {
            let h = AdtsConfig::aac_lc(rate, ch).unwrap().header(10).unwrap();
            let f = AdtsFields::parse(&h).unwrap();
            (f.sampling_frequency_index, f.channel_configuration)
        };
        assert_eq!(f(96_000, 1), (0, 1));
        assert_eq!(f(44_100, 6), (4, 6));
        assert_eq!(f(7_350, 8), (12, 7));
        assert_eq!(AdtsConfig::aac_lc(48_001, 2), None);
        assert_eq!(AdtsConfig::aac_lc(48_000, 0), None);
        assert_eq!(AdtsConfig::aac_lc(48_000, 7), None);
    }

    #[test]
    fn the_length_is_thirteen_bits() {
        let config = AdtsConfig::aac_lc(48_000, 2).unwrap();
        assert!(config.header(MAX_FRAME_LEN - HEADER_LEN).is_some());
        assert_eq!(config.header(MAX_FRAME_LEN - HEADER_LEN + 1), None);
    }
}
