//! The sequence header OBU (AV1 §5.5), read up to the end of
//! color_config: what the AV1 video descriptor and the T-STD need.

use super::bits::BitReader;
use super::obu::{obu_type, obus};
use super::Av1Error;

/// color_primaries, transfer_characteristics and matrix_coefficients
/// values (AV1 §6.4.2) this module acts on.
pub mod color {
    pub const CP_BT_709: u8 = 1;
    pub const CP_UNSPECIFIED: u8 = 2;
    pub const CP_BT_2020: u8 = 9;
    pub const TC_UNSPECIFIED: u8 = 2;
    pub const TC_SRGB: u8 = 13;
    pub const MC_IDENTITY: u8 = 0;
    pub const MC_UNSPECIFIED: u8 = 2;
}

/// What a sequence header says, with the values AV1 infers for fields
/// it leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    pub seq_profile: u8,
    pub still_picture: bool,
    pub reduced_still_picture_header: bool,
    /// Of operating point 0, the one the carriage spec uses.
    pub seq_level_idx_0: u8,
    pub seq_tier_0: bool,
    /// initial_display_delay_minus_1 of operating point 0, if present.
    pub initial_display_delay_minus_1_0: Option<u8>,
    pub max_frame_width: u32,
    pub max_frame_height: u32,
    pub high_bitdepth: bool,
    pub twelve_bit: bool,
    pub mono_chrome: bool,
    pub color_primaries: u8,
    pub transfer_characteristics: u8,
    pub matrix_coefficients: u8,
    pub subsampling_x: bool,
    pub subsampling_y: bool,
    /// 0 unknown, 1 vertical, 2 colocated (AV1 §6.4.2).
    pub chroma_sample_position: u8,
}

impl SequenceHeader {
    /// Reads the payload of a sequence header OBU (after its header and
    /// obu_size).
    pub fn parse(payload: &[u8]) -> Result<SequenceHeader, Av1Error> {
        let mut r = BitReader::new(payload);
        let seq_profile = r.byte(3)?;
        if seq_profile > 2 {
            return Err(Av1Error::ReservedProfile(seq_profile));
        }
        let still_picture = r.flag()?;
        let reduced = r.flag()?;
        let (level, tier, delay) = if reduced {
            (r.byte(5)?, false, None)
        } else {
            operating_points(&mut r)?
        };
        let width_bits = r.bits(4)? + 1;
        let height_bits = r.bits(4)? + 1;
        let max_frame_width = r.bits(width_bits)? + 1;
        let max_frame_height = r.bits(height_bits)? + 1;
        skip_coding_tools(&mut r, reduced)?;
        let mut header = SequenceHeader {
            seq_profile,
            still_picture,
            reduced_still_picture_header: reduced,
            seq_level_idx_0: level,
            seq_tier_0: tier,
            initial_display_delay_minus_1_0: delay,
            max_frame_width,
            max_frame_height,
            high_bitdepth: false,
            twelve_bit: false,
            mono_chrome: false,
            color_primaries: color::CP_UNSPECIFIED,
            transfer_characteristics: color::TC_UNSPECIFIED,
            matrix_coefficients: color::MC_UNSPECIFIED,
            subsampling_x: true,
            subsampling_y: true,
            chroma_sample_position: 0,
        };
        header.read_color_config(&mut r)?;
        Ok(header)
    }

    /// The first sequence header among a temporal unit's OBUs (the
    /// low-overhead format), if it has one that reads.
    pub fn find(tu: &[u8]) -> Option<SequenceHeader> {
        obus(tu)
            .map_while(Result::ok)
            .find(|obu| obu.obu_type == obu_type::SEQUENCE_HEADER)
            .and_then(|obu| SequenceHeader::parse(obu.payload).ok())
    }

