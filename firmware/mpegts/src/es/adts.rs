//! AAC in ADTS frames (ISO/IEC 13818-7 §6.2, ISO/IEC 14496-3 §1.A.2): the
//! header, the AudioSpecificConfig it implies, and a PES payload split
//! into raw frames.

/// The fixed and variable header without CRC.
pub const ADTS_HEADER_LEN: usize = 7;
/// The CRC that follows the header when protection_absent is 0.
pub const ADTS_CRC_LEN: usize = 2;
/// Samples per channel in one raw_data_block.
pub const SAMPLES_PER_BLOCK: u32 = 1024;

/// Sampling rates by sampling_frequency_index (ISO/IEC 14496-3 Table
/// 1.18); 13 and 14 are reserved and 15 (an explicit rate) is not allowed
/// in ADTS.
const SAMPLE_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// What a decoder needs to know about an AAC stream, as an ADTS header
/// says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacConfig {
    /// The MPEG-4 audio object type: ADTS profile + 1 (2 = AAC-LC).
    pub object_type: u8,
    pub sampling_index: u8,
    /// 1-7 name a channel layout (2 = stereo); 0 means the layout is in a
    /// program_config_element inside the raw data, which
    /// [`AacConfig::audio_specific_config`] cannot describe.
    pub channel_config: u8,
    pub sample_rate: u32,
}

impl AacConfig {
    /// The 2-byte AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) of this
    /// stream, as FLV's AAC sequence header and RFC 3640's `config=` carry
    /// it: 5 bits audioObjectType, 4 bits samplingFrequencyIndex, 4 bits
    /// channelConfiguration, then GASpecificConfig's frameLengthFlag,
    /// dependsOnCoreCoder and extensionFlag, all 0. AAC-LC stereo at
    /// 48 kHz is `11 90`.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let bits = (u16::from(self.object_type & 0x1F) << 11)
            | (u16::from(self.sampling_index & 0x0F) << 7)
            | (u16::from(self.channel_config & 0x0F) << 3);
        bits.to_be_bytes()
    }
}

/// The AudioSpecificConfig of the stream whose ADTS header starts `header`.
pub fn audio_specific_config(header: &[u8]) -> Option<[u8; 2]> {
    AdtsHeader::parse(header).map(|h| h.config.audio_specific_config())
}

/// One ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    pub config: AacConfig,
    /// A CRC follows the header.
    pub protected: bool,
    /// The whole frame, header included.
    pub frame_len: usize,
    /// number_of_raw_data_blocks_in_frame + 1.
    pub blocks: u8,
}

impl AdtsHeader {
    /// Reads the header at the start of `bytes`: the syncword, layer 0, a
    /// sampling index ADTS allows and a frame length that covers at least
    /// the header. Anything else is not a header.
    pub fn parse(bytes: &[u8]) -> Option<AdtsHeader> {
        let b = bytes.get(..ADTS_HEADER_LEN)?;
        let sync = b[0] == 0xFF && b[1] & 0xF0 == 0xF0;
        let layer = (b[1] >> 1) & 0x03;
        if !sync || layer != 0 {
            return None;
        }
        let protected = b[1] & 0x01 == 0;
        let profile = b[2] >> 6;
        let sampling_index = (b[2] >> 2) & 0x0F;
        let sample_rate = *SAMPLE_RATES.get(usize::from(sampling_index))?;
        let channel_config = ((b[2] & 0x01) << 2) | (b[3] >> 6);
        let frame_len =
            (usize::from(b[3] & 0x03) << 11) | (usize::from(b[4]) << 3) | usize::from(b[5] >> 5);
        let header = AdtsHeader {
            config: AacConfig {
                object_type: profile + 1,
                sampling_index,
                channel_config,
                sample_rate,
            },
            protected,
            frame_len,
            blocks: (b[6] & 0x03) + 1,
        };
        (frame_len > header.header_len()).then_some(header)
    }

    /// Header plus CRC, where the raw data begins (one raw block).
    pub fn header_len(&self) -> usize {
        ADTS_HEADER_LEN + if self.protected { ADTS_CRC_LEN } else { 0 }
    }
}

/// One frame found in a PES payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitFrame<'a> {
    pub header: AdtsHeader,
    /// The raw_data_block, header and CRC removed.
    pub raw: &'a [u8],
    /// Samples (per channel) of the frames before this one in the payload.
    pub samples_before: u64,
}

/// What a PES payload held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split<'a> {
    pub frames: Vec<SplitFrame<'a>>,
    /// Bytes that were not part of a frame (multi-block frames aside).
    pub skipped: usize,
    /// The first header whose frame_length ran past the payload, as
    /// (claimed length, bytes left).
    pub overrun: Option<(usize, usize)>,
    /// Frames of several raw_data_blocks, which are not split (nothing
    /// but decoding finds where their blocks end without a CRC).
    pub multi_block: usize,
}

