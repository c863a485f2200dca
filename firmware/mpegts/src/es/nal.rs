//! Annex B byte streams (H.264 Annex B, H.265 Annex B): NAL units split at
//! their start codes, their types, and which of them make an access unit
//! a random access point or carry a parameter set.

use super::VideoCodec;

/// H.264 nal_unit_type values (ITU-T H.264 Table 7-1) this module acts on.
pub mod h264 {
    pub const NON_IDR_SLICE: u8 = 1;
    pub const IDR_SLICE: u8 = 5;
    pub const SEI: u8 = 6;
    pub const SPS: u8 = 7;
    pub const PPS: u8 = 8;
    pub const AUD: u8 = 9;
}

/// H.265 nal_unit_type values (ITU-T H.265 Table 7-1) this module acts on.
pub mod hevc {
    /// The IRAP pictures (BLA, IDR, CRA and the two reserved IRAP types):
    /// a decoder can start at any of them.
    pub const IRAP: core::ops::RangeInclusive<u8> = 16..=23;
    pub const IDR_W_RADL: u8 = 19;
    pub const CRA: u8 = 21;
    pub const VPS: u8 = 32;
    pub const SPS: u8 = 33;
    pub const PPS: u8 = 34;
    pub const AUD: u8 = 35;
    pub const PREFIX_SEI: u8 = 39;
}

/// The NAL units of an Annex B byte stream, each without its start code.
///
/// A start code is `00 00 01`; the extra leading zero of the 4-byte form
/// (and any trailing_zero_8bits) is not part of a NAL unit, whose last byte
/// is never zero, so trailing zeros are dropped. Bytes before the first
/// start code are not a NAL unit and are skipped; empty units are skipped.
#[derive(Debug, Clone)]
pub struct NalUnits<'a> {
    rest: &'a [u8],
}

/// Splits `data` into its NAL units. See [`NalUnits`].
pub fn nal_units(data: &[u8]) -> NalUnits<'_> {
    let rest = match find_start_code(data) {
        Some(at) => &data[at + 3..],
        None => &[],
    };
    NalUnits { rest }
}

/// Where the next `00 00 01` begins.
fn find_start_code(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = data.get(from + 2..)?.iter().position(|&b| b == 1) {
        let one = from + 2 + offset;
        if data[one - 2..one] == [0, 0] {
            return Some(one - 2);
        }
        from = one - 1;
    }
    None
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while !self.rest.is_empty() {
            let (unit, rest) = match find_start_code(self.rest) {
                Some(at) => (&self.rest[..at], &self.rest[at + 3..]),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let end = unit.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            if end > 0 {
                return Some(&unit[..end]);
            }
        }
        None
    }
}

/// Which parameter set a NAL unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterSetKind {
    Vps,
    Sps,
    Pps,
}

impl VideoCodec {
    /// The nal_unit_type of a NAL unit (start code removed): the low 5
    /// bits of its first byte for H.264, bits 6..1 for HEVC. `None` for
    /// codecs without NAL units, or an empty unit.
    pub fn nal_type(self, nal: &[u8]) -> Option<u8> {
        let first = *nal.first()?;
        match self {
            VideoCodec::H264 => Some(first & 0x1F),
            VideoCodec::Hevc => Some((first >> 1) & 0x3F),
            VideoCodec::Mpeg2 | VideoCodec::Av1 => None,
        }
    }

    /// Whether a NAL unit of this type starts a picture a decoder can
    /// begin with: an IDR slice for H.264, an IRAP picture for HEVC.
    pub fn is_key_nal_type(self, nal_type: u8) -> bool {
        match self {
            VideoCodec::H264 => nal_type == h264::IDR_SLICE,
            VideoCodec::Hevc => hevc::IRAP.contains(&nal_type),
            VideoCodec::Mpeg2 | VideoCodec::Av1 => false,
        }
    }

    /// The parameter set a NAL unit of this type carries, if any.
    pub fn parameter_set_kind(self, nal_type: u8) -> Option<ParameterSetKind> {
        match (self, nal_type) {
            (VideoCodec::H264, h264::SPS) | (VideoCodec::Hevc, hevc::SPS) => {
                Some(ParameterSetKind::Sps)
            }
            (VideoCodec::H264, h264::PPS) | (VideoCodec::Hevc, hevc::PPS) => {
                Some(ParameterSetKind::Pps)
            }
            (VideoCodec::Hevc, hevc::VPS) => Some(ParameterSetKind::Vps),
            _ => None,
        }
    }

    /// Whether units of this codec are Annex B NAL unit streams.
    pub fn has_nal_units(self) -> bool {
        matches!(self, VideoCodec::H264 | VideoCodec::Hevc)
    }
}

/// The SEI payloadType of a recovery point, in H.264 and HEVC alike.
const SEI_RECOVERY_POINT: u32 = 6;

