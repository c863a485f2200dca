use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M};

use super::*;
use crate::demux::{DemuxEvent, Demuxer};
use crate::packet::TsPacket;
use crate::pmt::{descriptors, stream_type};
use crate::psi::PsiSection;
use crate::sdt::SdtRepr;

mod av1;

type Out = Vec<(Pcr27M, [u8; PACKET_LEN])>;

fn muxer(config: MuxConfig) -> Muxer {
    Muxer::new(config.validate().unwrap(), Pcr27M(1_000))
}

fn video(len: usize, dts: u64, keyframe: bool) -> EncodedVideo {
    EncodedVideo {
        data: (0..len).map(|i| i as u8).collect(),
        pts: Clock90k(dts + 3_600),
        dts: Clock90k(dts),
        keyframe,
    }
}

fn drain(m: &mut Muxer) -> Out {
    let mut out = Vec::new();
    while m.queued_bytes() > 0 {
        let next = m.next_departure();
        m.fill_until(next, &mut out);
    }
    out
}

fn events(out: &Out) -> Vec<DemuxEvent> {
    let mut demuxer = Demuxer::new();
    for (_, packet) in out {
        demuxer.push(packet);
    }
    demuxer.finish();
    std::iter::from_fn(|| demuxer.poll()).collect()
}

#[test]
fn an_idle_muxer_sends_pat_pmt_pcr_then_nulls() {
    let mut m = muxer(MuxConfig::new(2_000_000));
    let mut out = Vec::new();
    m.fill_until(Pcr27M(1_000 + 27_000_000 / 100), &mut out); // 10 ms
    let pids: Vec<u16> = out
        .iter()
        .map(|(_, p)| TsPacket::new_unchecked(&p[..]).pid())
        .collect();
    assert_eq!(&pids[..5], [0x0000, 0x1000, 0x0100, 0x0011, 0x1FFF]);
    assert!(pids[4..].iter().all(|&p| p == 0x1FFF));

    let pcr = TsPacket::new_checked(&out[2].1[..]).unwrap();
    assert_eq!(pcr.pcr(), Some(out[2].0));
    assert!(!pcr.has_payload());
    // Adaptation-only: the counter stays at "the last one", 15 before 0.
    assert_eq!(pcr.continuity_counter(), 15);
    let c = m.counters();
    assert_eq!(
        (c.pat_packets, c.pmt_packets, c.pcrs, c.pcr_only_packets),
        (1, 1, 1, 1)
    );
    assert_eq!(c.packets, out.len() as u64);
}

#[test]
fn slots_follow_the_mux_rate_exactly() {
    let rate = 1_000_000;
    let mut m = muxer(MuxConfig::new(rate));
    let mut out = Vec::new();
    m.fill_until(Pcr27M(1_000 + 27_000_000), &mut out);
    // Slots 0..=k with k·1504·27e6/rate ≤ 27e6: k ≤ 664.89.
    assert_eq!(out.len(), 665);
    for (k, (departure, _)) in out.iter().enumerate() {
        assert_eq!(departure.0, 1_000 + k as u64 * 1504 * 27_000_000 / rate);
    }
    assert_eq!(m.next_departure().0, 1_000 + 665 * 1504 * 27);
}

#[test]
fn payload_counters_skip_adaptation_only_packets() {
    let mut m = muxer(MuxConfig::new(2_000_000));
    let mut out = Vec::new();
    m.fill_until(Pcr27M(1_000 + 27_000_000 / 5), &mut out); // several PCR-only packets
    m.push_video(&video(1_000, 0, true));
    out.extend(drain(&mut m));
    let ccs: Vec<(bool, u8)> = out
        .iter()
        .map(|(_, p)| TsPacket::new_checked(&p[..]).unwrap())
        .filter(|p| p.pid() == 0x100)
        .map(|p| (p.has_payload(), p.continuity_counter()))
        .collect();
    let payload: Vec<u8> = ccs.iter().filter(|c| c.0).map(|c| c.1).collect();
    assert_eq!(payload, [0, 1, 2, 3, 4, 5]); // 1019 bytes in 6 packets
    assert!(ccs.iter().filter(|c| !c.0).all(|c| c.1 == 15));
}

#[test]
fn keyframes_start_with_random_access() {
    let mut m = muxer(MuxConfig::new(10_000_000));
    m.push_video(&video(5_000, 0, true));
    m.push_video(&video(5_000, 3_600, false));
    let units: Vec<_> = events(&drain(&mut m))
        .into_iter()
        .filter_map(|e| match e {
            DemuxEvent::Pes(unit) => Some(unit),
            _ => None,
        })
        .collect();
    assert_eq!(units.len(), 2);
    assert!(units[0].random_access && !units[1].random_access);
    assert!(units
        .iter()
        .all(|u| u.header.data_alignment && u.header.packet_length == 0));
    assert_eq!(units[1].header.dts, Some(Clock90k(3_600)));
    assert_eq!(units[1].payload, video(5_000, 3_600, false).data);
}

