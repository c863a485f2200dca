//! A transport stream judged against the buffers of the transport stream
//! system target decoder (T-STD, ISO/IEC 13818-1 §2.4.2), for tests and
//! diagnostics.
//!
//! # The model
//!
//! - **Arrival.** Byte i of the stream arrives when the PCRs say
//!   (§2.4.2.2): linearly between the two PCRs around it, at the rate
//!   those two PCRs imply, and at the rate of the nearest pair before the
//!   first PCR or after the last. A PCR stamps the byte holding the last
//!   bit of its base, 10 bytes into its packet. A packet's bytes are taken
//!   to arrive with its first byte, which overstates waits and occupancy
//!   by at most one packet time: the judgement errs strict. Packets after
//!   the last PCR have no rate to arrive at, so elementary streams are
//!   judged up to it (a recording cut at a stop ends on such packets).
//! - **Removal.** Every byte of a PES packet leaves the decoder's buffers
//!   at the PES's DTS, or its PTS when it has no DTS: one access unit per
//!   PES, which is how the muxer writes video, audio and KLV.
//! - **Occupancy.** The transport buffer and the elementary (main) buffer
//!   together: every payload byte of the PID (PES headers included) that
//!   has arrived and not yet left. Measured against the elementary buffer
//!   alone (BSn, EBSn), this errs strict by up to the 512-byte transport
//!   buffer.
//!
//! - **Transport buffer of audio.** For audio PIDs also the 512-byte
//!   transport buffer on its own (§2.4.2.3): whole packets in, drained at
//!   Rx = 2 Mbit/s (§2.4.2.7), its peak taken when a packet's last byte is
//!   in. Video's Rx depends on the level, so video's is not judged.
//!
//! - **Video, codec by codec.** For H.264, HEVC, MPEG-2 video and AV1
//!   the stream's profile and level (from its first parameter sets or
//!   sequence header, [`level`]) size TBn, MBn and EBn and their rates by
//!   each codec's T-STD rules ([`buffers`]), and the stream is run through
//!   them ([`video`]): [`EsReport::buffer_use`] says how full each got and
//!   how often a unit was not whole in EBn at its decoding time.
//!
//! A PES whose last byte arrives after its removal time is late: the
//! decoder's buffer underflowed. The PCR is followed on one PID, the first
//! that carries one; 33-bit wraps are unwrapped.

use std::collections::{BTreeMap, VecDeque};

use makara_media::PCR_HZ;

use crate::av1::start_code;
use crate::demux::{DemuxEvent, Demuxer};
use crate::es::program::{classify, Carries};
use crate::es::VideoCodec;
use crate::packet::{TsPacket, NULL_PID, PACKET_LEN};
use crate::pes::PesHeaderRepr;
use crate::{Error, Result};

/// Stream types whose transport buffer leaks at [`AUDIO_RX_BPS`]: MPEG-1
/// and MPEG-2 audio, AAC in ADTS and in LATM.
const AUDIO_STREAM_TYPES: [u8; 4] = [0x03, 0x04, 0x0F, 0x11];
/// Rxn of audio (§2.4.2.7).
const AUDIO_RX_BPS: u128 = 2_000_000;

/// The PCR counts 2^33 periods of 300 ticks, then starts again.
const PCR_WRAP: u64 = (1 << 33) * 300;
/// Where in its packet the byte a PCR stamps is.
const PCR_BYTE: i128 = 10;

/// How one elementary stream used its decoder buffers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EsReport {
    pub pid: u16,
    /// From the PMT.
    pub stream_type: u8,
    /// PES packets that started and had a timestamp.
    pub units: u64,
    /// TS payload bytes of the PID: PES headers and data.
    pub bytes: u64,
    /// The longest any byte waited, arrival to removal, in 27 MHz ticks.
    pub max_wait: u64,
    /// The most bytes in the buffers at once.
    pub max_occupancy: usize,
    /// Units whose last byte arrived after their removal time.
    pub late_units: u64,
    /// By how much the latest of them missed it, in 27 MHz ticks.
    pub max_lateness: u64,
    /// Audio: the most bytes in the transport buffer at once (0 for other
    /// streams).
    pub max_transport_buffer: usize,
    /// Video: the codec the PMT names.
    pub codec: Option<VideoCodec>,
    /// Video: the profile and level its bitstream signals.
    pub level: Option<VideoLevel>,
    /// Video: the T-STD buffers of that level.
    pub buffers: Option<VideoBuffers>,
    /// Video: how the stream used them.
    pub buffer_use: Option<VideoBufferUse>,
}

