//! What a muxer is built from: a [`MuxConfig`] anyone can fill in, and
//! the [`ValidMuxConfig`] that [`MuxConfig::validate`] turns it into.

use makara_media::{AudioCodec, VideoCodec, PCR_HZ};
use thiserror::Error;

use crate::packet::PACKET_LEN;
pub use crate::sdt::DvbName;

/// The PMT PID, as ffmpeg and most encoders default it.
pub const DEFAULT_PMT_PID: u16 = 0x1000;
pub const DEFAULT_VIDEO_PID: u16 = 0x0100;
pub const DEFAULT_AUDIO_PID: u16 = 0x0101;
pub const DEFAULT_KLV_PID: u16 = 0x0102;
pub const DEFAULT_TRANSPORT_STREAM_ID: u16 = 1;
pub const DEFAULT_PROGRAM_NUMBER: u16 = 1;
/// DVB's recommendation; ISO/IEC 13818-1 allows up to 100 ms.
pub const DEFAULT_PCR_INTERVAL_MS: u32 = 40;
pub const DEFAULT_PSI_INTERVAL_MS: u32 = 100;
/// Both intervals are at most this long (ISO/IEC 13818-1 §2.7.2, §2.7.4).
pub const MAX_INTERVAL_MS: u32 = 100;
/// How often the SDT repeats: EN 300 468 §5.1.4 and TS 101 211 allow up
/// to 2 s; a receiver that tunes in shows the name within half a second.
pub const SDT_INTERVAL_MS: u32 = 500;
pub const DEFAULT_MAX_BACKLOG_MS: u32 = 2_000;
pub const MAX_BACKLOG_MS_RANGE: (u32, u32) = (100, 10_000);
/// PIDs below 0x20 are reserved or used by DVB/ATSC tables; 0x1FFF is null.
pub const PID_RANGE: (u16, u16) = (0x0020, 0x1FFE);
/// The slowest mux still has [`MIN_SLOTS_PER_INTERVAL`] packet slots in
/// [`MAX_INTERVAL_MS`] (which takes 120.32 kbit/s).
pub const MUX_RATE_RANGE_BPS: (u64, u64) = (125_000, 1_000_000_000);

/// The PCR and PSI schedules need room to move: an interval must span at
/// least this many packet slots (see `Muxer::fill_slot`).
pub(crate) const MIN_SLOTS_PER_INTERVAL: u64 = 8;

/// One program: its PIDs and codecs, the mux rate (constant, or a peak
/// for a variable-rate stream), and how often PCR and PSI repeat. PIDs are 13-bit values; `video` and `audio` are
/// `(pid, codec)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuxConfig {
    pub transport_stream_id: u16,
    pub program_number: u16,
    pub pmt_pid: u16,
    pub video: Option<(u16, VideoCodec)>,
    pub audio: Option<(u16, AudioCodec)>,
    pub klv_pid: Option<u16>,
    /// The total output rate, null packets included, in bit/s. With
    /// `variable_rate`, the peak: the rate of the slot grid packets are
    /// sent on.
    pub mux_rate_bps: u64,
    /// A variable-rate stream: slots with nothing to send stay empty
    /// instead of carrying a null packet. PAT, PMT and PCR keep their
    /// intervals, so an idle stream still carries those.
    pub variable_rate: bool,
    pub pcr_interval_ms: u32,
    pub psi_interval_ms: u32,
    /// How much unsent payload may wait, in milliseconds at the mux rate,
    /// before the oldest whole units are dropped.
    pub max_backlog_ms: u32,
    /// The receiver's video buffer (EBSn), in bytes: sent video not yet
    /// decoded never exceeds it. `None`: only the 1 s limit holds.
    pub video_buffer_bytes: Option<u32>,
    /// This muxer continues a stream that an earlier one sent (a new run):
    /// continuity counters and the PCR start again, so the first packet
    /// of every PID sets discontinuity_indicator (§2.4.3.5).
    pub restart: bool,
    /// The SDT's service_provider_name and service_name.
    pub service_provider: DvbName,
    pub service_name: DvbName,
}