#[test]
fn backlog_drops_oldest_whole_units() {
    let config = MuxConfig {
        max_backlog_ms: 100,
        ..MuxConfig::new(1_000_000)
    };
    let mut m = muxer(config); // 12 500 bytes of backlog
    for i in 0..10 {
        m.push_video(&video(5_000, i * 3_600, i == 0));
    }
    assert!(m.queued_bytes() <= 12_500);
    let c = m.counters().video;
    assert_eq!((c.units, c.dropped_units), (10, 8));
    assert_eq!(c.dropped_bytes, 8 * (5_000 + 19));
    let dts: Vec<_> = events(&drain(&mut m))
        .into_iter()
        .filter_map(|e| match e {
            DemuxEvent::Pes(unit) => Some(unit.header.dts.unwrap().0),
            _ => None,
        })
        .collect();
    assert_eq!(dts, [8 * 3_600, 9 * 3_600]);
}

#[test]
fn a_started_unit_is_never_dropped() {
    let config = MuxConfig {
        max_backlog_ms: 100,
        ..MuxConfig::new(1_000_000)
    };
    let mut m = muxer(config);
    m.push_video(&video(10_000, 0, true));
    let mut out = Vec::new();
    m.fill_until(Pcr27M(1_000 + 27_000_000 / 50), &mut out); // 20 ms: ~2 500 bytes go
    m.push_video(&video(4_000, 3_600, false));
    assert_eq!(m.counters().video.dropped_units, 0);
    m.push_video(&video(4_000, 7_200, false));
    // Over the limit: the unstarted 3 600 goes, the half-sent 0 stays.
    assert_eq!(m.counters().video.dropped_units, 1);
    out.extend(drain(&mut m));
    let dts: Vec<_> = events(&out)
        .into_iter()
        .filter_map(|e| match e {
            DemuxEvent::Pes(unit) => Some(unit.header.dts.unwrap().0),
            _ => None,
        })
        .collect();
    assert_eq!(dts, [0, 7_200]);
}

#[test]
fn units_that_cannot_be_carried_are_rejected() {
    let mut m = muxer(MuxConfig {
        klv_pid: None,
        ..MuxConfig::new(10_000_000)
    });
    m.push_klv(b"no KLV PID", Clock90k(0));
    m.push_audio(&EncodedAudio {
        data: vec![],
        pts: Clock90k(0),
    });
    m.push_audio(&EncodedAudio {
        data: vec![0; 65_527],
        pts: Clock90k(0),
    });
    assert_eq!(m.counters().rejected_units, 2);
    m.push_audio(&EncodedAudio {
        data: vec![0; 65_528],
        pts: Clock90k(0),
    });
    assert_eq!(m.counters().rejected_units, 3);
    assert_eq!(m.queued_bytes(), 65_535 + 6);
}

#[test]
fn the_pmt_describes_every_stream() {
    let config = MuxConfig {
        audio: Some((0x1FFE, AudioCodec::Mp2)),
        klv_pid: Some(0x20),
        ..MuxConfig::new(10_000_000)
    };
    let mut m = muxer(config);
    let mut out = Vec::new();
    m.fill_until(m.next_departure(), &mut out);
    m.fill_until(m.next_departure(), &mut out);
    let pmt = events(&out)
        .into_iter()
        .find_map(|e| match e {
            DemuxEvent::Pmt { pid: 0x1000, pmt } => Some(pmt),
            _ => None,
        })
        .unwrap();
    let types: Vec<(u8, u16)> = pmt.streams.iter().map(|s| (s.stream_type, s.pid)).collect();
    assert_eq!(
        types,
        [
            (0x1B, 0x100),
            (0x03, 0x1FFE),
            (stream_type::METADATA_PES, 0x20)
        ]
    );
    assert_eq!(pmt.pcr_pid, 0x100);
    let program: Vec<u8> = descriptors(&pmt.program_info).map(|d| d.0).collect();
    assert_eq!(program, [0x25]);
    let klv: Vec<u8> = descriptors(&pmt.streams[2].es_info).map(|d| d.0).collect();
    assert_eq!(klv, [0x26, 0x27]);
}

