//! The T-STD's buffers for one video stream (ISO/IEC 13818-1 §2.4.2):
//! the transport buffer TBn (512 bytes, drained at Rxn), the multiplexing
//! buffer MBn (drained into EBn at Rbxn, the leak method), and the
//! elementary stream buffer EBn (emptied unit by unit at their decoding
//! times), sized from the stream's profile and level by each codec's rules:
//!
//! | codec | R (bit/s) | EBSn | MBSn beyond BSmux + BSoh | Rxn | Rbxn |
//! |---|---|---|---|---|---|
//! | MPEG-2 video (§2.4.2.3-2.4.2.4) | Rmax[profile, level] | vbv_buffer_size | VBVmax − vbv_buffer_size | 1.2 R | R |
//! | H.264 (§2.14.3) | cpbBrNalFactor × MaxBR[level] | cpbBrNalFactor × MaxCPB[level] | — | 1.2 R | R |
//! | HEVC (§2.17.2) | CpbNalFactor (1100) × MaxBR[tier, level] | 1100 × MaxCPB[tier, level] | — | 1.2 R | R |
//! | AV1 (AOM carriage §3.7) | 1.1 × BitRate (MaxBitrate[level, tier] × profile factor) | BufferSize = 1 s × BitRate | 0.1 × BufferSize | R | R |
//!
//! with BSmux = 0.004 s × max(R, 2 Mbit/s) and BSoh = max(R, 2 Mbit/s) /
//! 750 s. AV1's carriage spec writes "1100 × BitRate", copied from HEVC,
//! whose MaxBR counts kbit/s; AV1's BitRate counts bit/s, so it is read
//! as 1.1 × BitRate, the rate it also gives Rxn and Rbxn.
//! The stream's own HRD or decoder model parameters, where present, may
//! size the buffers smaller; the level's are what every stream of that
//! level may use, so that is what a stream is judged by.

use super::level::VideoLevel;

/// Sizes in bytes, rates in bit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoBuffers {
    pub tbs: u64,
    pub rx_bps: u64,
    pub mbs: u64,
    pub rbx_bps: u64,
    pub ebs: u64,
}

/// TBS for every stream type (§2.4.2.4).
pub const TBS: u64 = 512;

impl VideoBuffers {
    /// The buffers a stream of this level gets, or `None` for a level
    /// the tables do not know (reserved values, AV1's level 31).
    pub fn for_level(level: &VideoLevel) -> Option<VideoBuffers> {
        match *level {
            VideoLevel::H264 {
                profile_idc,
                level_idc,
            } => {
                let (max_br, max_cpb) = h264_limits(level_idc)?;
                let factor = h264_nal_factor(profile_idc);
                Some(Self::with(factor * max_br, factor * max_cpb, 0, 12, 10))
            }
            VideoLevel::Hevc {
                high_tier,
                level_idc,
            } => {
                let (max_br, max_cpb) = hevc_limits(level_idc, high_tier)?;
                Some(Self::with(1100 * max_br, 1100 * max_cpb, 0, 12, 10))
            }
            VideoLevel::Mpeg2 {
                profile_and_level,
                vbv_buffer_bits,
            } => {
                let (rmax, vbv_max) = mpeg2_limits(profile_and_level)?;
                let extra = vbv_max.saturating_sub(vbv_buffer_bits);
                Some(Self::with(rmax, vbv_buffer_bits, extra, 12, 10))
            }
            VideoLevel::Av1 {
                seq_profile,
                seq_level_idx,
                high_tier,
            } => {
                let bit_rate = av1_max_bitrate(seq_profile, seq_level_idx, high_tier)?;
                let buffer_size = bit_rate; // 1 s of BitRate
                let rate = bit_rate * 11 / 10;
                Some(Self::with(rate, buffer_size, buffer_size / 10, 10, 10))
            }
        }
    }

    /// From R and EBSn in bits, MBSn's codec-specific part in bits, and
    /// Rxn as R × `rx_tenths` / 10, Rbxn as R × `rbx_tenths` / 10.
    fn with(r: u64, ebs_bits: u64, mb_extra_bits: u64, rx_tenths: u64, rbx_tenths: u64) -> Self {
        let floor = r.max(2_000_000);
        let bs_mux = floor * 4 / 1000;
        let bs_oh = floor / 750;
        VideoBuffers {
            tbs: TBS,
            rx_bps: r * rx_tenths / 10,
            mbs: (bs_mux + bs_oh + mb_extra_bits) / 8,
            rbx_bps: r * rbx_tenths / 10,
            ebs: ebs_bits / 8,
        }
    }
}

