//! [`EsDemuxer`]: PSI through `demux::Demuxer`, the followed video and
//! audio PIDs through their own [`Assembler`]s, and PES packets turned
//! into access units and frames.

use std::collections::{BTreeMap, VecDeque};

use makara_media::Clock90k;

use super::adts;
use super::assemble::{Assembler, Outcome};
use super::nal::ParameterSets;
use super::program::{select, AudioCodec, AudioTrack, Program, VideoTrack};
use super::video::{Built, VideoBuilder};
use super::{AudioFrame, EsEvent, Problem};
use crate::demux::{DemuxEvent, Demuxer, Layer, PesUnit};
use crate::packet::{TsPacket, PACKET_LEN, PAT_PID};

/// The most events that wait to be polled; beyond it new ones are dropped
/// (Program and ParameterSets events beyond twice as many).
pub const MAX_PENDING_EVENTS: usize = 4096;
/// The most media bytes (unit and frame data) that wait to be polled.
pub const MAX_PENDING_BYTES: usize = 64 << 20;

const WRAP_33: u64 = (1 << 33) - 1;

/// How the demuxer ends video units. The default is what any stream allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EsOptions {
    /// End an unbounded video PES at the packet whose adaptation field
    /// holds stuffing instead of at the next PES start, saving a frame
    /// period of latency. Right for muxers that stuff only the last packet
    /// of a PES (ours, ffmpeg's). With a muxer that stuffs inside a PES,
    /// the first unit that happens to is cut short, reported as
    /// [`Problem::StuffedMidPes`], and the option turns itself off for
    /// that PID.
    pub end_video_at_stuffing: bool,
}

/// What the demuxer has seen since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EsCounters {
    pub packets: u64,
    pub video_units: u64,
    pub audio_frames: u64,
    pub continuity_errors: u64,
    pub problems: u64,
    /// Events dropped because they were not polled.
    pub dropped_events: u64,
}

#[derive(Debug)]
struct VideoState {
    track: VideoTrack,
    /// `None` for a codec whose units are not delivered.
    assembler: Option<Assembler>,
    builder: VideoBuilder,
}

#[derive(Debug)]
struct AudioState {
    track: AudioTrack,
    assembler: Option<Assembler>,
}

/// The elementary stream demuxer. See the module documentation.
#[derive(Debug, Default)]
pub struct EsDemuxer {
    options: EsOptions,
    psi: Demuxer,
    /// The first program of the latest PAT: (program_number, PMT PID).
    first_program: Option<(u16, u16)>,
    program: Option<Program>,
    video: Option<VideoState>,
    audio: Option<AudioState>,
    /// Streams of the program already reported as unknown.
    unknown: Vec<(u16, u8)>,
    continuity: BTreeMap<u16, u64>,
    events: VecDeque<EsEvent>,
    pending_bytes: usize,
    dropped: u64,
    counters: EsCounters,
    outcomes: Vec<Outcome>,
    built: Vec<Built>,
}

impl EsDemuxer {
    pub fn new() -> EsDemuxer {
        EsDemuxer::default()
    }

    pub fn with_options(options: EsOptions) -> EsDemuxer {
        EsDemuxer {
            options,
            ..EsDemuxer::default()
        }
    }

    /// Takes whole 188-byte packets, one or several back to back. A tail
    /// shorter than a packet is reported malformed and dropped, so give
    /// only aligned packets (as `TsOutput` has them). Poll after each push.
    pub fn push(&mut self, bytes: &[u8]) {
        for packet in bytes.chunks(PACKET_LEN) {
            self.push_packet(packet);
        }
    }

    /// The next event, if any.
    pub fn poll(&mut self) -> Option<EsEvent> {
        match self.events.pop_front() {
            Some(event) => {
                self.pending_bytes -= media_len(&event);
                Some(event)
            }
            None if self.dropped > 0 => {
                let events = std::mem::take(&mut self.dropped);
                Some(EsEvent::Problem(Problem::EventsDropped { events }))
            }
            None => None,
        }
    }

    /// Ends the stream: the video unit in progress is complete (its end is
    /// known only now), an audio PES in progress was cut short.
    pub fn finish(&mut self) {
        self.end_video();
        if let Some(assembler) = self.audio.as_mut().and_then(|a| a.assembler.as_mut()) {
            assembler.finish(&mut self.outcomes);
            self.audio_outcomes();
        }
    }

    /// What is followed, once a PMT has said.
    pub fn program(&self) -> Option<&Program> {
        self.program.as_ref()
    }

    /// The latest parameter sets of the video followed (H.264 or HEVC).
    pub fn parameter_sets(&self) -> Option<&ParameterSets> {
        self.video
            .as_ref()
            .filter(|v| v.assembler.is_some())
            .map(|v| v.builder.sets())
    }