#[test]
fn audio_only_programs_carry_the_pcr_on_audio() {
    let config = MuxConfig {
        video: None,
        ..MuxConfig::new(1_000_000)
    };
    let mut m = muxer(config);
    m.push_audio(&EncodedAudio {
        data: vec![0xAA; 300],
        pts: Clock90k(0),
    });
    let out = drain(&mut m);
    let first_audio = out
        .iter()
        .map(|(t, p)| (t, TsPacket::new_checked(&p[..]).unwrap()))
        .find(|(_, p)| p.pid() == 0x101)
        .unwrap();
    assert_eq!(first_audio.1.pcr(), Some(*first_audio.0));
    assert!(first_audio.1.random_access() && first_audio.1.has_payload());
}

#[test]
fn audio_interleaves_with_a_large_iframe() {
    // 200 000 bytes take ~1 090 slots (164 ms) at 10 Mbit/s; an audio frame
    // is due every 1 920 ticks (21.3 ms, ~142 slots).
    let mut m = muxer(MuxConfig::new(10_000_000));
    m.push_video(&video(200_000, 0, true));
    for n in 0..8u8 {
        let pts = Clock90k(1_920 * u64::from(n));
        m.push_audio(&EncodedAudio {
            data: vec![n; 400],
            pts,
        });
    }
    let packets: Vec<_> = drain(&mut m)
        .into_iter()
        .map(|(_, p)| TsPacket::new_checked(p).unwrap().into_inner())
        .collect();
    let parsed = |p: &[u8; PACKET_LEN]| TsPacket::new_unchecked(*p);
    let last_video = packets
        .iter()
        .rposition(|p| parsed(p).pid() == 0x100)
        .unwrap();
    let audio_starts: Vec<usize> = (0..packets.len())
        .filter(|&i| parsed(&packets[i]).pid() == 0x101 && parsed(&packets[i]).payload_unit_start())
        .collect();
    assert_eq!(audio_starts.len(), 8);
    assert!(
        audio_starts[7] < last_video,
        "audio waited behind the I-frame"
    );
    for (n, &at) in audio_starts.iter().enumerate() {
        let video_before = packets[..at]
            .iter()
            .filter(|p| parsed(p).pid() == 0x100)
            .count();
        // Audio goes as soon as its buffer has room, so no later than
        // its decoding time.
        assert!(
            video_before < 142 * n + 10,
            "frame {n} after {video_before} video packets"
        );
    }
}

#[test]
fn intervals_hold_at_the_tightest_setting() {
    // At 1.2 Mbit/s a slot is 1.253 ms, so 11 ms is the shortest interval
    // validation allows: under 9 slots for PAT, PMT and PCR to share.
    let config = MuxConfig {
        pcr_interval_ms: 11,
        psi_interval_ms: 11,
        ..MuxConfig::new(1_200_000)
    };
    assert!(MuxConfig {
        pcr_interval_ms: 10,
        ..config
    }
    .validate()
    .is_err());
    let mut m = muxer(config);
    for n in 0..20 {
        m.push_video(&video(20_000, n * 3_600, n % 10 == 0));
        m.push_audio(&EncodedAudio {
            data: vec![1; 500],
            pts: Clock90k(n * 3_600),
        });
    }
    let out = drain(&mut m);
    let bound = 11 * 27_000;
    let mut last = [None::<u64>; 3]; // PAT, PMT, PCR
    for (departure, packet) in &out {
        let p = TsPacket::new_checked(&packet[..]).unwrap();
        let which = match (p.pid(), p.pcr()) {
            (0x0000, _) => 0,
            (0x1000, _) => 1,
            (_, Some(_)) => 2,
            _ => continue,
        };
        let gap = departure.0 - last[which].unwrap_or(1_000);
        assert!(gap <= bound, "table {which}: gap {gap} > {bound}");
        last[which] = Some(departure.0);
    }
}