/// Whether `nal` is an SEI NAL unit (H.264 type 6, HEVC prefix SEI) with
/// a recovery_point message among its messages.
pub(super) fn has_recovery_point_sei(codec: VideoCodec, nal: &[u8]) -> bool {
    let (header_len, sei) = match codec {
        VideoCodec::H264 => (1, h264::SEI),
        VideoCodec::Hevc => (2, hevc::PREFIX_SEI),
        VideoCodec::Mpeg2 | VideoCodec::Av1 => return false,
    };
    if codec.nal_type(nal) != Some(sei) {
        return false;
    }
    let rbsp = unescape(nal.get(header_len..).unwrap_or_default());
    let found = sei_payload_types(&rbsp).any(|t| t == SEI_RECOVERY_POINT);
    found
}

/// The RBSP of a NAL unit: each emulation_prevention_three_byte (a 03
/// after two zero bytes) removed.
pub(crate) fn unescape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut zeros = 0;
    for &b in bytes {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// The payloadType of each sei_message in an SEI RBSP (H.264 7.3.2.3.1):
/// type and size are each a run of 0xFF bytes (255 each) plus a last
/// byte. Stops at the trailing bits or where a message runs out.
fn sei_payload_types(mut rbsp: &[u8]) -> impl Iterator<Item = u32> + '_ {
    core::iter::from_fn(move || {
        if rbsp.first().is_none_or(|&b| b == 0x80) {
            return None;
        }
        let payload_type = read_sei_number(&mut rbsp)?;
        let size = read_sei_number(&mut rbsp)? as usize;
        rbsp = rbsp.get(size..).unwrap_or_default();
        Some(payload_type)
    })
}

fn read_sei_number(bytes: &mut &[u8]) -> Option<u32> {
    let mut value = 0u32;
    loop {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value = value.saturating_add(u32::from(b));
        if b != 0xFF {
            return Some(value);
        }
    }
}

/// The longest parameter set kept. Real SPS/PPS/VPS are tens to a few
/// hundred bytes; anything near this is damage, not a parameter set.
pub const MAX_PARAMETER_SET_LEN: usize = 4096;

/// The latest parameter sets seen on a video track, each NAL unit without
/// its start code. HEVC uses all three, H.264 only `sps` and `pps`.
///
/// Only the latest of each kind is kept: a stream that alternates several
/// SPS or PPS ids is not described completely (our encoders use one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterSets {
    pub codec: VideoCodec,
    pub vps: Option<Vec<u8>>,
    pub sps: Option<Vec<u8>>,
    pub pps: Option<Vec<u8>>,
}

impl ParameterSets {
    pub fn new(codec: VideoCodec) -> ParameterSets {
        ParameterSets {
            codec,
            vps: None,
            sps: None,
            pps: None,
        }
    }

    /// Whether a decoder configuration can be built: SPS and PPS, and the
    /// VPS too for HEVC.
    pub fn is_complete(&self) -> bool {
        let vps_ok = self.codec != VideoCodec::Hevc || self.vps.is_some();
        vps_ok && self.sps.is_some() && self.pps.is_some()
    }

