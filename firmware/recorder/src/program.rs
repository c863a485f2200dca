//! What a track's PSI says: the PMT PID, the video PID and where the
//! clock is, learnt with makara-mpegts's parser.
//!
//! Only PSI packets (the PAT's PID 0 and the PMT's PID) are given to the
//! parser, so it never reassembles PES packets: the cost per recorded
//! packet is reading its header. The first program of the PAT is the one
//! followed; a new PAT or PMT version is followed as it comes.

use makara_mpegts::demux::{DemuxEvent, Demuxer};
use makara_mpegts::packet::{TsPacket, NULL_PID, PAT_PID};
use makara_mpegts::pes::PesHeaderRepr;
use makara_mpegts::pmt::{stream_type, PmtRepr};

/// The stream_types of video: a file of a program with one starts at a
/// picture that decodes on its own.
const VIDEO_TYPES: [u8; 5] = [
    0x01, // MPEG-1 video
    stream_type::MPEG2_VIDEO,
    0x10, // MPEG-4 part 2
    stream_type::H264,
    stream_type::HEVC,
];

/// Where a program's time is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClockSource {
    /// The PCRs on this PID.
    Pcr(u16),
    /// No PCR (PCR_PID is the null PID): the DTS, or PTS, of the PES
    /// packets starting on this PID, the video's if there is video.
    Pts(u16),
}

/// A clock reading in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    /// 27 MHz ticks.
    pub ticks: u64,
    /// The packet says the time base changes here.
    pub discontinuity: bool,
}

/// The PIDs of one program, as its PAT and PMT say.
#[derive(Debug, Default)]
pub(crate) struct ProgramMap {
    demux: Demuxer,
    pmt_pid: Option<u16>,
    pmt: Option<PmtRepr>,
}

impl ProgramMap {
    /// Whether packets on `pid` carry the PAT or the PMT.
    pub fn is_psi(&self, pid: u16) -> bool {
        pid == PAT_PID || Some(pid) == self.pmt_pid
    }

    /// Takes a packet on a PSI PID (see [`ProgramMap::is_psi`]).
    pub fn push(&mut self, packet: &[u8]) {
        self.demux.push(packet);
        while let Some(event) = self.demux.poll() {
            match event {
                DemuxEvent::Pat(pat) => {
                    let first = pat.programs.iter().find(|p| p.program_number != 0);
                    let pid = first.map(|p| p.pid);
                    if pid != self.pmt_pid {
                        self.pmt_pid = pid;
                        self.pmt = None;
                    }
                }
                DemuxEvent::Pmt { pid, pmt } if Some(pid) == self.pmt_pid => {
                    self.pmt = Some(pmt);
                }
                _ => {}
            }
        }
    }

    /// Both tables have been seen: the PIDs below are known.
    pub fn known(&self) -> bool {
        self.pmt.is_some()
    }

    pub fn pmt_pid(&self) -> Option<u16> {
        self.pmt_pid
    }

    /// The first video stream's PID, if the program has video.
    pub fn video_pid(&self) -> Option<u16> {
        let pmt = self.pmt.as_ref()?;
        let video = pmt
            .streams
            .iter()
            .find(|s| VIDEO_TYPES.contains(&s.stream_type));
        video.map(|s| s.pid)
    }

    pub fn clock_source(&self) -> Option<ClockSource> {
        let pmt = self.pmt.as_ref()?;
        if pmt.pcr_pid != NULL_PID {
            return Some(ClockSource::Pcr(pmt.pcr_pid));
        }
        let first = pmt.streams.first().map(|s| s.pid);
        self.video_pid().or(first).map(ClockSource::Pts)
    }

    /// The clock reading `packet` carries, if it carries one.
    pub fn reading<T: AsRef<[u8]>>(&self, packet: &TsPacket<T>) -> Option<Reading> {
        let ticks = match self.clock_source()? {
            ClockSource::Pcr(pid) if packet.pid() == pid => packet.pcr()?.0,
            ClockSource::Pts(pid) if packet.pid() == pid && packet.payload_unit_start() => {
                let (header, _) = PesHeaderRepr::parse(packet.payload()).ok()?;
                header.dts.or(header.pts)?.wire() * 300
            }
            _ => return None,
        };
        Some(Reading {
            ticks,
            discontinuity: packet.discontinuity(),
        })
    }
}

#[cfg(test)]
mod tests {
    use makara_mpegts::packet::PACKET_LEN;

    use super::*;
    use crate::testing::{self, StreamShape};

    fn learn(packets: &[[u8; PACKET_LEN]]) -> ProgramMap {
        let mut map = ProgramMap::default();
        for p in packets {
            let pid = TsPacket::new_checked(&p[..]).unwrap().pid();
            if map.is_psi(pid) {
                map.push(p);
            }
        }
        map
    }

    #[test]
    fn a_muxed_program_gives_its_pids() {
        let packets = testing::stream(StreamShape::default(), 1.0);
        let map = learn(&packets);
        assert!(map.known());
        assert_eq!(map.pmt_pid(), Some(testing::PMT_PID));
        assert_eq!(map.video_pid(), Some(testing::VIDEO_PID));
        assert_eq!(
            map.clock_source(),
            Some(ClockSource::Pcr(testing::VIDEO_PID))
        );
        let readings = packets
            .iter()
            .filter_map(|p| map.reading(&TsPacket::new_checked(&p[..]).unwrap()))
            .count();
        assert!(readings >= 20, "{readings} PCRs in 1 s");
    }

    #[test]
    fn audio_only_has_no_video_and_its_clock_on_the_audio() {
        let shape = StreamShape {
            video: false,
            ..StreamShape::default()
        };
        let map = learn(&testing::stream(shape, 1.0));
        assert_eq!(map.video_pid(), None);
        assert_eq!(
            map.clock_source(),
            Some(ClockSource::Pcr(testing::AUDIO_PID))
        );
    }

    #[test]
    fn nothing_is_known_before_the_pmt() {
        let packets = testing::stream(StreamShape::default(), 1.0);
        let map = learn(&packets[..1]);
        assert!(!map.known());
        assert_eq!(map.clock_source(), None);
    }

    #[test]
    fn without_a_pcr_the_clock_is_the_pes_timestamps() {
        let map = learn(&[testing::pat_packet(), testing::pmt_packet_without_pcr()]);
        assert_eq!(
            map.clock_source(),
            Some(ClockSource::Pts(testing::VIDEO_PID))
        );
        let pes = testing::pes_start_packet(testing::VIDEO_PID, 90_000);
        let reading = map.reading(&TsPacket::new_checked(&pes[..]).unwrap());
        assert_eq!(reading.map(|r| r.ticks), Some(27_000_000));
    }
}
