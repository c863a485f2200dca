//! AV1 through the muxer: the PMT waits for the sequence header and
//! carries its descriptors, each temporal unit is one private_stream_1
//! PES in the start-code based format, key frames are marked.

use makara_media::{Clock90k, EncodedVideo, Pcr27M, VideoCodec};

use super::{drain, events, muxer, Out};
use crate::av1::start_code;
use crate::demux::DemuxEvent;
use crate::mux::MuxConfig;
use crate::packet::TsPacket;
use crate::pmt::PmtRepr;

/// HEADER_A of the descriptor tests: profile 0, level 8 (4.0), high
/// tier, 320x240, 4:2:0 colocated, BT.709; in a sequence header OBU
/// (0A: type 1 with obu_size; 0E: 14 bytes).
const SEQUENCE_OBU: [u8; 16] = [
    0x0A, 0x0E, 0x00, 0x00, 0x00, 0x46, 0x1E, 0x7F, 0xDE, 0x61, 0x3C, 0xC8, 0x08, 0x08, 0x0A, 0x20,
];
/// The AV1 video descriptor it calls for (worked in the descriptor tests).
const DESCRIPTOR: [u8; 6] = [0x80, 0x04, 0x81, 0x08, 0x8E, 0x00];
const REGISTRATION: [u8; 6] = [0x05, 0x04, b'A', b'V', b'0', b'1'];

fn config() -> MuxConfig {
    MuxConfig {
        video: Some((0x100, VideoCodec::Av1)),
        audio: None,
        ..MuxConfig::new(2_000_000)
    }
}

/// A temporal unit: delimiter, the sequence header for a key frame, and
/// a frame OBU of `len` bytes (first byte 0x10: a shown key frame; 0x30:
/// an inter frame) whose data holds zeros to escape.
fn tu(n: u64, key: bool, len: usize, sequence: &[u8]) -> EncodedVideo {
    let mut frame = vec![if key { 0x10 } else { 0x30 }];
    frame.extend((1..len).map(|i| if i % 7 < 3 { 0 } else { i as u8 }));
    let mut data = vec![0x12, 0x00];
    if key {
        data.extend_from_slice(sequence);
    }
    data.push(0x32);
    crate::av1::obu::write_leb128(frame.len(), &mut data);
    data.extend_from_slice(&frame);
    EncodedVideo {
        data,
        pts: Clock90k(9_000 + n * 3_000),
        dts: Clock90k(9_000 + n * 3_000),
        keyframe: key,
    }
}

fn pmts(out: &Out) -> Vec<PmtRepr> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            DemuxEvent::Pmt { pmt, .. } => Some(pmt),
            _ => None,
        })
        .collect()
}

#[test]
fn the_pmt_waits_for_the_sequence_header_and_carries_both_descriptors() {
    let mut m = muxer(config());
    let mut out = Vec::new();
    m.fill_until(Pcr27M(1_000 + 27_000_000 / 5), &mut out); // 200 ms
    assert!(pmts(&out).is_empty(), "no PMT before a sequence header");
    let before = out.len();
    m.push_video(&tu(0, true, 500, &SEQUENCE_OBU));
    out.extend(drain(&mut m));
    let pmt_pid = |p: &[u8]| TsPacket::new_checked(p).unwrap().pid() == 0x1000;
    let first_pmt = out.iter().position(|(_, p)| pmt_pid(p)).unwrap();
    assert_eq!(first_pmt, before, "the PMT goes out first once known");
    let first = pmts(&out);
    assert!(!first.is_empty());
    let pmt = &first[0];
    assert_eq!(pmt.version, 0);
    assert_eq!(pmt.streams[0].stream_type, 0x06);
    assert_eq!(
        pmt.streams[0].es_info,
        [&REGISTRATION[..], &DESCRIPTOR].concat(),
        "registration descriptor first, then the AV1 video descriptor"
    );
}

#[test]
fn each_temporal_unit_is_one_private_stream_1_pes_in_start_code_format() {
    let mut m = muxer(config());
    let units: Vec<EncodedVideo> = (0..4)
        .map(|n| tu(n, n % 3 == 0, 300 + 200 * n as usize, &SEQUENCE_OBU))
        .collect();
    for unit in &units {
        m.push_video(unit);
    }
    let out = drain(&mut m);
    let pes: Vec<_> = events(&out)
        .into_iter()
        .filter_map(|e| match e {
            DemuxEvent::Pes(unit) => Some(unit),
            _ => None,
        })
        .collect();
    assert_eq!(pes.len(), units.len());
    for (got, sent) in pes.iter().zip(&units) {
        assert_eq!(got.header.stream_id, 0xBD);
        assert!(got.header.data_alignment);
        assert_eq!(got.header.packet_length, 0);
        assert_eq!(got.header.pts, Some(sent.pts));
        let mut expected = Vec::new();
        start_code::from_low_overhead(&sent.data, &mut expected).unwrap();
        assert_eq!(got.payload, expected);
        assert_eq!(
            start_code::to_low_overhead(&got.payload).unwrap(),
            sent.data
        );
        assert_eq!(got.random_access, sent.keyframe);
    }
    // A key frame's first packet: random access and ES priority (its
    // frame's start code is in it); no other packet has either.
    let firsts: Vec<(bool, bool)> = out
        .iter()
        .map(|(_, p)| TsPacket::new_checked(&p[..]).unwrap())
        .filter(|p| p.pid() == 0x100 && p.payload_unit_start())
        .map(|p| (p.random_access(), p.es_priority()))
        .collect();
    assert_eq!(
        firsts,
        [(true, true), (false, false), (false, false), (true, true)]
    );
    let priority = out
        .iter()
        .filter(|(_, p)| TsPacket::new_checked(&p[..]).unwrap().es_priority())
        .count();
    assert_eq!(priority, 2);
}

#[test]
fn a_changed_sequence_header_sends_a_new_pmt_version() {
    let mut m = muxer(config());
    m.push_video(&tu(0, true, 200, &SEQUENCE_OBU));
    m.push_video(&tu(1, true, 200, &SEQUENCE_OBU)); // the same: no change
    let mut out = drain(&mut m);
    // seq_level_idx 8 → 9 (byte 5 of the header: ...0100 0|1 → 0100 1|1).
    let mut changed = SEQUENCE_OBU;
    changed[5] = 0x4E;
    m.push_video(&tu(2, true, 200, &changed));
    out.extend(drain(&mut m));
    let versions: Vec<(u8, u8)> = pmts(&out)
        .iter()
        .map(|p| (p.version, p.streams[0].es_info[9]))
        .collect();
    assert!(
        versions.contains(&(0, 0x08)) && versions.contains(&(1, 0x09)),
        "{versions:?}"
    );
    let at = versions.iter().position(|v| v.0 == 1).unwrap();
    assert!(versions[at..].iter().all(|v| v.0 == 1), "{versions:?}");
}

#[test]
fn a_unit_that_is_not_obus_is_rejected() {
    let mut m = muxer(config());
    let bad = EncodedVideo {
        data: vec![0x12, 0x00, 0x32, 0x40, 1, 2],
        pts: Clock90k(0),
        dts: Clock90k(0),
        keyframe: true,
    };
    m.push_video(&bad);
    assert_eq!(m.counters().rejected_units, 1);
    assert_eq!(m.queued_bytes(), 0);
}
