//! Golden streams built packet by packet, with every expected figure
//! worked out by hand from the timeline in their comments.

use makara_media::{Clock90k, Pcr27M};

use super::*;
use crate::packet::{AdaptationRepr, TsHeaderRepr, BODY_LEN};
use crate::pes::stream_id;
use crate::pmt::{PmtRepr, PmtStream};
use crate::psi::{PatProgram, PatRepr};

const VIDEO: u16 = 0x100;
const AUDIO: u16 = 0x101;
/// One byte every 150 ticks (1.44 Mbit/s): packet i starts at i · 28 200
/// ticks, and the byte a PCR stamps (10 bytes in) at i · 28 200 + 1 500.
const PACKET_TICKS: u64 = 28_200;

fn packet(pid: u16, start: bool, cc: u8, adaptation: AdaptationRepr, payload: &[u8]) -> Vec<u8> {
    let header = TsHeaderRepr {
        pid,
        payload_unit_start: start,
        continuity_counter: cc,
        adaptation,
    };
    let mut bytes = [0u8; PACKET_LEN];
    header.emit(payload, &mut bytes);
    bytes.to_vec()
}

fn section(len: usize, emit: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut payload = vec![0xFF; BODY_LEN];
    payload[0] = 0;
    emit(&mut payload[1..1 + len]);
    payload
}

fn pat_pmt() -> Vec<u8> {
    let pat = PatRepr {
        transport_stream_id: 1,
        version: 0,
        programs: vec![PatProgram {
            program_number: 1,
            pid: 0x1000,
        }],
    };
    let pmt = PmtRepr {
        program_number: 1,
        version: 0,
        pcr_pid: VIDEO,
        program_info: vec![],
        streams: vec![
            PmtStream {
                stream_type: 0x1B,
                pid: VIDEO,
                es_info: vec![],
            },
            PmtStream {
                stream_type: 0x0F,
                pid: AUDIO,
                es_info: vec![],
            },
        ],
    };
    let none = AdaptationRepr::default();
    [
        packet(
            0,
            true,
            0,
            none,
            &section(pat.buffer_len(), |b| pat.emit(b)),
        ),
        packet(
            0x1000,
            true,
            0,
            none,
            &section(pmt.buffer_len(), |b| pmt.emit(b)),
        ),
    ]
    .concat()
}

fn pcr_only(index: u64, cc: u8) -> Vec<u8> {
    let adaptation = AdaptationRepr {
        pcr: Some(Pcr27M(index * PACKET_TICKS + 1_500)),
        ..AdaptationRepr::default()
    };
    packet(VIDEO, false, cc, adaptation, &[])
}

/// A PES of `len` bytes in all (header included), cut into packets.
fn pes(pid: u16, pts: u64, dts: Option<u64>, len: usize, cc: u8) -> Vec<Vec<u8>> {
    let header = PesHeaderRepr {
        stream_id: if pid == VIDEO {
            stream_id::VIDEO
        } else {
            stream_id::AUDIO
        },
        packet_length: 0,
        data_alignment: true,
        pts: Some(Clock90k(pts)),
        dts: dts.map(Clock90k),
    };
    let mut bytes = vec![0; header.buffer_len()];
    let mut header = header;
    if pid != VIDEO {
        header.packet_length = (len - 6) as u16;
    }
    header.emit(&mut bytes);
    bytes.resize(len, 0xAB);
    bytes
        .chunks(BODY_LEN)
        .enumerate()
        .map(|(i, chunk)| {
            let cc = (cc + i as u8) & 0x0F;
            packet(pid, i == 0, cc, AdaptationRepr::default(), chunk)
        })
        .collect()
}

/// Packets 0-9, packet i arriving at i · 28 200 ticks:
///
/// | i | packet | audio buffer | video buffer |
/// |---|---|---|---|
/// | 0, 1 | PAT, PMT | | |
/// | 2 | PCR 57 900 | | |
/// | 3 | audio PES 1 (PTS 700 = 210 000 ticks), 184 of 284 bytes | 184 | |
/// | 4 | its last 100 bytes | 284 | |
/// | 5 | video PES (DTS `video_dts`), 184 of 368 bytes | | 184 |
/// | 6 | its last 184 bytes | | 368 |
/// | 7 | null | | |
/// | 8 | audio PES 2 (PTS 1 000 = 300 000 ticks), 50 bytes; PES 1 left at 210 000 | 50 | |
/// | 9 | PCR 255 300 | | |
fn golden(video_dts: u64) -> Vec<u8> {
    let mut ts = pat_pmt();
    ts.extend(pcr_only(2, 15));
    ts.extend(pes(AUDIO, 700, None, 284, 0).concat());
    ts.extend(pes(VIDEO, video_dts + 3_000, Some(video_dts), 368, 0).concat());
    ts.extend(packet(
        NULL_PID,
        false,
        0,
        AdaptationRepr::default(),
        &[0xFF; BODY_LEN],
    ));
    ts.extend(pes(AUDIO, 1_000, None, 50, 2).concat());
    ts.extend(pcr_only(9, 1));
    ts
}