#[test]
fn a_variable_rate_stream_sends_no_null_packets() {
    let rate = 1_000_000;
    let config = MuxConfig {
        variable_rate: true,
        ..MuxConfig::new(rate)
    };
    let mut m = muxer(config);
    let mut out = Vec::new();
    // One idle second: PAT and PMT every 100 ms, a PCR every 40 ms, and
    // nothing else in the 665 slots.
    m.fill_until(Pcr27M(1_000 + 27_000_000), &mut out);
    let pids: Vec<u16> = out
        .iter()
        .map(|(_, p)| TsPacket::new_unchecked(&p[..]).pid())
        .collect();
    let count = |pid| pids.iter().filter(|&&p| p == pid).count();
    // Each is due a few slots early: every 64 slots (96 ms) for PSI, 24
    // (36 ms) for the PCR, from slot 0 (the PCR shifted by PSI collisions).
    assert_eq!((count(0x0000), count(0x1000)), (11, 11));
    assert!((26..=28).contains(&count(0x100)), "{} PCRs", count(0x100));
    let c = m.counters();
    assert_eq!(c.packets + c.idle_slots, 665);
    // The SDT at slot 3, then every 328 slots (493 ms).
    assert_eq!(count(0x0011), 3);
    assert_eq!(c.packets as usize, 25 + count(0x100));
    assert_eq!(c.null_packets, 0);
    // Packets keep their slot times, and a PCR is its packet's departure.
    let slot = |k: u64| 1_000 + k * 1504 * 27_000_000 / rate;
    for (departure, packet) in &out {
        assert_eq!((departure.0 - 1_000) * rate % (1504 * 27_000_000), 0);
        let packet = TsPacket::new_checked(&packet[..]).unwrap();
        assert!(packet.pcr().is_none_or(|pcr| pcr == *departure));
    }
    // A unit goes out on consecutive slots, then the stream is idle again.
    m.push_video(&video(10_000, 0, true));
    let start = m.next_departure();
    let mut burst = Vec::new();
    m.fill_until(Pcr27M(start.0 + 27_000_000 / 5), &mut burst);
    let video: Vec<u64> = burst
        .iter()
        .filter(|(_, p)| {
            let p = TsPacket::new_unchecked(&p[..]);
            p.pid() == 0x100 && p.has_payload()
        })
        .map(|(t, _)| t.0)
        .collect();
    assert_eq!(video.len(), 55); // 10 019 bytes
    assert_eq!(video[0], start.0);
    assert!(video.last().unwrap() - video[0] < slot(62) - slot(0));
    assert!(burst
        .iter()
        .all(|(_, p)| TsPacket::new_unchecked(&p[..]).pid() != 0x1FFF));
}

#[test]
fn the_sdt_names_the_service_and_its_provider_twice_a_second() {
    let config = MuxConfig {
        program_number: 7,
        service_provider: DvbName::new("encoder-3"),
        service_name: DvbName::new("Studio B"),
        ..MuxConfig::new(2_000_000)
    };
    let mut m = muxer(config);
    let mut out = Vec::new();
    m.fill_until(Pcr27M(1_000 + 3 * 27_000_000), &mut out);
    let sdts: Vec<(u64, SdtRepr)> = out
        .iter()
        .map(|(t, p)| (t.0, TsPacket::new_checked(&p[..]).unwrap()))
        .filter(|(_, p)| p.pid() == 0x0011)
        .map(|(t, p)| {
            assert!(p.payload_unit_start());
            let payload = p.payload();
            let len = crate::psi::section_len(&payload[1..]).unwrap();
            let section = PsiSection::new_checked(&payload[1..1 + len]).unwrap();
            (t, SdtRepr::parse(&section).unwrap())
        })
        .collect();
    assert_eq!(sdts.len(), 7, "at 0 and about every 500 ms for 3 s");
    let sdt = &sdts[0].1;
    assert_eq!(sdt.provider_name, b"encoder-3");
    assert_eq!(sdt.service_name, b"Studio B");
    assert_eq!((sdt.service_id, sdt.service_type), (7, 0x01));
    assert_eq!(sdt.transport_stream_id, 1);
    for pair in sdts.windows(2) {
        assert!(pair[1].0 - pair[0].0 <= 500 * 27_000);
    }
}

#[test]
fn a_restarted_stream_marks_the_first_packet_of_every_pid() {
    for restart in [false, true] {
        let mut m = muxer(MuxConfig {
            restart,
            klv_pid: Some(0x102),
            ..MuxConfig::new(2_000_000)
        });
        let mut out = Vec::new();
        m.fill_until(Pcr27M(1_000 + 27_000_000 / 10), &mut out);
        m.push_video(&video(1_000, 0, true));
        m.push_audio(&EncodedAudio {
            data: vec![1; 300],
            pts: Clock90k(0),
        });
        m.push_klv(b"metadata", Clock90k(0));
        out.extend(drain(&mut m));
        let mut marked = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (_, p) in &out {
            let p = TsPacket::new_checked(&p[..]).unwrap();
            let first = seen.insert(p.pid());
            if p.discontinuity() {
                assert!(first, "PID {:#x}: marked after its first packet", p.pid());
                marked.push(p.pid());
            }
        }
        marked.sort_unstable();
        let expected: &[u16] = if restart {
            // PAT, SDT, video (with the first PCR), audio, KLV, PMT.
            &[0x0000, 0x0011, 0x0100, 0x0101, 0x0102, 0x1000]
        } else {
            &[]
        };
        assert_eq!(marked, expected, "restart {restart}");
        // The stream still reads back whole: the PSI lost only stuffing.
        let units = events(&out)
            .into_iter()
            .filter(|e| matches!(e, DemuxEvent::Pes(_) | DemuxEvent::Pmt { .. }))
            .count();
        assert!(units >= 4, "{units}");
    }
}
