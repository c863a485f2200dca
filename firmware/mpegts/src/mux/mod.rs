//! The muxer: one program of video, audio and KLV metadata in a
//! transport stream of exactly `mux_rate_bps`, or of at most that rate
//! when it is variable-rate.
//!
//! # Time
//!
//! All times are on one clock, the stream's: `start` and the departures
//! in 27 MHz ticks, PTS and DTS in 90 kHz ticks. The caller chooses the
//! DTS of each unit to be its capture time plus the decoder delay, so that
//! units are due after they can have been sent; units whose first packet
//! leaves after their DTS are counted as late.
//!
//! # Pacing
//!
//! The output is a sequence of packet slots at the mux rate. Slot k leaves
//! at `start + ⌊k · 188 · 8 · 27 000 000 / mux_rate⌋` on the 27 MHz clock,
//! and a PCR carries the departure time of its own packet. So the clock a
//! receiver recovers follows the send schedule, not the encoder's bursts,
//! which is what keeps its buffers steady. In a constant-rate stream every
//! slot is filled, with null packets when nothing else is ready; in a
//! variable-rate one (`variable_rate`) such a slot stays empty, so the
//! link carries payload, PSI and the PCRs their interval needs, nothing
//! more. Either way a PCR is the departure time of its own packet.
//!
//! # What goes in a slot
//!
//! 1. The PAT, then the PMT, when the PSI interval is nearly up.
//! 2. A PCR when the PCR interval is nearly up: in the next packet of the
//!    PCR stream's queue, or in an adaptation-only packet if it is empty.
//! 3. The SDT (service and provider name), every [`SDT_INTERVAL_MS`].
//! 4. Payload, from the stream whose next packet has the earliest deadline
//!    among those a receiver's buffers can take now (see below).
//! 5. A null packet (constant rate), or nothing (variable rate).
//!
//! "Nearly up" means within [`LEAD_SLOTS`] slots. Only three things (PAT,
//! PMT, PCR) ever jump the queue (the SDT's half second has room to
//! wait), so each waits at most two slots behind the others and goes out
//! before its interval ends. Validation makes every interval at least
//! eight slots long, so that lead is small.
//!
//! # Decoder buffers
//!
//! A stream's next packet may leave only if a receiver can hold it (the
//! T-STD of ISO/IEC 13818-1 §2.4.2, modelled in `buffer`): a unit starts
//! no earlier than [`MAX_LEAD_MS`] before its DTS, so no byte waits in a
//! receiver more than 1 s; and audio (always) and video (with
//! `video_buffer_bytes`) send only what fits their buffer beside the bytes
//! sent and not yet decoded. A unit that is early waits here instead.
//!
//! # Interleaving
//!
//! Audio goes first whenever its buffers take its next packet: they hold
//! only about three frames, so a frame may start only a few tens of ms
//! before its decoding time, and video that is late (an encoder that fell
//! behind) must not take that window; the buffers cap audio at its own
//! rate, so video loses little. Otherwise a packet's deadline is its
//! unit's DTS plus one slot time for every packet of that unit already
//! sent, and the earliest deadline goes first. Units thus go roughly in
//! DTS order, but a large I-frame ages as it is sent. Ties go to KLV, then
//! video.
//!
//! # Backlog
//!
//! If an encoder overshoots the mux rate, payload piles up. When more than
//! `max_backlog_ms` of it (at the mux rate) could leave and waits, the
//! muxer drops the oldest whole units not yet started (never half a PES)
//! and counts them. Units held back by their lead are not backlog.

mod av1;
mod buffer;
mod config;
mod counters;
mod finish;
mod push;
mod queue;
mod tables;
#[cfg(test)]
mod tests;

pub use buffer::{AUDIO_BUFFER_BYTES, MAX_LEAD_MS};
pub use config::*;
pub use counters::{MuxCounters, StreamCounters};

use makara_media::{Pcr27M, VideoCodec, PCR_HZ};

use crate::packet::{AdaptationRepr, TsHeaderRepr, NULL_PID, PACKET_LEN, PAT_PID};
use crate::psi::{PatProgram, PatRepr};
use crate::sdt::SDT_PID;
use queue::{BufferPool, Stream};
use tables::{emit_null, pmt_repr, sdt_repr, Table};

/// How many slots before its interval ends a PAT, PMT or PCR becomes due.
pub const LEAD_SLOTS: u64 = 3;
const SLOT_BITS: u64 = PACKET_LEN as u64 * 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Video = 0,
    Audio = 1,
    Klv = 2,
}

/// Ties in deadline go to the smaller units.
const SEND_ORDER: [Kind; 3] = [Kind::Audio, Kind::Klv, Kind::Video];
/// Ties in age lose the bigger units first.
const DROP_ORDER: [Kind; 3] = [Kind::Video, Kind::Klv, Kind::Audio];

