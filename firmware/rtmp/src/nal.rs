//! NAL units: split out of an Annex B byte stream, stripped of emulation
//! prevention, and read bit by bit (Exp-Golomb included) far enough to
//! learn what FLV's headers and onMetaData need from a sequence parameter
//! set: profile, level, chroma format, bit depth, picture size.
//!
//! Every reader returns `None` rather than panicking when the bytes run
//! out or a value is out of range.

/// The NAL units of an Annex B access unit (start codes of three or four
/// bytes), without their start codes; empty units are skipped.
pub fn split_annex_b(data: &[u8]) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if let Some(s) = start {
                units.push(trim_trailing_zeros(&data[s..i]));
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    match start {
        Some(s) => units.push(&data[s..]),
        // No start code at all: the whole buffer is one unit.
        None if !data.is_empty() => units.push(data),
        None => {}
    }
    units.retain(|u| !u.is_empty());
    units
}

/// A four-byte start code leaves a zero at the end of the unit before it.
fn trim_trailing_zeros(unit: &[u8]) -> &[u8] {
    let end = unit.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    &unit[..end]
}

/// The unit's payload with emulation prevention bytes (the 3 of
/// 00 00 03) removed.
pub fn unescape(unit: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(unit.len());
    let mut zeros = 0;
    for &b in unit {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Reads bits, most significant first.
#[derive(Debug)]
pub struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> BitReader<'a> {
        BitReader { data, bit: 0 }
    }

    pub fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.bit / 8)?;
        let value = (byte >> (7 - self.bit % 8)) & 1;
        self.bit += 1;
        Some(u32::from(value))
    }

    /// Up to 32 bits.
    pub fn bits(&mut self, n: u32) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n.min(32) {
            value = (value << 1) | self.bit()?;
        }
        Some(value)
    }

    pub fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.bit.checked_add(n)?;
        if end > self.data.len() * 8 {
            return None;
        }
        self.bit = end;
        Some(())
    }

    /// ue(v); values past 2^32-2 are refused.
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        ((1u64 << zeros) - 1 + u64::from(rest)).try_into().ok()
    }

    /// se(v).
    pub fn se(&mut self) -> Option<i32> {
        let k = i64::from(self.ue()?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(v).ok()
    }
}

/// What onMetaData says of the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureSize {
    pub width: u32,
    pub height: u32,
}

