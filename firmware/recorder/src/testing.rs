//! Golden transport streams for the tests, made with makara-mpegts's own
//! muxer (the payload is filler: the recorder never looks inside a PES),
//! and single PSI/PES packets built field by field.

use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::mux::{MuxConfig, Muxer, DEFAULT_PMT_PID};
use makara_mpegts::packet::{TsHeaderRepr, TsPacket, NULL_PID, PACKET_LEN};
use makara_mpegts::pes::{stream_id, PesHeaderRepr};
use makara_mpegts::pmt::{stream_type, PmtRepr, PmtStream};
use makara_mpegts::psi::{PatProgram, PatRepr};

pub(crate) const PMT_PID: u16 = DEFAULT_PMT_PID;
pub(crate) const VIDEO_PID: u16 = 0x100;
pub(crate) const AUDIO_PID: u16 = 0x101;
/// 25 frames a second.
pub(crate) const FRAME_TICKS_90K: u64 = 3_600;
/// The first unit's DTS after the stream's start.
const DELAY_90K: u64 = 18_000;

pub(crate) type Packet = [u8; PACKET_LEN];

/// What [`stream`] makes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamShape {
    pub video: bool,
    pub audio: bool,
    /// Frames from one keyframe to the next.
    pub gop: u64,
    pub mux_rate_bps: u64,
    /// The clock at the first packet, in seconds.
    pub start_secs: u64,
}

impl Default for StreamShape {
    fn default() -> StreamShape {
        StreamShape {
            video: true,
            audio: true,
            gop: 25,
            mux_rate_bps: 1_000_000,
            start_secs: 10,
        }
    }
}

/// `seconds` of a constant-rate stream of this shape.
pub(crate) fn stream(shape: StreamShape, seconds: f64) -> Vec<Packet> {
    let config = MuxConfig {
        video: shape.video.then_some((VIDEO_PID, VideoCodec::H264)),
        audio: shape.audio.then_some((AUDIO_PID, AudioCodec::AacAdts)),
        ..MuxConfig::new(shape.mux_rate_bps)
    };
    let start = shape.start_secs * 90_000;
    let mut muxer = Muxer::new(
        config.validate().expect("test mux config"),
        Pcr27M(start * 300),
    );
    let frames = (seconds * 25.0) as u64;
    let mut out = Vec::new();
    for n in 0..frames {
        let t = start + n * FRAME_TICKS_90K;
        muxer.fill_until(Pcr27M(t * 300), &mut out);
        let due = Clock90k(t + DELAY_90K);
        if shape.video {
            let keyframe = n % shape.gop == 0;
            muxer.push_video(&EncodedVideo {
                data: filler(if keyframe { 6_000 } else { 1_500 }, n),
                pts: due,
                dts: due,
                keyframe,
            });
        }
        if shape.audio {
            muxer.push_audio(&EncodedAudio {
                data: filler(200, n),
                pts: due,
            });
        }
    }
    let end = start + frames * FRAME_TICKS_90K;
    muxer.fill_until(Pcr27M(end * 300), &mut out);
    out.into_iter().map(|(_, p)| p).collect()
}

fn filler(len: usize, n: u64) -> Vec<u8> {
    let mut data = vec![0, 0, 0, 1, 0x09, 0xF0];
    data.resize(len, n as u8);
    data
}

/// The packets as one byte string.
pub(crate) fn bytes(packets: &[Packet]) -> Vec<u8> {
    packets.concat()
}

pub(crate) fn pid(packet: &[u8]) -> u16 {
    TsPacket::new_checked(packet).expect("a packet").pid()
}

/// Where the first packet on `pid` that starts a keyframe is.
pub(crate) fn first_keyframe(packets: &[Packet], pid: u16) -> usize {
    packets
        .iter()
        .position(|p| {
            let p = TsPacket::new_checked(&p[..]).expect("a packet");
            p.pid() == pid && p.random_access()
        })
        .expect("a keyframe")
}

fn psi_packet(pid: u16, len: usize, emit: impl FnOnce(&mut [u8])) -> Packet {
    let mut payload = [0xFF; 184];
    payload[0] = 0; // pointer_field
    emit(&mut payload[1..1 + len]);
    let header = TsHeaderRepr {
        pid,
        payload_unit_start: true,
        continuity_counter: 0,
        adaptation: Default::default(),
    };
    let mut packet = [0; PACKET_LEN];
    header.emit(&payload, &mut packet);
    packet
}

/// A PAT naming program 1 on [`PMT_PID`].
pub(crate) fn pat_packet() -> Packet {
    let pat = PatRepr {
        transport_stream_id: 1,
        version: 0,
        programs: vec![PatProgram {
            program_number: 1,
            pid: PMT_PID,
        }],
    };
    psi_packet(0, pat.buffer_len(), |b| pat.emit(b))
}

/// A PMT of H.264 on [`VIDEO_PID`] whose PCR_PID is the null PID.
pub(crate) fn pmt_packet_without_pcr() -> Packet {
    let pmt = PmtRepr {
        program_number: 1,
        version: 0,
        pcr_pid: NULL_PID,
        program_info: Vec::new(),
        streams: vec![PmtStream {
            stream_type: stream_type::H264,
            pid: VIDEO_PID,
            es_info: Vec::new(),
        }],
    };
    psi_packet(PMT_PID, pmt.buffer_len(), |b| pmt.emit(b))
}

/// A packet starting a video PES with this PTS (90 kHz) and no DTS.
pub(crate) fn pes_start_packet(pid: u16, pts: u64) -> Packet {
    let header = PesHeaderRepr {
        stream_id: stream_id::VIDEO,
        packet_length: 0,
        data_alignment: true,
        pts: Some(Clock90k(pts)),
        dts: None,
    };
    let mut payload = vec![0; header.buffer_len()];
    header.emit(&mut payload);
    payload.resize(184, 0x55);
    let ts = TsHeaderRepr {
        pid,
        payload_unit_start: true,
        continuity_counter: 0,
        adaptation: Default::default(),
    };
    let mut packet = [0; PACKET_LEN];
    ts.emit(&payload, &mut packet);
    packet
}
