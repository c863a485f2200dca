//! Damaged input: lost packets are counted and the stream recovers;
//! mutated, truncated and random bytes give sane events and no panic; an
//! unpolled queue stays bounded.

use super::*;

#[test]
fn lost_packets_are_counted_and_the_stream_recovers() {
    let (ts, units, _) = h264_aac_stream();
    let packets: Vec<&[u8]> = ts.chunks(PACKET_LEN).collect();
    // Drop one video payload packet in the middle of the stream.
    let video_at: Vec<usize> = (0..packets.len())
        .filter(|&i| {
            packets[i][1] & 0x1F == 0x01 && packets[i][2] == 0x00 && packets[i][3] & 0x10 != 0
        })
        .collect();
    let lost = video_at[video_at.len() / 2];
    let damaged: Vec<u8> = packets
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != lost)
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    let events = events(&damaged, EsOptions::default());
    let continuity: Vec<&Problem> = problems(&events)
        .into_iter()
        .filter(|p| {
            matches!(
                p,
                Problem::Continuity {
                    pid: 0x100,
                    total: 1,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(continuity.len(), 1);
    // The unit that lost a packet is gone; the others are whole.
    let got = videos(&events);
    assert_eq!(got.len(), units.len() - 1);
    assert!(got.iter().all(|v| units.iter().any(|u| u.data == v.data)));
}

/// xorshift64*: deterministic, so a failing seed reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every event a damaged stream gives is sane: bounded units, only
/// delivered codecs, audio frames no longer than an ADTS frame can be.
fn check(events: &[EsEvent]) {
    for event in events {
        match event {
            EsEvent::Video(v) => {
                assert!(v.data.len() <= crate::demux::MAX_PES_LEN);
                assert!(v.codec.is_supported());
                let _ = (
                    v.has_key_nal(),
                    v.nal_units().count(),
                    v.composition_offset(),
                );
            }
            EsEvent::Audio(a) => {
                assert!(a.data.len() < 1 << 13);
                assert!(a.pts.0 < 1 << 33);
                let _ = a.config.audio_specific_config();
            }
            EsEvent::Problem(p) => assert!(!p.to_string().is_empty()),
            EsEvent::Program(_) | EsEvent::ParameterSets(_) => {}
        }
    }
}

#[test]
fn damaged_streams_never_panic() {
    let (ts, _, _) = h264_aac_stream();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let mut bytes = ts.clone();
        match round % 5 {
            0 => {
                for _ in 0..1 + rng.below(40) {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            1 => bytes.truncate(rng.below(bytes.len())),
            2 => {
                let at = rng.below(bytes.len());
                let garbage: Vec<u8> = (0..rng.below(400)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, garbage);
            }
            3 => {
                // Whole packets duplicated, dropped or swapped.
                let mut packets: Vec<Vec<u8>> =
                    bytes.chunks(PACKET_LEN).map(<[u8]>::to_vec).collect();
                for _ in 0..1 + rng.below(20) {
                    let (a, b) = (rng.below(packets.len()), rng.below(packets.len()));
                    match rng.below(3) {
                        0 => packets.insert(a, packets[b].clone()),
                        1 => drop(packets.remove(a)),
                        _ => packets.swap(a, b),
                    }
                }
                bytes = packets.concat();
            }
            _ => {
                for byte in bytes
                    .iter_mut()
                    .skip(rng.below(1000))
                    .step_by(1 + rng.below(50))
                {
                    *byte = rng.next() as u8;
                }
            }
        }
        let mut d = EsDemuxer::with_options(EsOptions {
            end_video_at_stuffing: round % 2 == 0,
        });
        let mut at = 0;
        while at < bytes.len() {
            let len = PACKET_LEN * (1 + rng.below(8))
                + if rng.below(10) == 0 {
                    rng.below(187)
                } else {
                    0
                };
            let end = (at + len).min(bytes.len());
            d.push(&bytes[at..end]);
            check(&std::iter::from_fn(|| d.poll()).collect::<Vec<_>>());
            at = end;
        }
        d.finish();
        check(&std::iter::from_fn(|| d.poll()).collect::<Vec<_>>());
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut d = EsDemuxer::new();
    for _ in 0..20_000 {
        let mut packet: Vec<u8> = (0..PACKET_LEN).map(|_| rng.next() as u8).collect();
        packet[0] = 0x47;
        // PAT, a PMT PID or our media PIDs most of the time.
        let pid = [0x0000u16, 0x1000, 0x100, 0x101][rng.below(4)];
        packet[1] = (packet[1] & 0xE0) | (pid >> 8) as u8;
        packet[2] = pid as u8;
        d.push(&packet);
        check(&std::iter::from_fn(|| d.poll()).collect::<Vec<_>>());
    }
    d.finish();
    check(&std::iter::from_fn(|| d.poll()).collect::<Vec<_>>());
}

#[test]
fn an_unpolled_queue_stays_bounded() {
    let (ts, _, _) = h264_aac_stream();
    let mut d = EsDemuxer::new();
    // Short packets: one problem event each, never polled.
    for _ in 0..MAX_PENDING_EVENTS + 100 {
        d.push(&ts[..100]);
    }
    assert_eq!(d.counters().dropped_events, 100);
    let polled = std::iter::from_fn(|| d.poll()).count();
    assert_eq!(polled, MAX_PENDING_EVENTS + 1);
    assert_eq!(d.poll(), None);
}

/// es_demux fuzz crash: an HEVC unit ending one byte into a prefix SEI
/// (its NAL header is two bytes) is delivered as it came, with no
/// recovery point and no captions read from it.
#[test]
fn an_hevc_unit_cut_inside_an_sei_header_is_delivered_whole() {
    let mut m = muxer(MuxConfig {
        video: Some((0x100, MuxVideo::Hevc)),
        audio: None,
        ..MuxConfig::new(10_000_000)
    });
    let idr = slice(&[0x26, 0x01], 100, 0);
    let data = annex_b(&[&HEVC_VPS, &HEVC_SPS, &HEVC_PPS, &idr, &[0x4E]]);
    m.push_video(&EncodedVideo {
        data: data.clone(),
        pts: Clock90k(3_000),
        dts: Clock90k(3_000),
        keyframe: true,
    });
    let events = events(&drain(&mut m), EsOptions::default());
    assert!(problems(&events).is_empty(), "{:?}", problems(&events));
    let [unit] = videos(&events)[..] else {
        panic!("one unit: {events:?}");
    };
    assert_eq!(unit.data, data);
    assert!(unit.key && !unit.has_recovery_point());
    let codec = makara_media::VideoCodec::Hevc;
    assert!(crate::captions::find(codec, &unit.data).is_empty());
}