    pub fn counters(&self) -> EsCounters {
        self.counters
    }

    fn push_packet(&mut self, bytes: &[u8]) {
        self.counters.packets += 1;
        let packet = match TsPacket::new_checked(bytes) {
            Ok(packet) => packet,
            Err(_) => {
                let what = "not a well-formed 188-byte transport packet; dropped";
                return self.problem(Problem::Malformed { pid: None, what });
            }
        };
        let pid = packet.pid();
        if packet.transport_error() {
            let what = "transport_error_indicator set; packet dropped";
            return self.problem(Problem::Malformed {
                pid: Some(pid),
                what,
            });
        }
        if pid == PAT_PID || self.first_program.is_some_and(|(_, pmt)| pmt == pid) {
            self.psi.push(bytes);
            return self.psi_events();
        }
        if let Some(video) = self.video.as_mut().filter(|v| v.track.pid == pid) {
            if let Some(assembler) = video.assembler.as_mut() {
                assembler.push(&packet, &mut self.outcomes);
                self.video_outcomes();
            }
        } else if let Some(audio) = self.audio.as_mut().filter(|a| a.track.pid == pid) {
            if let Some(assembler) = audio.assembler.as_mut() {
                assembler.push(&packet, &mut self.outcomes);
                self.audio_outcomes();
            }
        }
    }

    fn psi_events(&mut self) {
        while let Some(event) = self.psi.poll() {
            match event {
                DemuxEvent::Pat(pat) => {
                    self.first_program = pat
                        .programs
                        .iter()
                        .find(|p| p.program_number != 0)
                        .map(|p| (p.program_number, p.pid));
                }
                DemuxEvent::Pmt { pid, pmt } => {
                    if self.first_program == Some((pmt.program_number, pid)) {
                        let (program, unknown) = select(&pmt);
                        self.apply(program, unknown);
                    }
                }
                DemuxEvent::Continuity {
                    pid,
                    expected,
                    found,
                } => self.continuity(pid, expected, found),
                DemuxEvent::Malformed { pid, layer } => {
                    let what = match layer {
                        Layer::Packet => "malformed transport packet; dropped",
                        Layer::Section => "a PSI section with a bad length or CRC was dropped",
                        Layer::Pes => "a malformed PES packet was dropped",
                    };
                    self.problem(Problem::Malformed { pid, what });
                }
                DemuxEvent::Pes(_) | DemuxEvent::Pcr { .. } => {}
            }
        }
    }

    /// Follows what a PMT names, keeping the state of a track that stays
    /// the same. A video unit in progress on a track that goes is
    /// delivered first; an audio PES in progress is dropped (it is
    /// bounded, so it was cut short).
    fn apply(&mut self, program: Program, unknown: Vec<(u16, u8)>) {
        for &(pid, stream_type) in &unknown {
            if !self.unknown.contains(&(pid, stream_type)) {
                self.problem(Problem::UnknownStream { pid, stream_type });
            }
        }
        self.unknown = unknown;
        if self.program.as_ref() == Some(&program) {
            return;
        }
        let stuffing = self.options.end_video_at_stuffing;
        if self.video.as_ref().map(|v| v.track) != program.video {
            self.end_video();
            self.video = program.video.map(|track| VideoState {
                track,
                assembler: track
                    .codec
                    .is_supported()
                    .then(|| Assembler::new(track.pid, stuffing)),
                builder: VideoBuilder::new(track.codec),
            });
        }
        if self.audio.as_ref().map(|a| a.track) != program.audio {
            self.audio = program.audio.map(|track| AudioState {
                track,
                assembler: track
                    .codec
                    .is_supported()
                    .then(|| Assembler::new(track.pid, false)),
            });
        }
        self.program = Some(program.clone());
        self.emit(EsEvent::Program(program));
    }

    fn continuity(&mut self, pid: u16, expected: u8, found: u8) {
        self.counters.continuity_errors += 1;
        let total = self.continuity.entry(pid).or_default();
        *total += 1;
        let total = *total;
        self.problem(Problem::Continuity {
            pid,
            expected,
            found,
            total,
        });
    }