/// Splits a PES payload into ADTS frames. Bytes before a syncword are
/// skipped; so is a header whose frame runs past the payload, after which
/// the search resumes one byte further (it may have been a false sync in
/// garbage). Frame durations count for the frames that follow even when
/// a frame is skipped, so later timestamps stay right.
pub fn split(payload: &[u8]) -> Split<'_> {
    let mut split = Split::default();
    let mut at = 0;
    let mut samples = 0u64;
    while at < payload.len() {
        let rest = &payload[at..];
        let Some(header) = AdtsHeader::parse(rest) else {
            split.skipped += 1;
            at += 1;
            continue;
        };
        if header.frame_len > rest.len() {
            split.overrun.get_or_insert((header.frame_len, rest.len()));
            split.skipped += 1;
            at += 1;
            continue;
        }
        if header.blocks > 1 {
            split.multi_block += 1;
        } else {
            split.frames.push(SplitFrame {
                header,
                raw: &rest[header.header_len()..header.frame_len],
                samples_before: samples,
            });
        }
        samples += u64::from(header.blocks) * u64::from(SAMPLES_PER_BLOCK);
        at += header.frame_len;
    }
    split
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An ADTS frame of AAC-LC (profile 1) at sampling index `index`,
    /// `channels`, `blocks` raw blocks, with or without CRC, around `raw`.
    /// Built from ISO/IEC 13818-7 Table 6.2's field widths.
    pub fn frame(index: u8, channels: u8, protected: bool, blocks: u8, raw: &[u8]) -> Vec<u8> {
        let len = ADTS_HEADER_LEN + if protected { 2 } else { 0 } + raw.len();
        let mut f = vec![
            0xFF,
            0xF0 | u8::from(!protected), // MPEG-4, layer 0
            (1 << 6) | (index << 2) | (channels >> 2),
            ((channels & 3) << 6) | ((len >> 11) as u8 & 0x03),
            (len >> 3) as u8,
            ((len as u8 & 0x07) << 5) | 0x1F, // buffer fullness 0x7FF
            0xFC | (blocks - 1),
        ];
        if protected {
            f.extend_from_slice(&[0x12, 0x34]); // CRC: not checked
        }
        f.extend_from_slice(raw);
        f
    }

    /// A 7-byte header for AAC-LC, 48 kHz (index 3), stereo, frame length
    /// 0x100: FF F1: syncword, MPEG-4, layer 00, no CRC | 4C: profile 01,
    /// index 0011, private 0, channel bit 2 0 | 80: channels low bits 10, 0, 0, 0, 0, length bits 12-11 00 |
    /// 20: length bits 10-3 0x20 | 1F: length bits 2-0 000, fullness |
    /// FC: fullness, one raw block.
    const GOLDEN_HEADER: [u8; 7] = [0xFF, 0xF1, 0x4C, 0x80, 0x20, 0x1F, 0xFC];

    #[test]
    fn golden_header_and_audio_specific_config() {
        let header = AdtsHeader::parse(&GOLDEN_HEADER).unwrap();
        let config = AacConfig {
            object_type: 2,
            sampling_index: 3,
            channel_config: 2,
            sample_rate: 48_000,
        };
        assert_eq!(
            header,
            AdtsHeader {
                config,
                protected: false,
                frame_len: 0x100,
                blocks: 1
            }
        );
        assert_eq!(frame(3, 2, false, 1, &[0; 0x100 - 7])[..7], GOLDEN_HEADER);
        // 00010 0011 0010 000: AAC-LC, 48 kHz, stereo (as ffmpeg writes it).
        assert_eq!(audio_specific_config(&GOLDEN_HEADER), Some([0x11, 0x90]));
        // 44.1 kHz mono: 00010 0100 0001 000.
        let mono = frame(4, 1, false, 1, &[1; 10]);
        assert_eq!(audio_specific_config(&mono), Some([0x12, 0x08]));
    }

    #[test]
    fn rejects_what_is_not_a_header() {
        let mut bad = GOLDEN_HEADER;
        bad[1] = 0xF3; // layer 01
        assert_eq!(AdtsHeader::parse(&bad), None);
        let mut reserved = GOLDEN_HEADER;
        reserved[2] = (1 << 6) | (13 << 2); // sampling index 13
        assert_eq!(AdtsHeader::parse(&reserved), None);
        let mut short = GOLDEN_HEADER;
        short[4] = 0;
        short[5] = 0xFF; // frame length 7: no room for data
        assert_eq!(AdtsHeader::parse(&short), None);
        assert_eq!(AdtsHeader::parse(&GOLDEN_HEADER[..6]), None);
    }

    #[test]
    fn splits_several_frames_crc_and_garbage() {
        let payload = [
            vec![0x00, 0xFF, 0x12], // garbage, with a false sync byte
            frame(3, 2, false, 1, &[1; 20]),
            frame(3, 2, true, 1, &[2; 30]), // CRC-protected
            frame(3, 2, false, 1, &[3; 5]),
        ]
        .concat();
        let split = split(&payload);
        let raws: Vec<&[u8]> = split.frames.iter().map(|f| f.raw).collect();
        assert_eq!(raws, [&[1; 20][..], &[2; 30], &[3; 5]]);
        let samples: Vec<u64> = split.frames.iter().map(|f| f.samples_before).collect();
        assert_eq!(samples, [0, 1024, 2048]);
        assert_eq!(
            (split.skipped, split.overrun, split.multi_block),
            (3, None, 0)
        );
        assert!(split.frames[1].header.protected);
    }

    #[test]
    fn a_frame_past_the_payload_is_refused() {
        let mut payload = frame(3, 2, false, 1, &[1; 20]);
        let whole = payload.len();
        payload.extend_from_slice(&frame(3, 2, false, 1, &[2; 50])[..40]);
        let split = split(&payload);
        assert_eq!(split.frames.len(), 1);
        assert_eq!(split.overrun, Some((57, 40)));
        assert_eq!(split.skipped, payload.len() - whole);
    }

    #[test]
    fn multi_block_frames_are_counted_not_split() {
        let payload = [
            frame(3, 2, false, 2, &[1; 20]),
            frame(3, 2, false, 1, &[2; 9]),
        ]
        .concat();
        let split = split(&payload);
        assert_eq!(split.multi_block, 1);
        assert_eq!(split.frames.len(), 1);
        assert_eq!(split.frames[0].samples_before, 2048);
    }
}