/// cpbBrNalFactor (H.264 Table A-2): 1200 for Baseline, Main and
/// Extended, 1500 for High, 3600 for High 10, 4800 for the 4:2:2 and
/// 4:4:4 profiles.
fn h264_nal_factor(profile_idc: u8) -> u64 {
    match profile_idc {
        100 => 1500,
        110 => 3600,
        122 | 244 | 44 => 4800,
        _ => 1200,
    }
}

/// (MaxBR, MaxCPB) of H.264 Table A-1, in units of 1000 bits (of the
/// factor's bits): level_idc 9 is level 1b.
fn h264_limits(level_idc: u8) -> Option<(u64, u64)> {
    Some(match level_idc {
        10 => (64, 175),
        9 => (128, 350),
        11 => (192, 500),
        12 => (384, 1_000),
        13 => (768, 2_000),
        20 => (2_000, 2_000),
        21 | 22 => (4_000, 4_000),
        30 => (10_000, 10_000),
        31 => (14_000, 14_000),
        32 => (20_000, 20_000),
        40 => (20_000, 25_000),
        41 | 42 => (50_000, 62_500),
        50 => (135_000, 135_000),
        51 | 52 => (240_000, 240_000),
        60 => (240_000, 240_000),
        61 => (480_000, 480_000),
        62 => (800_000, 800_000),
        _ => return None,
    })
}

/// (MaxBR, MaxCPB) of H.265 Table A-8 (general tier and level limits),
/// in units of 1000 bits: Main tier, or High tier from level 4.
fn hevc_limits(level_idc: u8, high_tier: bool) -> Option<(u64, u64)> {
    let (main, high) = match level_idc {
        30 => ((128, 350), None),
        60 => ((1_500, 1_500), None),
        63 => ((3_000, 3_000), None),
        90 => ((6_000, 6_000), None),
        93 => ((10_000, 10_000), None),
        120 => ((12_000, 12_000), Some((30_000, 30_000))),
        123 => ((20_000, 20_000), Some((50_000, 50_000))),
        150 => ((25_000, 25_000), Some((100_000, 100_000))),
        153 => ((40_000, 40_000), Some((160_000, 160_000))),
        156 | 180 => ((60_000, 60_000), Some((240_000, 240_000))),
        183 => ((120_000, 120_000), Some((480_000, 480_000))),
        186 => ((240_000, 240_000), Some((800_000, 800_000))),
        _ => return None,
    };
    Some(if high_tier { high? } else { main })
}

/// (Rmax in bit/s, VBVmax in bits) of ISO/IEC 13818-2 Tables 8-12 and
/// 8-13 for profile_and_level_indication (escape bit, profile 3 bits,
/// level 4 bits: Simple 5, Main 4, High 1; Low 10, Main 8, High-1440 6,
/// High 4; 4:2:2 is 0x85 at Main level, 0x82 at High).
fn mpeg2_limits(profile_and_level: u8) -> Option<(u64, u64)> {
    Some(match profile_and_level {
        0x58 | 0x48 => (15_000_000, 1_835_008),
        0x4A => (4_000_000, 475_136),
        0x46 => (60_000_000, 7_340_032),
        0x44 => (80_000_000, 9_781_248),
        0x18 => (20_000_000, 2_441_216),
        0x16 => (80_000_000, 9_781_248),
        0x14 => (100_000_000, 12_222_464),
        0x85 => (50_000_000, 9_437_184),
        0x82 => (300_000_000, 47_185_920),
        _ => return None,
    })
}