#[test]
fn waits_and_occupancy_of_a_golden_stream() {
    let ts = golden(2_000);
    assert_eq!(ts.len(), 10 * PACKET_LEN);
    let report = analyse(&ts).unwrap();
    let audio = &report.streams[&AUDIO];
    // PES 1 waits 210 000 − 3 · 28 200; PES 2 waits 300 000 − 8 · 28 200.
    assert_eq!(
        *audio,
        EsReport {
            pid: AUDIO,
            stream_type: 0x0F,
            units: 2,
            bytes: 334,
            max_wait: 125_400,
            max_occupancy: 284,
            late_units: 0,
            max_lateness: 0,
            // Each packet is in 28 200 ticks after the last: at 2 Mbit/s
            // the buffer drained 261 bytes meanwhile, so it never holds two.
            max_transport_buffer: 188,
            ..EsReport::default()
        }
    );
    assert_eq!(audio.t_std_ok(), Some(true));
    let video = &report.streams[&VIDEO];
    // DTS 2 000 = 600 000 ticks; the PES starts at 5 · 28 200.
    assert_eq!((video.max_wait, video.max_occupancy), (459_000, 368));
    assert_eq!((video.units, video.bytes, video.late_units), (1, 368, 0));
    assert_eq!(video.max_transport_buffer, 0, "not judged for video");
    // Its payload is no H.264 a level can be read from: not judged.
    assert_eq!(video.codec, Some(crate::es::VideoCodec::H264));
    assert_eq!((video.level, video.t_std_ok()), (None, None));
    // 7 packets between the PCRs in 197 400 ticks: 1.44 Mbit/s.
    assert_eq!(
        (report.min_rate_bps, report.max_rate_bps),
        (1_440_000, 1_440_000)
    );
    assert_eq!(
        (report.packets, report.null_packets, report.pcrs),
        (10, 1, 2)
    );
    assert_eq!(report.continuity_errors, 0);
    assert!(report.discontinuities.is_empty());
}

#[test]
fn a_unit_removed_before_its_last_byte_is_late() {
    // DTS 500 = 150 000 ticks: after packet 5 (141 000), before packet 6.
    let report = analyse(&golden(500)).unwrap();
    let video = &report.streams[&VIDEO];
    assert_eq!((video.late_units, video.max_wait), (1, 9_000));
    // Its last packet came at 6 · 28 200.
    assert_eq!(video.max_lateness, 19_200);
    assert_eq!(report.streams[&AUDIO].late_units, 0);
}

#[test]
fn rates_follow_each_pcr_pair() {
    // A third PCR 3 packets after the second but 56 400 ticks later: that
    // stretch runs at 3 · 1 504 bits / (56 400 / 27e6 s) = 2.16 Mbit/s.
    let mut ts = golden(2_000);
    ts.extend(packet(
        NULL_PID,
        false,
        0,
        AdaptationRepr::default(),
        &[0xFF; BODY_LEN],
    ));
    ts.extend(packet(
        NULL_PID,
        false,
        0,
        AdaptationRepr::default(),
        &[0xFF; BODY_LEN],
    ));
    let adaptation = AdaptationRepr {
        pcr: Some(Pcr27M(9 * PACKET_TICKS + 1_500 + 2 * PACKET_TICKS)),
        discontinuity: true,
        ..AdaptationRepr::default()
    };
    ts.extend(packet(VIDEO, false, 1, adaptation, &[]));
    let report = analyse(&ts).unwrap();
    assert_eq!(
        (report.min_rate_bps, report.max_rate_bps),
        (1_440_000, 2_160_000)
    );
    assert_eq!(report.discontinuities[&VIDEO], 1);
}

#[test]
fn a_stream_without_two_pcrs_has_no_clock() {
    assert_eq!(analyse(&pat_pmt()), Err(Error));
    assert_eq!(analyse(&[]), Err(Error));
}

#[test]
fn an_audio_burst_fills_the_transport_buffer() {
    // One byte every 15 ticks (14.4 Mbit/s): a packet is in 2 820 ticks
    // after the one before, and 2 Mbit/s drains 26.11 bytes of it
    // meanwhile. A 4-packet audio PES back to back holds, at each last
    // byte, 188, 349.9, 511.8, then 673.7 bytes: the 512-byte buffer
    // overflows on the fourth.
    let pcr = |index: u64, cc| {
        let adaptation = AdaptationRepr {
            pcr: Some(Pcr27M(index * 2_820 + 150)),
            ..AdaptationRepr::default()
        };
        packet(VIDEO, false, cc, adaptation, &[])
    };
    let mut ts = pat_pmt();
    ts.extend(pcr(2, 15));
    ts.extend(pes(AUDIO, 90_000, None, 4 * BODY_LEN, 0).concat());
    ts.extend(pcr(7, 15));
    let report = analyse(&ts).unwrap();
    assert_eq!(report.streams[&AUDIO].max_transport_buffer, 674);
    // Three packets just fit.
    let mut ts = pat_pmt();
    ts.extend(pcr(2, 15));
    ts.extend(pes(AUDIO, 90_000, None, 3 * BODY_LEN, 0).concat());
    ts.extend(pcr(6, 15));
    assert_eq!(
        analyse(&ts).unwrap().streams[&AUDIO].max_transport_buffer,
        512
    );
}
