//! H.264 in classic FLV: the AVCDecoderConfigurationRecord (ISO/IEC
//! 14496-15, 5.3.3.1) and the AVC packet types.

use super::FlvError;

/// FLV's codec id for AVC.
pub const CODEC_ID: u8 = 7;
/// AVCPacketType: the sequence header, then NAL units.
pub const SEQUENCE_HEADER: u8 = 0;
pub const NALU: u8 = 1;

pub const SPS: u8 = 7;
pub const PPS: u8 = 8;
pub const AUD: u8 = 9;
pub const FILLER: u8 = 12;

pub fn nal_type(unit: &[u8]) -> u8 {
    unit.first().map_or(0, |b| b & 0x1F)
}

/// The record for one SPS and its PPSs, with 4-byte NAL lengths.
pub fn decoder_configuration_record(sps: &[u8], pps: &[&[u8]]) -> Result<Vec<u8>, FlvError> {
    if sps.len() < 4 || sps.len() > usize::from(u16::MAX) {
        return Err(FlvError::BadParameterSet("H.264 SPS"));
    }
    if pps.len() > 255 || pps.iter().any(|p| p.len() > usize::from(u16::MAX)) {
        return Err(FlvError::BadParameterSet("H.264 PPS"));
    }
    let mut record = vec![
        1,      // configurationVersion
        sps[1], // AVCProfileIndication
        sps[2], // profile_compatibility
        sps[3], // AVCLevelIndication
        0xFF,   // 6 reserved bits, lengthSizeMinusOne = 3
        0xE1,   // 3 reserved bits, one SPS
    ];
    record.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    record.extend_from_slice(sps);
    record.push(pps.len() as u8);
    for p in pps {
        record.extend_from_slice(&(p.len() as u16).to_be_bytes());
        record.extend_from_slice(p);
    }
    Ok(record)
}
