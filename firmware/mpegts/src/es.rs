//! Elementary streams out of a transport stream: whole video access units
//! and AAC frames with their timestamps, for outputs that repackage them
//! (RTMP's FLV tags, RTSP's RTP payloads).
//!
//! [`EsDemuxer`] is sans-IO like the rest of the crate: push 188-byte
//! packets, poll [`EsEvent`]s. It follows the first program of the PAT
//! and in it one video and one audio stream (see [`Program`]):
//!
//! - [`EsEvent::Program`] when the PMT first names them, and whenever a
//!   later PMT (or PAT) changes which streams, PIDs or codecs they are.
//!   H.264, HEVC, MPEG-2 video, AV1 (stream_type 0x06 with the 'AV01'
//!   registration) and AAC in ADTS get units; MPEG audio, AAC in LATM,
//!   AC-3 are named so a consumer can refuse them.
//! - [`EsEvent::ParameterSets`] when the SPS, PPS (or HEVC VPS) in the
//!   stream first appear or change, before the unit that carried them;
//!   [`EsDemuxer::parameter_sets`] has the latest at any time.
//! - [`EsEvent::Video`]: one access unit per PES packet with a PTS (and
//!   the PES packets without one that continue it), with its PTS and DTS
//!   and whether it is a key frame, judged from its data
//!   ([`VideoUnit::has_key_picture`]: IDR for H.264, IRAP for HEVC, a
//!   sequence header and an I picture for MPEG-2, a sequence header and a
//!   key frame for AV1; [`VideoUnit::has_recovery_point`] for streams
//!   coded with intra refresh). H.264 and HEVC units are Annex B, MPEG-2
//!   units the elementary stream as carried, AV1 units temporal units
//!   turned back from the carriage's start-code based format into
//!   low-overhead OBUs (a temporal delimiter first, every OBU with its
//!   obu_size), as `ffmpeg -f obu`, libdav1d and ISOBMFF take them.
//! - [`EsEvent::Audio`]: one raw AAC frame per ADTS frame, header
//!   stripped, each with its own PTS.
//! - [`EsEvent::Problem`] for whatever it cannot follow.
//!
//! # Timestamps
//!
//! PTS and DTS are the 33-bit values of the PES headers (a missing DTS is
//! the PTS): they wrap every 26.5 hours, and a consumer that needs a
//! growing clock unwraps them. An audio frame's PTS is its PES's plus the
//! duration of the frames before it in that PES (to the nearest tick),
//! also wrapped to 33 bits.
//!
//! # Latency
//!
//! Video PES packets in a transport stream are usually unbounded
//! (PES_packet_length 0, as our muxer writes them), so the end of one is
//! known only when the next begins: a unit is delivered one frame period
//! after its last byte arrived, and the last one only at
//! [`EsDemuxer::finish`]. [`EsOptions::end_video_at_stuffing`] ends a
//! unit as soon as the packet that stuffs its tail arrives, which is right
//! for streams whose muxer stuffs only at the end of a PES (ours,
//! ffmpeg's); a unit that happens to fill its last packet exactly still
//! waits for the next. If the stream turns out to stuff inside a PES, the
//! one unit cut short is reported ([`Problem::StuffedMidPes`]) and the
//! option is off for that PID from then on.
//!
//! A video unit in a bounded PES packet waits for the next PES packet
//! with a PTS, since PES packets without one may continue it. Audio PES
//! packets are bounded and their frames go at once.
//!
//! # Limits
//!
//! Memory is bounded: a PES is at most [`crate::demux::MAX_PES_LEN`], and
//! at most [`MAX_PENDING_EVENTS`] events or [`MAX_PENDING_BYTES`] of
//! media wait to be polled (beyond that, events are dropped and
//! [`Problem::EventsDropped`] says how many; [`EsEvent::Program`] and
//! [`EsEvent::ParameterSets`] have twice the room, and
//! [`EsDemuxer::program`] and [`EsDemuxer::parameter_sets`] always have
//! the latest). No input makes it panic.

mod adts;
mod assemble;
mod demuxer;
pub(crate) mod nal;
pub(crate) mod program;
#[cfg(test)]
mod tests;
mod video;

use makara_media::Clock90k;

pub use adts::{audio_specific_config, AacConfig, AdtsHeader, ADTS_CRC_LEN, ADTS_HEADER_LEN};
pub use demuxer::{EsCounters, EsDemuxer, EsOptions, MAX_PENDING_BYTES, MAX_PENDING_EVENTS};
pub(crate) use nal::unescape as unescape_rbsp;
pub use nal::MAX_PARAMETER_SET_LEN;
pub use nal::{h264, hevc, nal_units, NalUnits, ParameterSetKind, ParameterSets};
pub use program::{AudioCodec, AudioTrack, Program, VideoCodec, VideoTrack};