/// The longest a byte may wait in the T-STD: 1 s (§2.4.2.6), 10 s for
/// AV1 (its carriage spec's STD delay).
const MAX_WAIT_TICKS: u64 = PCR_HZ;
const AV1_MAX_WAIT_TICKS: u64 = 10 * PCR_HZ;
/// BSn and TBS of the audio T-STD (§2.4.2.4, §2.4.2.7).
const AUDIO_BSN: usize = 3584;
const AUDIO_TBS: usize = 512;

impl EsReport {
    /// Whether the stream kept its T-STD: no unit late, no byte waiting
    /// too long, every buffer within its size. `None` where the analyser
    /// does not know the buffers: video of a level it cannot read or
    /// does not know, and streams that are neither audio nor video.
    pub fn t_std_ok(&self) -> Option<bool> {
        let timely = self.late_units == 0;
        if AUDIO_STREAM_TYPES.contains(&self.stream_type) {
            return Some(
                timely
                    && self.max_wait <= MAX_WAIT_TICKS
                    && self.max_occupancy <= AUDIO_BSN
                    && self.max_transport_buffer <= AUDIO_TBS,
            );
        }
        let (buffers, used) = (self.buffers?, self.buffer_use?);
        let max_wait = if self.codec == Some(VideoCodec::Av1) {
            AV1_MAX_WAIT_TICKS
        } else {
            MAX_WAIT_TICKS
        };
        Some(
            timely
                && self.max_wait <= max_wait
                && used.eb_underflows == 0
                && used.max_tb <= buffers.tbs
                && used.max_mb <= buffers.mbs
                && used.max_eb <= buffers.ebs,
        )
    }
}

/// What [`analyse`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TstdReport {
    /// Every elementary stream a PMT named, by PID.
    pub streams: BTreeMap<u16, EsReport>,
    pub packets: u64,
    pub null_packets: u64,
    pub pcrs: u64,
    /// The slowest and fastest rate between consecutive PCRs, in bit/s:
    /// equal in a constant-rate stream.
    pub min_rate_bps: u64,
    pub max_rate_bps: u64,
    /// Continuity counter errors the parser reported.
    pub continuity_errors: u64,
    /// Packets with discontinuity_indicator set, by PID.
    pub discontinuities: BTreeMap<u16, u64>,
}

/// Judges a recorded stream: whole 188-byte packets, back to back (a
/// trailing partial packet is ignored). Fails when fewer than two PCRs
/// give it a clock.
pub fn analyse(ts: &[u8]) -> Result<TstdReport> {
    let packets: Vec<&[u8]> = ts.chunks_exact(PACKET_LEN).collect();
    let clock = ArrivalClock::new(&packets)?;
    let mut report = TstdReport {
        packets: packets.len() as u64,
        pcrs: clock.pcrs.len() as u64,
        min_rate_bps: clock.rates().min().unwrap_or(0),
        max_rate_bps: clock.rates().max().unwrap_or(0),
        ..TstdReport::default()
    };
    let mut demuxer = Demuxer::new();
    let mut buffers: BTreeMap<u16, Buffer> = BTreeMap::new();
    let mut traces: BTreeMap<u16, VideoTrace> = BTreeMap::new();
    for (index, bytes) in packets.iter().enumerate() {
        demuxer.push(bytes);
        while let Some(event) = demuxer.poll() {
            match event {
                DemuxEvent::Pmt { pmt, .. } => {
                    for s in &pmt.streams {
                        let entry = report.streams.entry(s.pid).or_default();
                        entry.pid = s.pid;
                        entry.stream_type = s.stream_type;
                        if let Carries::Video(codec) = classify(s) {
                            entry.codec = Some(codec);
                            traces.entry(s.pid).or_default();
                        }
                        let buffer = buffers.entry(s.pid).or_default();
                        if AUDIO_STREAM_TYPES.contains(&s.stream_type) {
                            buffer
                                .transport
                                .get_or_insert_with(TransportBuffer::default);
                        }
                    }
                }
                DemuxEvent::Continuity { .. } => report.continuity_errors += 1,
                DemuxEvent::Pes(unit) => {
                    if let Some(es) = report.streams.get_mut(&unit.pid) {
                        learn_level(es, &unit.payload);
                    }
                }
                _ => {}
            }
        }
        let Ok(packet) = TsPacket::new_checked(*bytes) else {
            continue;
        };
        let pid = packet.pid();
        if pid == NULL_PID {
            report.null_packets += 1;
            continue;
        }
        if packet.discontinuity() {
            *report.discontinuities.entry(pid).or_default() += 1;
        }
        let (Some(buffer), Some(es)) = (buffers.get_mut(&pid), report.streams.get_mut(&pid)) else {
            continue;
        };
        if index > clock.last_index() {
            continue;
        }
        if let Some(transport) = buffer.transport.as_mut() {
            let bytes = transport.arrive(clock.arrival(index + 1));
            es.max_transport_buffer = es.max_transport_buffer.max(bytes);
        }
        if packet.has_payload() {
            buffer.arrive(clock.arrival(index), &packet, es);
            if let Some(trace) = traces.get_mut(&pid) {
                let starts = packet.payload_unit_start().then(|| removal_time(&packet));
                trace.packet(clock.arrival(index + 1), packet.payload().len(), starts);
            }
        }
    }
    for (pid, buffer) in buffers {
        if let Some(es) = report.streams.get_mut(&pid) {
            buffer.finish(es);
        }
    }
    for (pid, mut trace) in traces {
        trace.close();
        if let Some(es) = report.streams.get_mut(&pid) {
            es.buffers = es.level.as_ref().and_then(VideoBuffers::for_level);
            es.buffer_use = es.buffers.map(|b| video::simulate(&trace, b));
        }
    }
    Ok(report)
}