impl MuxConfig {
    /// H.264 on 0x100 and AAC on 0x101 at `mux_rate_bps`, every other
    /// setting at its default. A slow mux has too few packet slots for the
    /// default PCR and PSI intervals: they stretch to the shortest its rate
    /// allows ([`MuxConfig::min_interval_ms`]).
    pub fn new(mux_rate_bps: u64) -> MuxConfig {
        let mut config = MuxConfig {
            transport_stream_id: DEFAULT_TRANSPORT_STREAM_ID,
            program_number: DEFAULT_PROGRAM_NUMBER,
            pmt_pid: DEFAULT_PMT_PID,
            video: Some((DEFAULT_VIDEO_PID, VideoCodec::H264)),
            audio: Some((DEFAULT_AUDIO_PID, AudioCodec::AacAdts)),
            klv_pid: None,
            mux_rate_bps,
            variable_rate: false,
            pcr_interval_ms: DEFAULT_PCR_INTERVAL_MS,
            psi_interval_ms: DEFAULT_PSI_INTERVAL_MS,
            max_backlog_ms: DEFAULT_MAX_BACKLOG_MS,
            video_buffer_bytes: None,
            restart: false,
            service_provider: DvbName::EMPTY,
            service_name: DvbName::EMPTY,
        };
        let min_ms = config.min_interval_ms();
        config.pcr_interval_ms = config.pcr_interval_ms.max(min_ms);
        config.psi_interval_ms = config.psi_interval_ms.max(min_ms);
        config
    }

    pub fn validate(self) -> Result<ValidMuxConfig, MuxConfigError> {
        if self.program_number == 0 {
            return Err(MuxConfigError::ProgramNumber);
        }
        let (lo, hi) = MUX_RATE_RANGE_BPS;
        if !(lo..=hi).contains(&self.mux_rate_bps) {
            return Err(MuxConfigError::MuxRate(self.mux_rate_bps));
        }
        self.check_pids()?;
        if self.video.is_none() && self.audio.is_none() {
            return Err(MuxConfigError::NoPcrStream);
        }
        let min_ms = self.min_interval_ms();
        for (field, ms) in [
            ("pcr_interval_ms", self.pcr_interval_ms),
            ("psi_interval_ms", self.psi_interval_ms),
        ] {
            if !(min_ms..=MAX_INTERVAL_MS).contains(&ms) {
                return Err(MuxConfigError::Interval { field, ms, min_ms });
            }
        }
        let (lo, hi) = MAX_BACKLOG_MS_RANGE;
        if !(lo..=hi).contains(&self.max_backlog_ms) {
            return Err(MuxConfigError::Backlog(self.max_backlog_ms));
        }
        Ok(ValidMuxConfig(self))
    }

    fn check_pids(&self) -> Result<(), MuxConfigError> {
        let pids = [
            ("pmt_pid", Some(self.pmt_pid)),
            ("video", self.video.map(|v| v.0)),
            ("audio", self.audio.map(|a| a.0)),
            ("klv_pid", self.klv_pid),
        ];
        let present = pids.iter().filter_map(|&(f, p)| p.map(|p| (f, p)));
        for (i, (field, pid)) in present.clone().enumerate() {
            if !(PID_RANGE.0..=PID_RANGE.1).contains(&pid) {
                return Err(MuxConfigError::PidRange { field, pid });
            }
            if let Some((other, _)) = present.clone().take(i).find(|&(_, p)| p == pid) {
                return Err(MuxConfigError::PidClash { field, other, pid });
            }
        }
        Ok(())
    }

    /// The shortest PCR or PSI interval [`MuxConfig::validate`] accepts:
    /// one that spans [`MIN_SLOTS_PER_INTERVAL`] packet slots at this mux
    /// rate, rounded up to a millisecond.
    pub fn min_interval_ms(&self) -> u32 {
        let bits = MIN_SLOTS_PER_INTERVAL * PACKET_LEN as u64 * 8 * 1000;
        bits.div_ceil(self.mux_rate_bps.max(1)).max(1) as u32
    }
}

/// A [`MuxConfig`] that passed [`MuxConfig::validate`]; the muxer takes
/// only this, so it never meets a bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidMuxConfig(MuxConfig);

impl ValidMuxConfig {
    pub fn get(&self) -> &MuxConfig {
        &self.0
    }

    /// Converts milliseconds to 27 MHz ticks.
    pub(crate) fn ticks(ms: u32) -> u64 {
        u64::from(ms) * (PCR_HZ / 1000)
    }

