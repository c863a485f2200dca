//! HEVC in Enhanced RTMP: the HEVCDecoderConfigurationRecord (ISO/IEC
//! 14496-15, 8.3.3.1) and the packet types of the ExVideoTagHeader.

use crate::nal::HevcSps;

/// VideoPacketType values.
pub const SEQUENCE_START: u8 = 0;
pub const CODED_FRAMES: u8 = 1;

pub const VPS: u8 = 32;
pub const SPS: u8 = 33;
pub const PPS: u8 = 34;
pub const AUD: u8 = 35;
pub const FILLER: u8 = 38;

pub fn nal_type(unit: &[u8]) -> u8 {
    unit.first().map_or(0xFF, |b| (b >> 1) & 0x3F)
}

/// The record for these parameter sets, with 4-byte NAL lengths. Arrays
/// of more than 65535 units or units longer than 65535 bytes are cut
/// short (no real stream has them).
pub fn decoder_configuration_record(
    sps: &HevcSps,
    vps: &[&[u8]],
    sps_units: &[&[u8]],
    pps: &[&[u8]],
) -> Vec<u8> {
    let mut record = vec![1]; // configurationVersion
    record.extend_from_slice(&sps.general_ptl);
    record.extend_from_slice(&[
        0xF0,
        0x00, // 4 reserved bits, min_spatial_segmentation_idc 0
        0xFC, // 6 reserved bits, parallelismType 0 (unknown)
        0xFC | sps.chroma_format_idc,
        0xF8 | sps.bit_depth_luma_minus8,
        0xF8 | sps.bit_depth_chroma_minus8,
        0x00,
        0x00, // avgFrameRate: unspecified
    ]);
    // constantFrameRate 0, numTemporalLayers, temporalIdNested,
    // lengthSizeMinusOne 3.
    record.push((sps.max_sub_layers & 0x07) << 3 | u8::from(sps.temporal_id_nested) << 2 | 0x03);
    record.push(3); // numOfArrays
    for (nal_type, units) in [(VPS, vps), (SPS, sps_units), (PPS, pps)] {
        // array_completeness 1: the parameter sets are all here, none in
        // the frames.
        record.push(0x80 | nal_type);
        let units = &units[..units.len().min(usize::from(u16::MAX))];
        record.extend_from_slice(&(units.len() as u16).to_be_bytes());
        for unit in units {
            let unit = &unit[..unit.len().min(usize::from(u16::MAX))];
            record.extend_from_slice(&(unit.len() as u16).to_be_bytes());
            record.extend_from_slice(unit);
        }
    }
    record
}
