//! What a video stream says of its profile and level, read from its
//! first access unit that carries it: the H.264 or HEVC sequence
//! parameter set, the MPEG-2 sequence header and extension, the AV1
//! sequence header. The T-STD's buffer sizes and rates follow from it
//! (see [`super::buffers`]).

use crate::av1::sequence::SequenceHeader;
use crate::es::{nal_units, VideoCodec};

/// A stream's profile and level, as its own bitstream signals them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoLevel {
    /// profile_idc and level_idc of the SPS (H.264 §7.4.2.1.1).
    H264 { profile_idc: u8, level_idc: u8 },
    /// general_tier_flag and general_level_idc (30 × the level) of the
    /// SPS's profile_tier_level (H.265 §7.4.4).
    Hevc { high_tier: bool, level_idc: u8 },
    /// profile_and_level_indication of the sequence extension and the
    /// sequence's vbv_buffer_size in bits (ISO/IEC 13818-2 §6.3.3, §6.3.5).
    Mpeg2 {
        profile_and_level: u8,
        vbv_buffer_bits: u64,
    },
    /// seq_profile, seq_level_idx[0] and seq_tier[0] (AV1 §6.4.1).
    Av1 {
        seq_profile: u8,
        seq_level_idx: u8,
        high_tier: bool,
    },
}

impl VideoLevel {
    /// Reads the level from one access unit: Annex B for H.264 and HEVC,
    /// the video elementary stream for MPEG-2, a temporal unit in the
    /// low-overhead format for AV1. `None` if it does not carry it.
    pub fn find(codec: VideoCodec, unit: &[u8]) -> Option<VideoLevel> {
        match codec {
            VideoCodec::H264 => nal_units(unit)
                .find(|nal| nal.first().is_some_and(|b| b & 0x1F == 7) && nal.len() >= 4)
                .map(|sps| VideoLevel::H264 {
                    profile_idc: sps[1],
                    level_idc: sps[3],
                }),
            VideoCodec::Hevc => nal_units(unit)
                .find(|nal| nal.first().is_some_and(|b| (b >> 1) & 0x3F == 33))
                .and_then(hevc_level),
            VideoCodec::Mpeg2 => mpeg2_level(unit),
            VideoCodec::Av1 => SequenceHeader::find(unit).map(|sh| VideoLevel::Av1 {
                seq_profile: sh.seq_profile,
                seq_level_idx: sh.seq_level_idx_0,
                high_tier: sh.seq_tier_0,
            }),
        }
    }
}

/// From an HEVC SPS NAL unit: after the 2-byte header, one byte of
/// parameter set id, sub-layer count and nesting flag, then
/// profile_tier_level: profile space (2), tier (1), profile (5), 32
/// compatibility flags, 48 bits of constraint flags, general_level_idc.
fn hevc_level(sps: &[u8]) -> Option<VideoLevel> {
    let rbsp = crate::es::unescape_rbsp(sps.get(2..)?);
    Some(VideoLevel::Hevc {
        high_tier: rbsp.get(1)? & 0x20 != 0,
        level_idc: *rbsp.get(12)?,
    })
}

/// From MPEG-2 video: the sequence header (00 00 01 B3) has
/// vbv_buffer_size_value (10 bits after the 18-bit bit_rate_value and a
/// marker) in its bytes 6-7; the sequence extension (00 00 01 B5 with
/// identifier 1) profile_and_level_indication across its first two
/// bytes and vbv_buffer_size_extension in its fifth.
fn mpeg2_level(unit: &[u8]) -> Option<VideoLevel> {
    let after = |code: u8| {
        unit.windows(4)
            .position(|w| w == [0, 0, 1, code])
            .map(|at| &unit[at + 4..])
    };
    let header = after(0xB3)?.get(..8)?;
    let vbv_value = u64::from(header[6] & 0x1F) << 5 | u64::from(header[7] >> 3);
    let extension = after(0xB5).filter(|e| e.first().is_some_and(|b| b >> 4 == 1))?;
    let extension = extension.get(..5)?;
    let profile_and_level = (extension[0] & 0x0F) << 4 | extension[1] >> 4;
    let vbv_extension = u64::from(extension[4]);
    Some(VideoLevel::Mpeg2 {
        profile_and_level,
        vbv_buffer_bits: (vbv_extension << 10 | vbv_value) * 16 * 1024,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_come_from_the_parameter_sets() {
        // H.264 SPS: 67 | 64 (High) | 00 | 1F (level 3.1).
        let h264 = [0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1F, 0xAC];
        assert_eq!(
            VideoLevel::find(VideoCodec::H264, &h264),
            Some(VideoLevel::H264 {
                profile_idc: 100,
                level_idc: 31
            })
        );
        // HEVC SPS: 42 01 | 01: vps 0, 0 sub-layers, nesting | 21: space 0,
        // high tier, Main | 60 00 00 00 | 90 00 00 00 00 00 | 5D (level 3.1).
        let hevc = [
            0, 0, 1, 0x42, 0x01, 0x01, 0x21, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x5D,
        ];
        assert_eq!(
            VideoLevel::find(VideoCodec::Hevc, &hevc),
            Some(VideoLevel::Hevc {
                high_tier: true,
                level_idc: 93
            })
        );
        // MPEG-2: sequence header 140x0F0 (320x240), aspect 1, 30 fps
        // (5), bit_rate_value 2000 (800 kbit/s), marker, vbv 14 (14 × 16
        // kbit), ...; extension: 1 | 4 8 (Main@Main) | ... | vbv ext 0.
        let mpeg2 = [
            0, 0, 1, 0xB3, 0x14, 0x00, 0xF0, 0x15, 0x01, 0xF4, 0x20, 0x70, //
            0, 0, 1, 0xB5, 0x14, 0x8A, 0x00, 0x01, 0x00, 0x00,
        ];
        assert_eq!(
            VideoLevel::find(VideoCodec::Mpeg2, &mpeg2),
            Some(VideoLevel::Mpeg2 {
                profile_and_level: 0x48,
                vbv_buffer_bits: 14 * 16_384
            })
        );
        assert_eq!(VideoLevel::find(VideoCodec::Mpeg2, &mpeg2[..12]), None);
        assert_eq!(VideoLevel::find(VideoCodec::H264, &[0, 0, 1, 0x65]), None);
    }
}