/// Something the demuxer found. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EsEvent {
    Program(Program),
    ParameterSets(ParameterSets),
    Video(VideoUnit),
    Audio(AudioFrame),
    Problem(Problem),
}

/// One video access unit: the payload of a PES packet with a PTS, and of
/// any PES packets without one that followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoUnit {
    pub codec: VideoCodec,
    pub pts: Clock90k,
    /// The PES's DTS, or its PTS when it has none.
    pub dts: Clock90k,
    /// A decoder can start here: see [`VideoUnit::has_key_picture`].
    pub key: bool,
    /// The random_access_indicator of its first transport packet, which
    /// muxers set on key frames; `key` does not depend on it.
    pub random_access: bool,
    /// H.264, HEVC: Annex B, NAL units behind start codes, as the PES
    /// carried them. MPEG-2 video: the elementary stream as carried. AV1:
    /// a temporal unit of low-overhead OBUs.
    pub data: Vec<u8>,
}

impl VideoUnit {
    /// Its NAL units, without start codes.
    pub fn nal_units(&self) -> NalUnits<'_> {
        nal_units(&self.data)
    }

    /// The nal_unit_type of each of its NAL units, in order.
    pub fn nal_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.nal_units()
            .filter_map(move |nal| self.codec.nal_type(nal))
    }

    /// Whether any of its NAL units starts a picture a decoder can
    /// begin with.
    pub fn has_key_nal(&self) -> bool {
        self.nal_types().any(|t| self.codec.is_key_nal_type(t))
    }

    /// PTS − DTS in 90 kHz ticks (the composition offset FLV wants), on
    /// the 33-bit clock, so a PTS that wrapped before its DTS still gives
    /// the small positive offset.
    pub fn composition_offset(&self) -> u64 {
        self.pts.wire().wrapping_sub(self.dts.wire()) & ((1 << 33) - 1)
    }
}

/// One AAC frame (one raw_data_block) without its ADTS header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    pub codec: AudioCodec,
    pub pts: Clock90k,
    /// The raw_data_block: what FLV's AAC raw packets and RFC 3640's
    /// access units carry.
    pub data: Vec<u8>,
    /// What its ADTS header said.
    pub config: AacConfig,
}

impl AudioFrame {
    /// Samples per channel: always 1024 for the frames delivered.
    pub const SAMPLES: u32 = adts::SAMPLES_PER_BLOCK;

    /// Its duration in 90 kHz ticks, rounded down.
    pub fn duration_90k(&self) -> u64 {
        u64::from(Self::SAMPLES) * 90_000 / u64::from(self.config.sample_rate.max(1))
    }
}

/// What the demuxer could not follow. The messages name the PID and say
/// what was wrong with it; an output adds its own name when it reports one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("PID {pid:#06x}: stream_type {stream_type:#04x} is not a codec this demuxer knows; the stream is ignored")]
    UnknownStream { pid: u16, stream_type: u8 },
    #[error("PID {pid:#06x}: continuity error (expected counter {expected}, found {found}): packets were lost, {total} times on this PID so far; the unit in progress was dropped")]
    Continuity {
        pid: u16,
        expected: u8,
        found: u8,
        /// Continuity errors on this PID since the demuxer started.
        total: u64,
    },
    #[error("{}: {what}", pid_text(.pid))]
    Malformed {
        pid: Option<u16>,
        what: &'static str,
    },
    #[error("PID {pid:#06x}: a PES packet without a PTS, and no unit before it to continue, was dropped")]
    NoPts { pid: u16 },
    #[error("PID {pid:#06x}: {bytes} bytes of a PES packet were not ADTS frames and were skipped")]
    AdtsSkipped { pid: u16, bytes: usize },
    #[error("PID {pid:#06x}: an ADTS header claims a {claimed}-byte frame with only {available} bytes left in its PES packet; the frame was dropped")]
    AdtsOverrun {
        pid: u16,
        claimed: usize,
        available: usize,
    },
    #[error("PID {pid:#06x}: {frames} ADTS frames of several raw data blocks were dropped (not supported)")]
    AdtsMultiBlock { pid: u16, frames: usize },
    #[error("PID {pid:#06x}: a {len}-byte parameter set is longer than {MAX_PARAMETER_SET_LEN} bytes and was ignored")]
    ParameterSetTooLong { pid: u16, len: usize },
    #[error("PID {pid:#06x}: this stream's muxer stuffs packets inside a PES, so a unit ended at stuffing was cut short; units now end at the next PES start")]
    StuffedMidPes { pid: u16 },
    #[error("PID {pid:#06x}: an AV1 PES packet was dropped: {error}")]
    Av1 {
        pid: u16,
        error: crate::av1::Av1Error,
    },
    #[error("{events} events were dropped because they were not polled fast enough")]
    EventsDropped { events: u64 },
}

fn pid_text(pid: &Option<u16>) -> String {
    match pid {
        Some(pid) => format!("PID {pid:#06x}"),
        None => "transport packet".to_owned(),
    }
}