    /// The sets in decoding order (VPS, SPS, PPS), those known.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        [&self.vps, &self.sps, &self.pps]
            .into_iter()
            .filter_map(|set| set.as_deref())
    }

    /// For H.264: profile_idc, the constraint flags and level_idc, the
    /// three bytes after the SPS's NAL header (what avcC and the SDP's
    /// profile-level-id carry).
    pub fn h264_profile_level(&self) -> Option<[u8; 3]> {
        let sps = self
            .sps
            .as_deref()
            .filter(|_| self.codec == VideoCodec::H264)?;
        let bytes = sps.get(1..4)?;
        Some([bytes[0], bytes[1], bytes[2]])
    }

    /// Keeps `nal` if it is a parameter set; `Ok(true)` if that changed
    /// what is kept, `Err(len)` if it is too long to keep.
    pub(super) fn update(&mut self, nal: &[u8]) -> Result<bool, usize> {
        let Some(kind) = self
            .codec
            .nal_type(nal)
            .and_then(|t| self.codec.parameter_set_kind(t))
        else {
            return Ok(false);
        };
        if nal.len() > MAX_PARAMETER_SET_LEN {
            return Err(nal.len());
        }
        let slot = match kind {
            ParameterSetKind::Vps => &mut self.vps,
            ParameterSetKind::Sps => &mut self.sps,
            ParameterSetKind::Pps => &mut self.pps,
        };
        if slot.as_deref() == Some(nal) {
            return Ok(false);
        }
        *slot = Some(nal.to_vec());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_three_and_four_byte_start_codes() {
        let data = [
            0xAA, // junk before the first start code
            0, 0, 0, 1, 0x09, 0xF0, // AUD, 4-byte code
            0, 0, 1, 0x67, 0x42, 0, 0x1F, // SPS, 3-byte code
            0, 0, 0, 1, 0x68, 0xCE, // PPS
            0, 0, 1, // an empty unit
            0, 0, 1, 0x65, 0x88, 0x80, 0, 0, // IDR with trailing zeros
        ];
        let units: Vec<&[u8]> = nal_units(&data).collect();
        assert_eq!(
            units,
            [
                &[0x09, 0xF0][..],
                &[0x67, 0x42, 0, 0x1F],
                &[0x68, 0xCE],
                &[0x65, 0x88, 0x80],
            ]
        );
        assert_eq!(nal_units(&[0, 0, 2, 0x65]).count(), 0);
        assert_eq!(nal_units(&[]).count(), 0);
        assert_eq!(nal_units(&[0, 0, 1]).count(), 0);
        assert_eq!(nal_units(&[1, 0, 0, 1, 1]).collect::<Vec<_>>(), [&[1][..]]);
    }

    #[test]
    fn nal_types_and_keys() {
        let h264 = VideoCodec::H264;
        assert_eq!(h264.nal_type(&[0x65]), Some(5));
        assert_eq!(h264.nal_type(&[0x41]), Some(1));
        assert!(h264.is_key_nal_type(5) && !h264.is_key_nal_type(1));
        let hevc = VideoCodec::Hevc;
        // 0x26 0x01: IDR_W_RADL (19); 0x2A 0x01: CRA (21); 0x02 0x01: TRAIL_R (1).
        assert_eq!(hevc.nal_type(&[0x26, 0x01]), Some(hevc::IDR_W_RADL));
        assert_eq!(hevc.nal_type(&[0x2A, 0x01]), Some(hevc::CRA));
        assert_eq!(hevc.nal_type(&[0x40, 0x01]), Some(hevc::VPS));
        assert!((16..=23).all(|t| hevc.is_key_nal_type(t)));
        assert!(!hevc.is_key_nal_type(1) && !hevc.is_key_nal_type(24));
        assert_eq!(VideoCodec::Mpeg2.nal_type(&[0x65]), None);
    }

    #[test]
    fn recovery_point_sei_is_found_among_messages() {
        let h264 = VideoCodec::H264;
        // SEI: user_data_unregistered (5) of 3 bytes, then recovery_point
        // (6) of 2 bytes (recovery_frame_cnt 0 ...), then trailing bits.
        let sei = [0x06, 0x05, 0x03, 1, 2, 3, 0x06, 0x02, 0x80, 0x08, 0x80];
        assert!(has_recovery_point_sei(h264, &sei));
        // Only the user data: no recovery point.
        assert!(!has_recovery_point_sei(
            h264,
            &[0x06, 0x05, 0x02, 6, 6, 0x80]
        ));
        // A payload with 00 00 03 inside: the 03 is not counted in its size.
        let escaped = [0x06, 0x05, 0x03, 0, 0, 3, 1, 0x06, 0x01, 0x84, 0x80];
        assert!(has_recovery_point_sei(h264, &escaped));
        // A type of 255 + 6 is not 6; a slice is not an SEI.
        assert!(!has_recovery_point_sei(
            h264,
            &[0x06, 0xFF, 0x06, 0x01, 0, 0x80]
        ));
        assert!(!has_recovery_point_sei(h264, &[0x65, 0x06, 0x01, 0]));
        // HEVC prefix SEI (39): two header bytes 0x4E 0x01.
        let hevc = [0x4E, 0x01, 0x06, 0x01, 0x84, 0x80];
        assert!(has_recovery_point_sei(VideoCodec::Hevc, &hevc));
        assert!(!has_recovery_point_sei(VideoCodec::Mpeg2, &sei));
        assert!(!has_recovery_point_sei(h264, &[0x06]));
    }

    #[test]
    fn parameter_sets_keep_the_latest_and_say_when_they_change() {
        let mut sets = ParameterSets::new(VideoCodec::H264);
        assert_eq!(sets.update(&[0x67, 0x64, 0x00, 0x28]), Ok(true));
        assert_eq!(sets.update(&[0x67, 0x64, 0x00, 0x28]), Ok(false));
        assert!(!sets.is_complete());
        assert_eq!(sets.update(&[0x68, 0xEE]), Ok(true));
        assert_eq!(sets.update(&[0x65, 0x88]), Ok(false));
        assert!(sets.is_complete());
        assert_eq!(sets.h264_profile_level(), Some([0x64, 0x00, 0x28]));
        assert_eq!(sets.update(&[0x67, 0x4D, 0x00, 0x1F]), Ok(true));
        assert_eq!(sets.iter().count(), 2);
        let long = [&[0x68][..], &[1; MAX_PARAMETER_SET_LEN]].concat();
        assert_eq!(sets.update(&long), Err(MAX_PARAMETER_SET_LEN + 1));

        let mut hevc = ParameterSets::new(VideoCodec::Hevc);
        for nal in [[0x42, 0x01], [0x44, 0x01]] {
            assert_eq!(hevc.update(&nal), Ok(true)); // SPS, PPS
        }
        assert!(!hevc.is_complete(), "HEVC needs its VPS");
        assert_eq!(hevc.update(&[0x40, 0x01]), Ok(true));
        assert!(hevc.is_complete());
        assert_eq!(hevc.h264_profile_level(), None);
    }
}
