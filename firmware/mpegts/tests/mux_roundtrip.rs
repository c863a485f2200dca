//! Property test: random programs and random streams of units go through
//! the muxer and come back through the crate's own parser unchanged, with
//! the timing rules of the transport stream kept throughout.

#[path = "common/prng.rs"]
mod prng;

use std::collections::{BTreeMap, VecDeque};

use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::demux::{DemuxEvent, Demuxer, PesUnit};
use makara_mpegts::klv::MetadataAuCellRepr;
use makara_mpegts::mux::{MuxConfig, Muxer};
use prng::Prng;

const ITERATIONS: u64 = 64;
const TICKS_PER_MS: u64 = 27_000;
/// PCR values wrap here: a 33-bit base of 300 ticks each.
const PCR_WRAP: u64 = (1 << 33) * 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Video,
    Audio,
    Klv,
}

#[derive(Debug)]
struct Unit {
    kind: Kind,
    data: Vec<u8>,
    pts: u64,
    dts: u64,
    keyframe: bool,
    /// The metadata AU cell's sequence_number, counted at push: a dropped
    /// unit leaves a gap, which is how a receiver sees the loss.
    sequence: u8,
    /// When the simulated encoder hands it to the muxer (27 MHz).
    push_at: u64,
}

fn random_config(rng: &mut Prng) -> MuxConfig {
    let video = [VideoCodec::H264, VideoCodec::Hevc, VideoCodec::Mpeg2][rng.below(3) as usize];
    let audio = [AudioCodec::AacAdts, AudioCodec::Mp2][rng.below(2) as usize];
    let mut config = MuxConfig {
        video: Some((0x100, video)),
        audio: rng.chance(85).then_some((0x101, audio)),
        klv_pid: rng.chance(50).then_some(0x1FFE),
        pmt_pid: [0x1000, 0x20, 0x42][rng.below(3) as usize],
        mux_rate_bps: rng.range(2_000_000, 60_000_000),
        pcr_interval_ms: rng.range(20, 100) as u32,
        psi_interval_ms: rng.range(20, 100) as u32,
        // Small limits make the muxer drop units in some runs.
        max_backlog_ms: rng.range(100, 2_000) as u32,
        ..MuxConfig::new(0)
    };
    if config.audio.is_some() && rng.chance(10) {
        config.video = None; // the PCR moves to audio
    }
    config
}

/// A few seconds of units for `config`, in the order they are pushed.
fn random_units(rng: &mut Prng, config: &MuxConfig, base: u64) -> Vec<Unit> {
    let mut units = Vec::new();
    let frame = 90_000 / [25, 30, 50, 60][rng.below(4) as usize];
    let frames = rng.range(10, 60);
    let mut add = |kind, data, pts, dts, keyframe| {
        units.push(Unit {
            kind,
            data,
            pts,
            dts,
            keyframe,
            sequence: 0,
            push_at: 0,
        });
    };
    if config.video.is_some() {
        for n in 0..frames {
            let keyframe = n == 0 || rng.chance(10);
            // Mostly P-frame sized, sometimes up to 200 000 bytes.
            let cap = if keyframe || rng.chance(20) {
                200_000
            } else {
                30_000
            };
            let len = rng.range(1, cap) as usize;
            let dts = base + n * frame;
            let pts = dts + rng.below(3) * frame;
            add(Kind::Video, rng.bytes(len), pts, dts, keyframe);
        }
    }
    let duration = frames * frame;
    if let Some((_, codec)) = config.audio {
        // 1 152 samples (MP2) or 1 024 (AAC) at 48 kHz.
        let step = if codec == AudioCodec::Mp2 {
            2_160
        } else {
            1_920
        };
        for n in 0..duration / step {
            let len = rng.range(1, 2_000) as usize;
            add(
                Kind::Audio,
                rng.bytes(len),
                base + n * step,
                base + n * step,
                true,
            );
        }
    }
    if config.klv_pid.is_some() {
        let mut pts = base;
        while pts < base + duration {
            let len = rng.range(1, 1_000) as usize;
            add(Kind::Klv, rng.bytes(len), pts, pts, false);
            pts += rng.range(frame, 10 * frame);
        }
    }
    // Handed over 100-250 ms before the DTS, with jitter, but in order
    // within each stream.
    let mut last: BTreeMap<Kind, u64> = BTreeMap::new();
    for unit in &mut units {
        let lead = rng.range(100, 250) * TICKS_PER_MS;
        let at = (unit.dts * 300).saturating_sub(lead);
        let previous = last.entry(unit.kind).or_insert(0);
        unit.push_at = at.max(*previous);
        *previous = unit.push_at;
    }
    units.sort_by_key(|u| u.push_at); // stable: keeps each stream's order
    units
}