/// The first level a video stream's units signal.
fn learn_level(es: &mut EsReport, payload: &[u8]) {
    let Some(codec) = es.codec.filter(|_| es.level.is_none()) else {
        return;
    };
    es.level = if codec == VideoCodec::Av1 {
        start_code::to_low_overhead(payload)
            .ok()
            .and_then(|tu| VideoLevel::find(codec, &tu))
    } else {
        VideoLevel::find(codec, payload)
    };
}

/// When the PES starting in this packet leaves the decoder's buffers: its
/// DTS, else its PTS, on the 27 MHz clock.
fn removal_time<T: AsRef<[u8]>>(packet: &TsPacket<T>) -> Option<u64> {
    PesHeaderRepr::parse(packet.payload())
        .ok()
        .and_then(|(h, _)| h.dts.or(h.pts))
        .map(|t| t.0 * 300)
}

/// Byte arrival times from the PCRs of one PID.
struct ArrivalClock {
    /// (packet index, PCR unwrapped), in stream order.
    pcrs: Vec<(usize, u64)>,
}

impl ArrivalClock {
    fn new(packets: &[&[u8]]) -> Result<ArrivalClock> {
        let mut pcr_pid = None;
        let mut pcrs: Vec<(usize, u64)> = Vec::new();
        for (index, bytes) in packets.iter().enumerate() {
            let Ok(packet) = TsPacket::new_checked(*bytes) else {
                continue;
            };
            let Some(pcr) = packet.pcr() else { continue };
            if *pcr_pid.get_or_insert(packet.pid()) != packet.pid() {
                continue;
            }
            let mut value = pcr.0;
            if let Some(&(_, last)) = pcrs.last() {
                while value < last {
                    value += PCR_WRAP;
                }
            }
            pcrs.push((index, value));
        }
        if pcrs.len() < 2 {
            return Err(Error);
        }
        Ok(ArrivalClock { pcrs })
    }

    /// The packet with the last PCR.
    fn last_index(&self) -> usize {
        self.pcrs.last().map_or(0, |&(i, _)| i)
    }

    /// When the first byte of packet `index` arrives, in 27 MHz ticks.
    fn arrival(&self, index: usize) -> u64 {
        let after = self.pcrs.partition_point(|&(i, _)| i < index);
        let pair = after.clamp(1, self.pcrs.len() - 1);
        let (a, pcr_a) = self.pcrs[pair - 1];
        let (b, pcr_b) = self.pcrs[pair];
        let byte = |i: usize| i as i128 * PACKET_LEN as i128 + PCR_BYTE;
        let span = byte(b) - byte(a);
        let offset = index as i128 * PACKET_LEN as i128 - byte(a);
        let t = pcr_a as i128 + offset * (pcr_b as i128 - pcr_a as i128) / span.max(1);
        t.max(0) as u64
    }