/// The picture size an H.264 SPS (with its one-byte NAL header) gives,
/// after cropping.
pub fn h264_picture_size(sps: &[u8]) -> Option<PictureSize> {
    let rbsp = unescape(sps.get(1..)?);
    let mut r = BitReader::new(&rbsp);
    let profile = r.bits(8)?;
    r.skip(16)?;
    r.ue()?;
    let mut chroma_format = 1;
    let mut separate_planes = false;
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format = r.ue()?;
        if chroma_format == 3 {
            separate_planes = r.bit()? == 1;
        }
        r.ue()?;
        r.ue()?;
        r.bit()?;
        if r.bit()? == 1 {
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? == 1 {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?;
    match r.ue()? {
        0 => {
            r.ue()?;
        }
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?;
    r.bit()?;
    let width_mbs = r.ue()?.checked_add(1)?;
    let height_units = r.ue()?.checked_add(1)?;
    let frame_mbs_only = r.bit()?;
    if frame_mbs_only == 0 {
        r.bit()?;
    }
    r.bit()?;
    let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
    if r.bit()? == 1 {
        left = r.ue()?;
        right = r.ue()?;
        top = r.ue()?;
        bottom = r.ue()?;
    }
    let field_factor = 2 - frame_mbs_only;
    let (crop_x, crop_y): (u32, u32) = match (chroma_format, separate_planes) {
        (1, false) => (2, 2 * field_factor),
        (2, false) => (2, field_factor),
        _ => (1, field_factor),
    };
    let width = width_mbs
        .checked_mul(16)?
        .checked_sub(crop_x.checked_mul(left.checked_add(right)?)?)?;
    let height = height_units
        .checked_mul(16 * field_factor)?
        .checked_sub(crop_y.checked_mul(top.checked_add(bottom)?)?)?;
    Some(PictureSize { width, height })
}

fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Option<()> {
    let mut last = 8i64;
    let mut next = 8i64;
    for _ in 0..size {
        if next != 0 {
            // delta_scale is meant to be -128..=127; a bigger one must
            // not overflow the sum.
            next = (last + i64::from(r.se()?) + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// What an HEVC SPS tells the decoder configuration record and
/// onMetaData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcSps {
    /// general_profile_space, tier, profile_idc, the 32 compatibility
    /// flags, the 48 constraint bits and level_idc: the 12 bytes the
    /// record copies as they are.
    pub general_ptl: [u8; 12],
    pub max_sub_layers: u8,
    pub temporal_id_nested: bool,
    pub chroma_format_idc: u8,
    pub bit_depth_luma_minus8: u8,
    pub bit_depth_chroma_minus8: u8,
    pub size: PictureSize,
}

/// Reads an HEVC SPS (with its two-byte NAL header).
pub fn hevc_sps(sps: &[u8]) -> Option<HevcSps> {
    let rbsp = unescape(sps.get(2..)?);
    let mut r = BitReader::new(&rbsp);
    r.skip(4)?;
    let max_sub_layers_minus1 = r.bits(3)?;
    let temporal_id_nested = r.bit()? == 1;
    let general_ptl: [u8; 12] = rbsp.get(1..13)?.try_into().ok()?;
    r.skip(96)?;
    let mut profile_present = [false; 8];
    let mut level_present = [false; 8];
    for i in 0..max_sub_layers_minus1 as usize {
        profile_present[i] = r.bit()? == 1;
        level_present[i] = r.bit()? == 1;
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1 as usize))?;
    }
    for i in 0..max_sub_layers_minus1 as usize {
        if profile_present[i] {
            r.skip(88)?;
        }
        if level_present[i] {
            r.skip(8)?;
        }
    }
    r.ue()?;
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc > 3 {
        return None;
    }
    if chroma_format_idc == 3 {
        r.bit()?;
    }
    let width = r.ue()?;
    let height = r.ue()?;
    let (mut left, mut right, mut top, mut bottom) = (0u32, 0u32, 0u32, 0u32);
    if r.bit()? == 1 {
        left = r.ue()?;
        right = r.ue()?;
        top = r.ue()?;
        bottom = r.ue()?;
    }
    let sub_width: u32 = if chroma_format_idc == 1 || chroma_format_idc == 2 {
        2
    } else {
        1
    };
    let sub_height: u32 = if chroma_format_idc == 1 { 2 } else { 1 };
    let bit_depth_luma_minus8 = u8::try_from(r.ue()?).ok().filter(|d| *d <= 8)?;
    let bit_depth_chroma_minus8 = u8::try_from(r.ue()?).ok().filter(|d| *d <= 8)?;
    Some(HevcSps {
        general_ptl,
        max_sub_layers: max_sub_layers_minus1 as u8 + 1,
        temporal_id_nested,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma_minus8,
        bit_depth_chroma_minus8,
        size: PictureSize {
            width: width.checked_sub(sub_width.checked_mul(left.checked_add(right)?)?)?,
            height: height.checked_sub(sub_height.checked_mul(top.checked_add(bottom)?)?)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_splits_on_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 9, 0xF0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3,
        ];
        assert_eq!(
            split_annex_b(&data),
            vec![&[9, 0xF0][..], &[0x67, 1, 2][..], &[0x68, 3][..]]
        );
        assert!(split_annex_b(&[]).is_empty());
        assert_eq!(split_annex_b(&[0x65, 1]), vec![&[0x65, 1][..]]);
    }

    #[test]
    fn emulation_prevention_bytes_are_removed() {
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3, 0]), [0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn exp_golomb_codes_read_back() {
        // 1 | 010 | 011 | 00100 | 00101 -> ue 0, 1, 2, 3; se -2
        let bits = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new(&bits);
        assert_eq!(r.ue(), Some(0));
        assert_eq!(r.ue(), Some(1));
        assert_eq!(r.ue(), Some(2));
        assert_eq!(r.ue(), Some(3));
        assert_eq!(r.se(), Some(-2));
        assert_eq!(BitReader::new(&[0, 0, 0, 0, 0]).ue(), None);
    }

    use crate::testdata::{HEVC_SPS_360P, SPS_720P};

    #[test]
    fn an_h264_sps_gives_its_picture_size() {
        assert_eq!(
            h264_picture_size(&SPS_720P),
            Some(PictureSize {
                width: 1280,
                height: 720
            })
        );
        assert_eq!(h264_picture_size(&SPS_720P[..6]), None);
    }

    #[test]
    fn an_hevc_sps_gives_its_profile_level_and_size() {
        let sps = hevc_sps(&HEVC_SPS_360P).unwrap();
        assert_eq!(
            sps.general_ptl,
            [0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x3F]
        );
        assert_eq!(sps.max_sub_layers, 1);
        assert!(sps.temporal_id_nested);
        assert_eq!(sps.chroma_format_idc, 1);
        assert_eq!(sps.bit_depth_luma_minus8, 0);
        assert_eq!(
            sps.size,
            PictureSize {
                width: 640,
                height: 360
            }
        );
        assert_eq!(hevc_sps(&HEVC_SPS_360P[..10]), None);
    }
    #[test]
    fn huge_cropping_is_refused_not_overflowed() {
        // Found by the rtmp_client fuzz target: crop offsets whose sum
        // times the crop unit overflowed 32 bits.
        const SPS: [u8; 48] = [
            0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x7B, 0x01, 0x00, 0x00, 0x10, 0x00,
            0x00, 0x00, 0x00, 0x29, 0x0A, 0x89, 0x00, 0x68, 0x31, 0x00, 0x01, 0x03, 0x00, 0x00,
            0x00, 0x00, 0x2A, 0x00, 0x7B, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x29,
            0x0A, 0x89, 0x00, 0x68, 0x87, 0x87,
        ];
        assert_eq!(h264_picture_size(&SPS), None);
        assert_eq!(hevc_sps(&SPS), None);
    }
}