/// Everything the checks remember while the stream goes by.
#[derive(Default)]
struct Seen {
    packets: u64,
    last_pat: Option<u64>,
    last_pmt: Option<u64>,
    last_pcr: Option<u64>,
    expected: BTreeMap<u16, VecDeque<Unit>>,
    received: BTreeMap<u16, u64>,
    skipped: BTreeMap<u16, u64>,
    klv_pushed: u8,
}

struct Case {
    seed: u64,
    config: MuxConfig,
    start: u64,
    pcr_pid: u16,
}

impl Case {
    fn slot_time(&self, k: u64) -> u64 {
        self.start
            + (u128::from(k) * 1504 * 27_000_000 / u128::from(self.config.mux_rate_bps)) as u64
    }

    fn pid(&self, kind: Kind) -> Option<u16> {
        match kind {
            Kind::Video => self.config.video.map(|v| v.0),
            Kind::Audio => self.config.audio.map(|a| a.0),
            Kind::Klv => self.config.klv_pid,
        }
    }

    /// Checks one packet and everything the parser found in it.
    fn check_packet(&self, seen: &mut Seen, demuxer: &mut Demuxer, departure: u64, packet: &[u8]) {
        let seed = self.seed;
        assert_eq!(
            departure,
            self.slot_time(seen.packets),
            "seed {seed}: slot time"
        );
        seen.packets += 1;
        demuxer.push(packet);
        while let Some(event) = demuxer.poll() {
            self.check_event(seen, departure, event);
        }
    }

    fn check_event(&self, seen: &mut Seen, departure: u64, event: DemuxEvent) {
        let seed = self.seed;
        let psi_bound = u64::from(self.config.psi_interval_ms) * TICKS_PER_MS;
        let pcr_bound = u64::from(self.config.pcr_interval_ms) * TICKS_PER_MS;
        let within = |last: Option<u64>, bound: u64, what: &str| {
            let gap = departure - last.unwrap_or(self.start);
            assert!(gap <= bound, "seed {seed}: {what} gap {gap} > {bound}");
            Some(departure)
        };
        match event {
            DemuxEvent::Pat(pat) => {
                assert_eq!(pat.programs[0].pid, self.config.pmt_pid);
                seen.last_pat = within(seen.last_pat, psi_bound, "PAT");
            }
            DemuxEvent::Pmt { pmt, .. } => {
                assert_eq!(pmt.pcr_pid, self.pcr_pid);
                seen.last_pmt = within(seen.last_pmt, psi_bound, "PMT");
            }
            DemuxEvent::Pcr { pid, pcr } => {
                assert_eq!(pid, self.pcr_pid, "seed {seed}: PCR PID");
                assert_eq!(
                    pcr,
                    Pcr27M(departure % PCR_WRAP),
                    "seed {seed}: PCR is the slot time"
                );
                seen.last_pcr = within(seen.last_pcr, pcr_bound, "PCR");
            }
            DemuxEvent::Pes(unit) => self.check_unit(seen, unit),
            other => panic!("seed {seed}: {other:?}"),
        }
    }

    /// A unit must be the next one pushed on its PID, or follow units the
    /// muxer said it dropped.
    fn check_unit(&self, seen: &mut Seen, unit: PesUnit) {
        let seed = self.seed;
        let expected = seen
            .expected
            .get_mut(&unit.pid)
            .expect("a PES on a known PID");
        let mut cell = None;
        let mut payload = unit.payload.clone();
        if self.pid(Kind::Klv) == Some(unit.pid) {
            let (header, data) = MetadataAuCellRepr::parse(&unit.payload).unwrap();
            assert_eq!(
                data.len() + 5,
                unit.payload.len(),
                "seed {seed}: one cell per PES"
            );
            (cell, payload) = (Some(header), data.to_vec());
        }
        while expected.front().is_some_and(|u| u.data != payload) {
            expected.pop_front();
            *seen.skipped.entry(unit.pid).or_default() += 1;
        }
        let sent = expected
            .pop_front()
            .unwrap_or_else(|| panic!("seed {seed}: unknown unit"));
        *seen.received.entry(unit.pid).or_default() += 1;
        if let Some(cell) = cell {
            assert_eq!(
                cell.sequence_number, sent.sequence,
                "seed {seed}: KLV sequence"
            );
            assert!(cell.random_access && cell.cell_fragment_indication == 0b11);
        }
        let wire = |t: u64| Some(Clock90k(Clock90k(t).wire()));
        assert_eq!(unit.header.pts, wire(sent.pts), "seed {seed}: PTS");
        let dts = if sent.dts == sent.pts {
            None
        } else {
            wire(sent.dts)
        };
        assert_eq!(unit.header.dts, dts, "seed {seed}: DTS");
        assert_eq!(
            unit.random_access,
            sent.keyframe || sent.kind == Kind::Audio
        );
        assert!(unit.header.data_alignment);
        let bounded = if sent.kind == Kind::Video {
            0
        } else {
            unit.payload.len() + 8
        };
        assert_eq!(
            usize::from(unit.header.packet_length),
            bounded,
            "seed {seed}"
        );
    }
}