    /// The rate between each pair of consecutive PCRs, in bit/s.
    fn rates(&self) -> impl Iterator<Item = u64> + '_ {
        self.pcrs.windows(2).filter_map(|w| {
            let bits = (w[1].0 - w[0].0) as u128 * PACKET_LEN as u128 * 8;
            let ticks = u128::from(w[1].1 - w[0].1);
            (ticks > 0).then(|| (bits * u128::from(PCR_HZ) / ticks) as u64)
        })
    }
}

/// A transport buffer leaking at [`AUDIO_RX_BPS`], in bit-ticks: bits
/// times the 27 MHz rate, so that draining stays in integers.
#[derive(Debug, Default)]
struct TransportBuffer {
    level: u128,
    at: u64,
}

impl TransportBuffer {
    /// A whole packet is in at `end`; returns the bytes then held.
    fn arrive(&mut self, end: u64) -> usize {
        let drained = u128::from(end.saturating_sub(self.at)) * AUDIO_RX_BPS;
        self.level =
            self.level.saturating_sub(drained) + PACKET_LEN as u128 * 8 * u128::from(PCR_HZ);
        self.at = end;
        self.level.div_ceil(8 * u128::from(PCR_HZ)) as usize
    }
}

/// One PES on its way through the buffers.
#[derive(Debug)]
struct Unit {
    removal: u64,
    first_arrival: u64,
    last_arrival: u64,
    bytes: usize,
}

/// The transport and elementary buffers of one PID, as one.
#[derive(Debug, Default)]
struct Buffer {
    /// Units not yet removed, in decode order; the last may be arriving.
    units: VecDeque<Unit>,
    occupancy: usize,
    /// The PES now arriving has a timestamp; without one (or before the
    /// first start) its bytes are not followed.
    receiving: bool,
    /// Audio only: the transport buffer on its own.
    transport: Option<TransportBuffer>,
}

impl Buffer {
    fn arrive<T: AsRef<[u8]>>(&mut self, now: u64, packet: &TsPacket<T>, es: &mut EsReport) {
        if packet.payload_unit_start() {
            // The PES that was arriving is complete.
            self.receiving = false;
        }
        self.remove_due(now, es);
        let payload = packet.payload();
        if packet.payload_unit_start() {
            let removal = PesHeaderRepr::parse(payload)
                .ok()
                .and_then(|(h, _)| h.dts.or(h.pts))
                .map(|t| t.0 * 300);
            self.receiving = removal.is_some();
            if let Some(removal) = removal {
                es.units += 1;
                self.units.push_back(Unit {
                    removal,
                    first_arrival: now,
                    last_arrival: now,
                    bytes: 0,
                });
            }
        }
        es.bytes += payload.len() as u64;
        if !self.receiving {
            return;
        }
        if let Some(unit) = self.units.back_mut() {
            unit.bytes += payload.len();
            unit.last_arrival = now;
            self.occupancy += payload.len();
            es.max_occupancy = es.max_occupancy.max(self.occupancy);
        }
    }

    /// Removes every whole unit due by `now`. The unit still arriving
    /// stays until its next packet or the end of the stream.
    fn remove_due(&mut self, now: u64, es: &mut EsReport) {
        let complete = self.units.len() - usize::from(self.receiving);
        let due = self
            .units
            .iter()
            .take(complete)
            .take_while(|u| u.removal <= now)
            .count();
        for unit in self.units.drain(..due) {
            self.occupancy -= unit.bytes;
            Self::judge(&unit, es);
        }
    }

    fn judge(unit: &Unit, es: &mut EsReport) {
        es.max_wait = es
            .max_wait
            .max(unit.removal.saturating_sub(unit.first_arrival));
        if unit.last_arrival > unit.removal {
            es.late_units += 1;
            es.max_lateness = es.max_lateness.max(unit.last_arrival - unit.removal);
        }
    }

    fn finish(self, es: &mut EsReport) {
        for unit in &self.units {
            Self::judge(unit, es);
        }
    }
}

pub mod buffers;
pub mod level;
mod video;

pub use buffers::VideoBuffers;
pub use level::VideoLevel;
pub use video::VideoBufferUse;
use video::VideoTrace;
#[cfg(test)]
mod tests;
