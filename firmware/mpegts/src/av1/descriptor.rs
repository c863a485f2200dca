//! The PMT descriptors of an AV1 stream (carriage spec §2): the
//! registration descriptor with format_identifier 'AV01', first, then
//! the AV1 video descriptor filled from the sequence header.

use super::sequence::SequenceHeader;

/// registration_descriptor (ISO/IEC 13818-1 §2.6.8).
pub const REGISTRATION_TAG: u8 = 0x05;
pub const FORMAT_IDENTIFIER: [u8; 4] = *b"AV01";
/// AV1_video_descriptor (carriage spec §2.2).
pub const AV1_VIDEO_DESCRIPTOR_TAG: u8 = 0x80;
const BODY_LEN: u8 = 4;
/// marker (1) and version (7) = 1.
const MARKER_VERSION_1: u8 = 0x81;

/// The registration descriptor: tag, length 4, 'AV01'.
pub fn registration_descriptor() -> [u8; 6] {
    let [a, b, c, d] = FORMAT_IDENTIFIER;
    [REGISTRATION_TAG, BODY_LEN, a, b, c, d]
}

/// hdr_wcg_idc (carriage spec §2.2.2): whether the colour description
/// says high dynamic range (PQ or HLG transfer), wide colour gamut
/// (BT.2020 primaries), or neither.
pub mod hdr_wcg {
    /// SDR: a BT.1886-style transfer within BT.709 primaries.
    pub const SDR: u8 = 0;
    pub const WCG_ONLY: u8 = 1;
    pub const HDR_AND_WCG: u8 = 2;
    pub const NO_INDICATION: u8 = 3;
}

/// The AV1 video descriptor's fields, as the spec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Av1VideoDescriptor {
    pub seq_profile: u8,
    pub seq_level_idx_0: u8,
    pub seq_tier_0: bool,
    pub high_bitdepth: bool,
    pub twelve_bit: bool,
    pub monochrome: bool,
    pub chroma_subsampling_x: bool,
    pub chroma_subsampling_y: bool,
    pub chroma_sample_position: u8,
    pub hdr_wcg_idc: u8,
    /// Only for conversion to ISOBMFF; ignored in a transport stream.
    pub initial_presentation_delay_minus_one: Option<u8>,
}

impl Av1VideoDescriptor {
    /// The descriptor for a stream with this sequence header; fields the
    /// header leaves out hold their inferred values (as parsed).
    pub fn from_sequence_header(sh: &SequenceHeader) -> Av1VideoDescriptor {
        Av1VideoDescriptor {
            seq_profile: sh.seq_profile,
            seq_level_idx_0: sh.seq_level_idx_0,
            seq_tier_0: sh.seq_tier_0,
            high_bitdepth: sh.high_bitdepth,
            twelve_bit: sh.twelve_bit,
            monochrome: sh.mono_chrome,
            chroma_subsampling_x: sh.subsampling_x,
            chroma_subsampling_y: sh.subsampling_y,
            chroma_sample_position: sh.chroma_sample_position,
            hdr_wcg_idc: hdr_wcg_idc(sh.color_primaries, sh.transfer_characteristics),
            initial_presentation_delay_minus_one: sh.initial_display_delay_minus_1_0,
        }
    }

    /// The whole descriptor, tag and length included.
    pub fn emit(&self) -> [u8; 6] {
        let bit = |b: bool, shift: u8| u8::from(b) << shift;
        let delay = match self.initial_presentation_delay_minus_one {
            Some(d) => 0x10 | (d & 0x0F),
            None => 0,
        };
        [
            AV1_VIDEO_DESCRIPTOR_TAG,
            BODY_LEN,
            MARKER_VERSION_1,
            (self.seq_profile & 0x07) << 5 | (self.seq_level_idx_0 & 0x1F),
            bit(self.seq_tier_0, 7)
                | bit(self.high_bitdepth, 6)
                | bit(self.twelve_bit, 5)
                | bit(self.monochrome, 4)
                | bit(self.chroma_subsampling_x, 3)
                | bit(self.chroma_subsampling_y, 2)
                | (self.chroma_sample_position & 0x03),
            (self.hdr_wcg_idc & 0x03) << 6 | delay,
        ]
    }

    /// Reads a descriptor body (after tag and length). `None` unless it
    /// has the marker and version 1 and is 4 bytes long.
    pub fn parse(body: &[u8]) -> Option<Av1VideoDescriptor> {
        let &[first, profile_level, flags, last] = body else {
            return None;
        };
        if first != MARKER_VERSION_1 {
            return None;
        }
        let bit = |byte: u8, shift: u8| byte >> shift & 1 == 1;
        Some(Av1VideoDescriptor {
            seq_profile: profile_level >> 5,
            seq_level_idx_0: profile_level & 0x1F,
            seq_tier_0: bit(flags, 7),
            high_bitdepth: bit(flags, 6),
            twelve_bit: bit(flags, 5),
            monochrome: bit(flags, 4),
            chroma_subsampling_x: bit(flags, 3),
            chroma_subsampling_y: bit(flags, 2),
            chroma_sample_position: flags & 0x03,
            hdr_wcg_idc: last >> 6,
            initial_presentation_delay_minus_one: bit(last, 4).then_some(last & 0x0F),
        })
    }
}

/// The ES_info loop of an AV1 stream: registration descriptor first,
/// then the AV1 video descriptor (carriage spec §2.1).
pub fn es_info(sh: &SequenceHeader) -> Vec<u8> {
    let video = Av1VideoDescriptor::from_sequence_header(sh).emit();
    [&registration_descriptor()[..], &video].concat()
}

/// hdr_wcg_idc from the colour description (AV1 §6.4.2 code points):
/// BT.2020 primaries are a wide gamut; PQ (16) and HLG (18) are high
/// dynamic range; BT.709 primaries with the BT.709, BT.601 or BT.2020
/// SDR transfers (1, 6, 14, 15) are SDR. HDR without WCG has no value of
/// its own, and an unspecified description says nothing: "no indication".
pub fn hdr_wcg_idc(color_primaries: u8, transfer_characteristics: u8) -> u8 {
    const BT_709: u8 = 1;
    const BT_2020: u8 = 9;
    let sdr_transfer = matches!(transfer_characteristics, 1 | 6 | 14 | 15);
    let hdr_transfer = matches!(transfer_characteristics, 16 | 18);
    match color_primaries {
        BT_709 if sdr_transfer => hdr_wcg::SDR,
        BT_2020 if sdr_transfer => hdr_wcg::WCG_ONLY,
        BT_2020 if hdr_transfer => hdr_wcg::HDR_AND_WCG,
        _ => hdr_wcg::NO_INDICATION,
    }
}

#[cfg(test)]
mod tests;