fn push(muxer: &mut Muxer, unit: &Unit) {
    match unit.kind {
        Kind::Video => muxer.push_video(&EncodedVideo {
            data: unit.data.clone(),
            pts: Clock90k(unit.pts),
            dts: Clock90k(unit.dts),
            keyframe: unit.keyframe,
        }),
        Kind::Audio => muxer.push_audio(&EncodedAudio {
            data: unit.data.clone(),
            pts: Clock90k(unit.pts),
        }),
        Kind::Klv => muxer.push_klv(&unit.data, Clock90k(unit.pts)),
    }
}

fn run(seed: u64) {
    let mut rng = Prng::new(seed);
    let config = random_config(&mut rng);
    // Half the runs start just before the PCR and PTS wrap around.
    let start = if rng.chance(50) {
        PCR_WRAP - rng.range(0, 3_000) * TICKS_PER_MS
    } else {
        rng.below(1 << 40)
    };
    let units = random_units(&mut rng, &config, start / 300 + 9_000);
    let pcr_pid = config
        .video
        .map_or_else(|| config.audio.unwrap().0, |v| v.0);
    let case = Case {
        seed,
        config,
        start,
        pcr_pid,
    };
    let mut seen = Seen::default();

    let mut muxer = Muxer::new(config.validate().unwrap(), Pcr27M(start));
    let mut demuxer = Demuxer::new();
    let mut out = Vec::with_capacity(4096);
    let mut pending = units.into_iter().peekable();
    let mut now = start;
    let mut idle_until = None;
    while idle_until.is_none_or(|end| now < end) {
        now += rng.range(1, 30) * TICKS_PER_MS;
        while let Some(mut unit) = pending.next_if(|u| u.push_at <= now) {
            if unit.kind == Kind::Klv {
                unit.sequence = seen.klv_pushed;
                seen.klv_pushed = seen.klv_pushed.wrapping_add(1);
            }
            push(&mut muxer, &unit);
            let pid = case.pid(unit.kind).unwrap();
            seen.expected.entry(pid).or_default().push_back(unit);
        }
        muxer.fill_until(Pcr27M(now), &mut out);
        for (departure, packet) in out.drain(..) {
            case.check_packet(&mut seen, &mut demuxer, departure.0, &packet);
        }
        if idle_until.is_none() && pending.peek().is_none() && muxer.queued_bytes() == 0 {
            idle_until = Some(now + 300 * TICKS_PER_MS); // a stretch of nulls and PSI
        }
    }
    demuxer.finish();
    while let Some(event) = demuxer.poll() {
        case.check_event(&mut seen, now, event);
    }

    let counters = muxer.counters();
    let slots = ((u128::from(now - start) * u128::from(config.mux_rate_bps)) / (1504 * 27_000_000))
        as u64
        + 1;
    assert_eq!(seen.packets, slots, "seed {seed}: exactly the mux rate");
    assert_eq!(counters.packets, slots);
    for (kind, stream) in [
        (Kind::Video, counters.video),
        (Kind::Audio, counters.audio),
        (Kind::Klv, counters.klv),
    ] {
        let Some(pid) = case.pid(kind) else {
            assert_eq!(stream.units, 0);
            continue;
        };
        let expected = &seen.expected[&pid];
        let received = seen.received.get(&pid).copied().unwrap_or(0);
        let skipped = seen.skipped.get(&pid).copied().unwrap_or(0) + expected.len() as u64;
        assert_eq!(skipped, stream.dropped_units, "seed {seed}: {kind:?} drops");
        assert_eq!(
            received + skipped,
            stream.units,
            "seed {seed}: {kind:?} units"
        );
    }
    assert_eq!(counters.rejected_units, 0);
}

#[test]
fn everything_pushed_comes_back_with_its_timing() {
    for seed in 1..=ITERATIONS {
        run(seed);
    }
}