/// MaxBitrate (AV1 Annex A.3) in bit/s: MainMbps or HighMbps of the
/// level times BitrateProfileFactor (1, 2, 3 for profiles 0, 1, 2).
/// High tier exists from level 4.0 (seq_level_idx 8).
fn av1_max_bitrate(seq_profile: u8, seq_level_idx: u8, high_tier: bool) -> Option<u64> {
    // (MainMbps, HighMbps) × 10, by seq_level_idx; None: not defined.
    const MBPS_X10: [Option<(u64, u64)>; 24] = [
        Some((15, 0)),
        Some((30, 0)),
        None,
        None,
        Some((60, 0)),
        Some((100, 0)),
        None,
        None,
        Some((120, 300)),
        Some((200, 500)),
        None,
        None,
        Some((300, 1_000)),
        Some((400, 1_600)),
        Some((600, 2_400)),
        Some((600, 2_400)),
        Some((600, 2_400)),
        Some((1_000, 4_800)),
        Some((1_600, 8_000)),
        Some((1_600, 8_000)),
        None,
        None,
        None,
        None,
    ];
    let (main, high) = (*MBPS_X10.get(usize::from(seq_level_idx))?)?;
    let mbps_x10 = if high_tier { high } else { main };
    let factor = u64::from(seq_profile) + 1;
    (mbps_x10 > 0 && seq_profile <= 2).then_some(mbps_x10 * 100_000 * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_codec_gets_its_own_buffers() {
        // H.264 High@3.1: R = 1500 × 14 000 = 21 Mbit/s; EBS = 1500 ×
        // 14 000 bits = 2 625 000 bytes; MBS = (84 000 + 28 000) / 8.
        let h264 = VideoBuffers::for_level(&VideoLevel::H264 {
            profile_idc: 100,
            level_idc: 31,
        });
        assert_eq!(
            h264,
            Some(VideoBuffers {
                tbs: 512,
                rx_bps: 25_200_000,
                mbs: 14_000,
                rbx_bps: 21_000_000,
                ebs: 2_625_000,
            })
        );
        // HEVC Main tier 3.1: R = 11 Mbit/s, EBS 11 000 000 bits.
        let hevc = VideoBuffers::for_level(&VideoLevel::Hevc {
            high_tier: false,
            level_idc: 93,
        })
        .unwrap();
        assert_eq!(
            (hevc.rbx_bps, hevc.rx_bps, hevc.ebs),
            (11_000_000, 13_200_000, 1_375_000)
        );
        // MPEG-2 MP@ML with a 14 × 16 kbit VBV: MBS = BSmux 60 000 + BSoh
        // 20 000 + 1 835 008 − 229 376 bits.
        let mpeg2 = VideoBuffers::for_level(&VideoLevel::Mpeg2 {
            profile_and_level: 0x48,
            vbv_buffer_bits: 229_376,
        })
        .unwrap();
        assert_eq!(mpeg2.mbs, (60_000 + 20_000 + 1_835_008 - 229_376) / 8);
        assert_eq!(
            (mpeg2.rx_bps, mpeg2.rbx_bps, mpeg2.ebs),
            (18_000_000, 15_000_000, 28_672)
        );
        // AV1 profile 0 level 4.0 main: BitRate 12 Mbit/s; R 13.2 Mbit/s;
        // EBS 1 s = 1.5 MB; MBS = (52 800 + 17 600 + 1 200 000) / 8.
        let av1 = VideoBuffers::for_level(&VideoLevel::Av1 {
            seq_profile: 0,
            seq_level_idx: 8,
            high_tier: false,
        })
        .unwrap();
        assert_eq!(
            (av1.rx_bps, av1.rbx_bps, av1.ebs),
            (13_200_000, 13_200_000, 1_500_000)
        );
        assert_eq!(av1.mbs, (52_800 + 17_600 + 1_200_000) / 8);
        // Profile 2 triples the rate; a main-only level has no high tier.
        let high = VideoLevel::Av1 {
            seq_profile: 2,
            seq_level_idx: 9,
            high_tier: true,
        };
        // HighMbps 50 at level 4.1, × 3 for profile 2: 150 Mbit/s.
        assert_eq!(VideoBuffers::for_level(&high).unwrap().ebs, 150_000_000 / 8);
        for unknown in [
            VideoLevel::Av1 {
                seq_profile: 0,
                seq_level_idx: 31,
                high_tier: false,
            },
            VideoLevel::Av1 {
                seq_profile: 0,
                seq_level_idx: 1,
                high_tier: true,
            },
            VideoLevel::Hevc {
                high_tier: true,
                level_idc: 93,
            },
            VideoLevel::H264 {
                profile_idc: 66,
                level_idc: 7,
            },
        ] {
            assert_eq!(VideoBuffers::for_level(&unknown), None, "{unknown:?}");
        }
    }
}