/// A sans-IO MPEG-TS muxer. See the module documentation.
#[derive(Debug)]
pub struct Muxer {
    config: ValidMuxConfig,
    /// Departure of slot 0, in 27 MHz ticks.
    start: u64,
    next_slot: u64,
    /// One slot, rounded up to a whole tick.
    slot_ticks: u64,
    pcr_interval: u64,
    psi_interval: u64,
    /// The most a unit's first packet leaves before its decoding time.
    lead: u64,
    /// How much longer than the decoder the buffer model keeps bytes.
    margin: u64,
    pat: Table,
    pmt: Table,
    /// Whether the PMT may go out: an AV1 program's waits for its first
    /// sequence header, which fills its descriptor.
    pmt_ready: bool,
    pmt_version: u8,
    /// The video stream's ES_info descriptors (AV1's), as in the PMT.
    video_es_info: Vec<u8>,
    /// Reused for AV1 temporal units in the start-code based format.
    av1_scratch: Vec<u8>,
    sdt: Table,
    last_pcr: Option<u64>,
    streams: [Option<Stream>; 3],
    pcr_kind: Kind,
    pool: BufferPool,
    queued: usize,
    klv_sequence: u8,
    counters: MuxCounters,
}

impl Muxer {
    /// A muxer whose slot 0 leaves at `start`.
    pub fn new(config: ValidMuxConfig, start: Pcr27M) -> Muxer {
        let c = *config.get();
        let pcr_kind = if c.video.is_some() {
            Kind::Video
        } else {
            Kind::Audio
        };
        let pid_of = |kind| match kind {
            Kind::Video => c.video.map(|v| v.0),
            Kind::Audio => c.audio.map(|a| a.0),
            Kind::Klv => c.klv_pid,
        };
        let pat = PatRepr {
            transport_stream_id: c.transport_stream_id,
            version: 0,
            programs: vec![PatProgram {
                program_number: c.program_number,
                pid: c.pmt_pid,
            }],
        };
        let pmt = pmt_repr(&c, pid_of(pcr_kind).unwrap_or(NULL_PID), 0, &[]);
        let sdt = sdt_repr(&c);
        let buffer_limit = |kind| match kind {
            Kind::Video => c.video_buffer_bytes.map(|b| b as usize),
            Kind::Audio => Some(AUDIO_BUFFER_BYTES),
            Kind::Klv => None,
        };
        let slot_ticks = (SLOT_BITS * PCR_HZ).div_ceil(c.mux_rate_bps);
        let pcr_interval = ValidMuxConfig::ticks(c.pcr_interval_ms);
        Muxer {
            config,
            start: start.0,
            next_slot: 0,
            slot_ticks,
            pcr_interval,
            psi_interval: ValidMuxConfig::ticks(c.psi_interval_ms),
            lead: ValidMuxConfig::ticks(MAX_LEAD_MS),
            // Two slots of rounding; on a variable-rate stream, the PCR
            // interval an interpolated arrival may be early by.
            margin: 2 * slot_ticks + if c.variable_rate { pcr_interval } else { 0 },
            pat: Table::new(PAT_PID, pat.buffer_len(), |b| pat.emit(b), c.restart),
            pmt: Table::new(c.pmt_pid, pmt.buffer_len(), |b| pmt.emit(b), c.restart),
            pmt_ready: c.video.is_none_or(|(_, codec)| codec != VideoCodec::Av1),
            pmt_version: 0,
            video_es_info: Vec::new(),
            av1_scratch: Vec::new(),
            sdt: Table::new(SDT_PID, sdt.buffer_len(), |b| sdt.emit(b), c.restart),
            last_pcr: None,
            streams: [Kind::Video, Kind::Audio, Kind::Klv].map(|k| {
                pid_of(k).map(|pid| Stream::new(pid, c.restart, buffer_limit(k), k == Kind::Audio))
            }),
            pcr_kind,
            pool: BufferPool::default(),
            queued: 0,
            klv_sequence: 0,
            counters: MuxCounters::default(),
        }
    }

    /// The PID of a stream kind, if the program has it.
    fn pid_of(&self, kind: Kind) -> Option<u16> {
        let c = self.config.get();
        match kind {
            Kind::Video => c.video.map(|v| v.0),
            Kind::Audio => c.audio.map(|a| a.0),
            Kind::Klv => c.klv_pid,
        }
    }

    pub fn config(&self) -> &MuxConfig {
        self.config.get()
    }

    /// Fills every slot that leaves at or before `until`, appending
    /// (departure, packet) pairs to `out`. Allocates nothing itself; `out`
    /// grows only if the caller did not reserve room.
    pub fn fill_until(&mut self, until: Pcr27M, out: &mut Vec<(Pcr27M, [u8; PACKET_LEN])>) {
        loop {
            let now = self.slot_time(self.next_slot);
            if now > until.0 {
                return;
            }
            let mut packet = [0u8; PACKET_LEN];
            if self.fill_slot(now, &mut packet) {
                out.push((Pcr27M(now), packet));
                self.counters.packets += 1;
            }
            self.next_slot += 1;
        }
    }

    const SDT_INTERVAL: u64 = SDT_INTERVAL_MS as u64 * (PCR_HZ / 1000);

    /// When the next slot leaves: the earliest `until` that yields a packet.
    pub fn next_departure(&self) -> Pcr27M {
        Pcr27M(self.slot_time(self.next_slot))
    }