    /// The backlog limit in bytes.
    pub(crate) fn max_backlog_bytes(&self) -> usize {
        (self.0.mux_rate_bps / 8 * u64::from(self.0.max_backlog_ms) / 1000) as usize
    }
}

/// Why a [`MuxConfig`] was refused. Each message names the field and what
/// it may be.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MuxConfigError {
    #[error("program_number 0 is reserved for the network PID (expected 1-65535)")]
    ProgramNumber,
    #[error("mux_rate_bps {0} is out of range (100000-1000000000)")]
    MuxRate(u64),
    #[error("{field} PID {pid:#06x} is out of range (0x0020-0x1ffe)")]
    PidRange { field: &'static str, pid: u16 },
    #[error("{field} PID {pid:#06x} is already used by {other}")]
    PidClash {
        field: &'static str,
        other: &'static str,
        pid: u16,
    },
    #[error("a program needs video or audio to carry its PCR")]
    NoPcrStream,
    #[error("{field} {ms} is out of range ({min_ms}-100 at this mux rate)")]
    Interval {
        field: &'static str,
        ms: u32,
        min_ms: u32,
    },
    #[error("max_backlog_ms {0} is out of range (100-10000)")]
    Backlog(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let valid = MuxConfig::new(10_000_000).validate().unwrap();
        assert_eq!(valid.get().pmt_pid, 0x1000);
        assert_eq!(valid.max_backlog_bytes(), 2_500_000);
    }

    #[test]
    fn each_rule_names_its_field() {
        let base = MuxConfig::new(10_000_000);
        let check = |c: MuxConfig| c.validate().unwrap_err().to_string();
        assert!(check(MuxConfig {
            program_number: 0,
            ..base
        })
        .contains("program_number"));
        assert!(check(MuxConfig {
            mux_rate_bps: 50_000,
            ..base
        })
        .contains("mux_rate_bps"));
        assert!(check(MuxConfig {
            pmt_pid: 0x10,
            ..base
        })
        .contains("pmt_pid PID 0x0010"));
        assert!(check(MuxConfig {
            klv_pid: Some(0x1FFF),
            ..base
        })
        .contains("klv_pid"));
        let clash = check(MuxConfig {
            klv_pid: Some(0x100),
            ..base
        });
        assert_eq!(clash, "klv_pid PID 0x0100 is already used by video");
        let none = MuxConfig {
            video: None,
            audio: None,
            klv_pid: Some(0x102),
            ..base
        };
        assert_eq!(none.validate(), Err(MuxConfigError::NoPcrStream));
        assert!(check(MuxConfig {
            pcr_interval_ms: 101,
            ..base
        })
        .contains("pcr_interval_ms"));
        assert!(check(MuxConfig {
            psi_interval_ms: 0,
            ..base
        })
        .contains("psi_interval_ms"));
        assert!(check(MuxConfig {
            max_backlog_ms: 50,
            ..base
        })
        .contains("max_backlog_ms"));
    }

    #[test]
    fn short_intervals_need_a_fast_mux() {
        // At 200 kbit/s a slot lasts 7.52 ms, so 8 slots need 61 ms.
        let slow = MuxConfig {
            pcr_interval_ms: 60,
            ..MuxConfig::new(200_000)
        };
        assert_eq!(
            slow.validate().unwrap_err().to_string(),
            "pcr_interval_ms 60 is out of range (61-100 at this mux rate)"
        );
        assert!(MuxConfig {
            pcr_interval_ms: 61,
            ..slow
        }
        .validate()
        .is_ok());
        let fast = MuxConfig {
            pcr_interval_ms: 1,
            ..MuxConfig::new(20_000_000)
        };
        assert!(fast.validate().is_ok());
    }

    #[test]
    fn defaults_fit_every_mux_rate() {
        let (lo, hi) = MUX_RATE_RANGE_BPS;
        for rate in [
            lo, 150_000, 200_000, 300_000, 601_599, 601_600, 1_000_000, hi,
        ] {
            let config = MuxConfig::new(rate);
            assert!(config.validate().is_ok(), "{rate}: {config:?}");
            assert!(config.pcr_interval_ms >= DEFAULT_PCR_INTERVAL_MS);
        }
        assert_eq!(MuxConfig::new(200_000).pcr_interval_ms, 61);
        assert_eq!(MuxConfig::new(hi).pcr_interval_ms, DEFAULT_PCR_INTERVAL_MS);
    }
}