    /// Handles what the video assembler produced.
    fn video_outcomes(&mut self) {
        let outcomes = std::mem::take(&mut self.outcomes);
        let Some(pid) = self.video.as_ref().map(|v| v.track.pid) else {
            return;
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Continuity { expected, found } => self.continuity(pid, expected, found),
                Outcome::Malformed => self.malformed_pes(pid),
                Outcome::StuffedMidPes => self.problem(Problem::StuffedMidPes { pid }),
                Outcome::Pes(pes) => self.video_pes(pes),
            }
        }
    }

    fn audio_outcomes(&mut self) {
        let outcomes = std::mem::take(&mut self.outcomes);
        let Some(pid) = self.audio.as_ref().map(|a| a.track.pid) else {
            return;
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Continuity { expected, found } => self.continuity(pid, expected, found),
                Outcome::Malformed => self.malformed_pes(pid),
                Outcome::StuffedMidPes => self.problem(Problem::StuffedMidPes { pid }),
                Outcome::Pes(unit) => self.audio_frames(unit),
            }
        }
    }

    fn malformed_pes(&mut self, pid: u16) {
        let what = "a PES packet with a bad header, cut short or over 8 MiB was dropped";
        self.problem(Problem::Malformed {
            pid: Some(pid),
            what,
        });
    }

    /// Ends the video unit in progress: the stream ended, or its track
    /// did (nothing more of it can follow).
    fn end_video(&mut self) {
        let Some(video) = self.video.as_mut() else {
            return;
        };
        if let Some(assembler) = video.assembler.as_mut() {
            assembler.finish(&mut self.outcomes);
            self.video_outcomes();
        }
        if let Some(video) = self.video.as_mut() {
            video.builder.flush(&mut self.built);
            self.video_built();
        }
    }

    /// One PES of the video track goes to its unit builder.
    fn video_pes(&mut self, pes: PesUnit) {
        if let Some(video) = self.video.as_mut() {
            video.builder.pes(pes, &mut self.built);
            self.video_built();
        }
    }

    /// Reports what the unit builder made.
    fn video_built(&mut self) {
        let Some(pid) = self.video.as_ref().map(|v| v.track.pid) else {
            return;
        };
        for built in std::mem::take(&mut self.built) {
            match built {
                Built::Sets(sets) => self.emit(EsEvent::ParameterSets(sets)),
                Built::Unit(unit) => {
                    self.counters.video_units += 1;
                    self.emit(EsEvent::Video(unit));
                }
                Built::NoPts => self.problem(Problem::NoPts { pid }),
                Built::SetTooLong(len) => self.problem(Problem::ParameterSetTooLong { pid, len }),
                Built::Av1(error) => self.problem(Problem::Av1 { pid, error }),
            }
        }
    }

    /// One PES of the audio track becomes its ADTS frames.
    fn audio_frames(&mut self, unit: PesUnit) {
        let pid = unit.pid;
        let Some(pts) = unit.header.pts else {
            return self.problem(Problem::NoPts { pid });
        };
        let split = adts::split(&unit.payload);
        for frame in &split.frames {
            let rate = u64::from(frame.header.config.sample_rate.max(1));
            // Rounded to the nearest tick, as ffmpeg's parser does.
            let offset = (frame.samples_before * 90_000 + rate / 2) / rate;
            self.counters.audio_frames += 1;
            self.emit(EsEvent::Audio(AudioFrame {
                codec: AudioCodec::AacAdts,
                pts: Clock90k((pts.0 + offset) & WRAP_33),
                data: frame.raw.to_vec(),
                config: frame.header.config,
            }));
        }
        if let Some((claimed, available)) = split.overrun {
            self.problem(Problem::AdtsOverrun {
                pid,
                claimed,
                available,
            });
        }
        if split.skipped > 0 {
            let bytes = split.skipped;
            self.problem(Problem::AdtsSkipped { pid, bytes });
        }
        if split.multi_block > 0 {
            let frames = split.multi_block;
            self.problem(Problem::AdtsMultiBlock { pid, frames });
        }
    }

    fn problem(&mut self, problem: Problem) {
        self.counters.problems += 1;
        self.emit(EsEvent::Problem(problem));
    }

    /// Queues an event unless the queue is full (the caller does not
    /// poll), in which case it is counted and dropped. What a consumer
    /// builds its state from (program, parameter sets) has twice the room,
    /// so a burst of frames or problems does not push it out.
    fn emit(&mut self, event: EsEvent) {
        let len = media_len(&event);
        let control = matches!(event, EsEvent::Program(_) | EsEvent::ParameterSets(_));
        let room = if control {
            2 * MAX_PENDING_EVENTS
        } else {
            MAX_PENDING_EVENTS
        };
        if self.events.len() >= room || self.pending_bytes + len > MAX_PENDING_BYTES {
            self.dropped += 1;
            self.counters.dropped_events += 1;
            return;
        }
        self.pending_bytes += len;
        self.events.push_back(event);
    }
}

/// The bytes an event holds.
fn media_len(event: &EsEvent) -> usize {
    match event {
        EsEvent::Video(unit) => unit.data.len(),
        EsEvent::Audio(frame) => frame.data.len(),
        EsEvent::ParameterSets(sets) => sets.iter().map(<[u8]>::len).sum(),
        EsEvent::Program(_) | EsEvent::Problem(_) => 0,
    }
}