    pub fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (false, _) => 8,
            (true, false) => 10,
            (true, true) => 12,
        }
    }

    /// color_config() (AV1 §5.5.2).
    fn read_color_config(&mut self, r: &mut BitReader) -> Result<(), Av1Error> {
        use color::*;
        self.high_bitdepth = r.flag()?;
        if self.seq_profile == 2 && self.high_bitdepth {
            self.twelve_bit = r.flag()?;
        }
        self.mono_chrome = self.seq_profile != 1 && r.flag()?;
        if r.flag()? {
            self.color_primaries = r.byte(8)?;
            self.transfer_characteristics = r.byte(8)?;
            self.matrix_coefficients = r.byte(8)?;
        }
        if self.mono_chrome {
            r.flag()?; // color_range
            return Ok(());
        }
        let srgb = self.color_primaries == CP_BT_709
            && self.transfer_characteristics == TC_SRGB
            && self.matrix_coefficients == MC_IDENTITY;
        if srgb {
            (self.subsampling_x, self.subsampling_y) = (false, false);
            return Ok(());
        }
        r.flag()?; // color_range
        (self.subsampling_x, self.subsampling_y) = match self.seq_profile {
            0 => (true, true),
            1 => (false, false),
            _ if self.twelve_bit => {
                let x = r.flag()?;
                (x, x && r.flag()?)
            }
            _ => (true, false),
        };
        if self.subsampling_x && self.subsampling_y {
            self.chroma_sample_position = r.byte(2)?;
        }
        Ok(())
    }
}

/// timing_info, decoder_model_info and the operating points (AV1 §5.5.1):
/// (seq_level_idx[0], seq_tier[0], initial_display_delay_minus_1[0]).
fn operating_points(r: &mut BitReader) -> Result<(u8, bool, Option<u8>), Av1Error> {
    let mut buffer_delay_bits = None;
    if r.flag()? {
        // timing_info(): two 32-bit fields, equal_picture_interval, uvlc.
        r.bits(32)?;
        r.bits(32)?;
        if r.flag()? {
            r.uvlc()?;
        }
        if r.flag()? {
            // decoder_model_info()
            buffer_delay_bits = Some(r.bits(5)? + 1);
            r.bits(32)?;
            r.bits(10)?; // the two other lengths, 5 bits each
        }
    }
    let display_delay_present = r.flag()?;
    let count = r.bits(5)? + 1;
    let mut first = None;
    for _ in 0..count {
        r.bits(12)?; // operating_point_idc
        let level = r.byte(5)?;
        let tier = level > 7 && r.flag()?;
        if let Some(n) = buffer_delay_bits {
            if r.flag()? {
                // operating_parameters_info(): two delays, low_delay_mode_flag.
                r.bits(n)?;
                r.bits(n)?;
                r.flag()?;
            }
        }
        let delay = if display_delay_present && r.flag()? {
            Some(r.byte(4)?)
        } else {
            None
        };
        first.get_or_insert((level, tier, delay));
    }
    first.ok_or(Av1Error::ShortSequenceHeader)
}

/// The flags between the frame size and color_config (AV1 §5.5.1).
fn skip_coding_tools(r: &mut BitReader, reduced: bool) -> Result<(), Av1Error> {
    if !reduced && r.flag()? {
        // frame_id_numbers_present_flag: two lengths.
        r.bits(4 + 3)?;
    }
    r.bits(3)?; // 128x128 superblock, filter intra, intra edge filter
    if !reduced {
        r.bits(4)?; // interintra, masked compound, warped motion, dual filter
        let order_hint = r.flag()?;
        if order_hint {
            r.bits(2)?; // jnt_comp, ref_frame_mvs
        }
        let force_screen_content = if r.flag()? {
            true // seq_choose_screen_content_tools: SELECT (2), above 0
        } else {
            r.flag()?
        };
        if force_screen_content && !r.flag()? {
            r.flag()?; // seq_force_integer_mv
        }
        if order_hint {
            r.bits(3)?;
        }
    }
    r.bits(3)?; // superres, cdef, restoration
    Ok(())
}