    /// Payload bytes (PES headers included) queued and not yet sent. If it
    /// keeps growing, the encoders produce more than the mux rate carries.
    pub fn queued_bytes(&self) -> usize {
        self.queued
    }

    pub fn counters(&self) -> MuxCounters {
        self.counters
    }

    fn slot_time(&self, slot: u64) -> u64 {
        let offset = u128::from(slot) * u128::from(SLOT_BITS * PCR_HZ)
            / u128::from(self.config.get().mux_rate_bps);
        self.start + offset as u64
    }

    /// Whether something last sent at `last` must go within the lead.
    fn due(&self, last: Option<u64>, interval: u64, now: u64) -> bool {
        last.is_none_or(|last| now + LEAD_SLOTS * self.slot_ticks >= last + interval)
    }

    /// Fills one slot; `false` when it stays empty (variable rate, nothing
    /// to send).
    fn fill_slot(&mut self, now: u64, packet: &mut [u8; PACKET_LEN]) -> bool {
        if self.due(self.pat.last, self.psi_interval, now) {
            self.pat.emit(now, packet);
            self.counters.pat_packets += 1;
        } else if self.pmt_ready && self.due(self.pmt.last, self.psi_interval, now) {
            self.pmt.emit(now, packet);
            self.counters.pmt_packets += 1;
        } else if self.due(self.last_pcr, self.pcr_interval, now) {
            self.emit_stream(self.pcr_kind, now, true, packet);
        } else if self.due(self.sdt.last, Self::SDT_INTERVAL, now) {
            self.sdt.emit(now, packet);
            self.counters.sdt_packets += 1;
        } else if let Some(kind) = self.earliest_stream(now) {
            self.emit_stream(kind, now, false, packet);
        } else if self.config.get().variable_rate {
            self.counters.idle_slots += 1;
            return false;
        } else {
            emit_null(packet);
            self.counters.null_packets += 1;
        }
        true
    }

    /// Of the streams whose next packet may leave at `now`: audio if it
    /// is ready, else the one whose next packet has the earliest deadline.
    ///
    /// Audio's buffer holds only about three frames, so a frame may start
    /// only a few tens of ms before its decoding time, and must be whole
    /// by then; video handed over late has an earlier deadline and would
    /// hold it past its time. Audio first costs video little: its buffer
    /// and transport buffer cap it at its own rate.
    fn earliest_stream(&mut self, now: u64) -> Option<Kind> {
        let (lead, margin) = (self.lead, self.margin);
        let end = now + self.slot_ticks;
        if let Some(audio) = self.streams[Kind::Audio as usize].as_mut() {
            if audio.ready(now, end, lead, margin) {
                return Some(Kind::Audio);
            }
        }
        SEND_ORDER
            .into_iter()
            .filter_map(|k| {
                let stream = self.streams[k as usize].as_mut()?;
                if !stream.ready(now, end, lead, margin) {
                    return None;
                }
                let pes = stream.queue.front()?;
                Some((
                    pes.deadline.saturating_add(pes.packets * self.slot_ticks),
                    k,
                ))
            })
            .min_by_key(|&(deadline, _)| deadline)
            .map(|(_, k)| k)
    }

    /// Sends the next packet of `kind`, with a PCR if one is due on it. A
    /// PCR stream packet also takes a PCR once half the interval is gone,
    /// which saves most adaptation-only packets at little cost.
    fn emit_stream(&mut self, kind: Kind, now: u64, pcr_due: bool, packet: &mut [u8; PACKET_LEN]) {
        let half_due = self
            .last_pcr
            .is_none_or(|last| now >= last + self.pcr_interval / 2);
        let pcr = (kind == self.pcr_kind && (pcr_due || half_due)).then_some(Pcr27M(now));
        let Some(stream) = self.streams[kind as usize].as_mut() else {
            // Not reached: validation gives the PCR a stream.
            self.counters.null_packets += 1;
            return emit_null(packet);
        };
        let end = now + self.slot_ticks;
        let ready = stream.ready(now, end, self.lead, self.margin);
        let emitted = if ready {
            stream.emit_next(pcr, packet)
        } else {
            None
        };
        // Adaptation-only packets fill the transport buffer too.
        stream.sent_packet(end);
        if emitted.is_none() {
            let header = TsHeaderRepr {
                pid: stream.pid,
                payload_unit_start: false,
                continuity_counter: stream.adaptation_only_cc(),
                adaptation: AdaptationRepr {
                    pcr,
                    discontinuity: stream.take_discontinuity(),
                    ..AdaptationRepr::default()
                },
            };
            header.emit(&[], packet);
            self.counters.pcr_only_packets += 1;
        }
        if pcr.is_some() {
            self.last_pcr = Some(now);
            self.counters.pcrs += 1;
        }
        let Some(sent) = emitted else { return };
        self.queued -= sent.bytes;
        let counters = self.stream_counters(kind);
        counters.packets += 1;
        if sent.first && now > sent.deadline {
            counters.late_units += 1;
        }
        if let Some(buffer) = sent.finished {
            self.pool.give(buffer);
        }
    }
}
