//! The input side of the muxer: units become PES packets in pooled
//! buffers, and the backlog is kept under its limit.

use makara_media::{Clock90k, EncodedAudio, EncodedVideo, VideoCodec};

use super::queue::Pes;
use super::{Kind, Muxer, StreamCounters, DROP_ORDER};
use crate::klv::{MetadataAuCellRepr, CELL_COMPLETE, METADATA_SERVICE_ID};
use crate::pes::{stream_id, PesHeaderRepr};
use crate::tstd::{VideoBuffers, VideoLevel};

impl Muxer {
    /// Queues one access unit. Its PES packet is unbounded (length 0), as
    /// video may be, and starts with random_access_indicator if it is a
    /// keyframe. H.264, HEVC and MPEG-2 video go as they are, on
    /// stream_id 0xE0; AV1 temporal units as its carriage wants them (see
    /// `mux::av1`).
    pub fn push_video(&mut self, au: &EncodedVideo) {
        if au.keyframe {
            self.pace_video(&au.data);
        }
        if self.video_codec() == Some(VideoCodec::Av1) {
            return self.push_av1(au);
        }
        let header = PesHeaderRepr {
            stream_id: stream_id::VIDEO,
            packet_length: 0,
            data_alignment: true,
            pts: Some(au.pts),
            dts: Some(au.dts),
        };
        let marks = Marks::random_access(au.keyframe);
        self.enqueue(Kind::Video, header, &[], &au.data, au.dts, marks);
    }

    /// Paces video to Rbx of the level its parameter sets or sequence
    /// header signal (see [`crate::tstd::buffers`]), if they are in this
    /// unit and the level is one the tables know.
    fn pace_video(&mut self, data: &[u8]) {
        let Some(codec) = self.video_codec().map(es_codec) else {
            return;
        };
        let buffers = VideoLevel::find(codec, data).and_then(|l| VideoBuffers::for_level(&l));
        if let (Some(b), Some(stream)) = (buffers, self.streams[Kind::Video as usize].as_mut()) {
            stream.pace(b.rbx_bps);
        }
    }

    pub(super) fn video_codec(&self) -> Option<VideoCodec> {
        self.config.get().video.map(|(_, codec)| codec)
    }

    /// Queues whole audio frames as one bounded PES packet. Every audio PES
    /// starts with a frame header, so each is marked as a random access point.
    pub fn push_audio(&mut self, frames: &EncodedAudio) {
        let header = PesHeaderRepr {
            stream_id: stream_id::AUDIO,
            packet_length: 0,
            data_alignment: true,
            pts: Some(frames.pts),
            dts: None,
        };
        let marks = Marks::random_access(true);
        self.enqueue(Kind::Audio, header, &[], &frames.data, frames.pts, marks);
    }

    /// Queues one KLV unit (a whole local or universal set) with the PTS of
    /// the frame it describes, wrapped in a metadata AU cell (see [`crate::klv`]).
    pub fn push_klv(&mut self, data: &[u8], pts: Clock90k) {
        let cell = MetadataAuCellRepr {
            service_id: METADATA_SERVICE_ID,
            sequence_number: self.klv_sequence,
            cell_fragment_indication: CELL_COMPLETE,
            decoder_config: false,
            random_access: true,
            // Units too long for this are too long for a bounded PES packet
            // too, and enqueue refuses them.
            data_len: u16::try_from(data.len()).unwrap_or(u16::MAX),
        };
        let mut cell_header = [0u8; MetadataAuCellRepr::HEADER_LEN];
        cell.emit(&mut cell_header);
        let header = PesHeaderRepr {
            stream_id: stream_id::METADATA,
            packet_length: 0,
            data_alignment: true,
            pts: Some(pts),
            dts: None,
        };
        let marks = Marks::random_access(false);
        if self.enqueue(Kind::Klv, header, &cell_header, data, pts, marks) {
            self.klv_sequence = self.klv_sequence.wrapping_add(1);
        }
    }

    /// Builds a unit's PES packet into a pooled buffer and queues it.
    /// Video stays unbounded; other streams get their PES_packet_length.
    pub(super) fn enqueue(
        &mut self,
        kind: Kind,
        mut header: PesHeaderRepr,
        prefix: &[u8],
        data: &[u8],
        dts: Clock90k,
        marks: Marks,
    ) -> bool {
        let length = header.packet_length_for(prefix.len() + data.len());
        let bounded = kind != Kind::Video;
        if self.streams[kind as usize].is_none() || data.is_empty() || bounded && length.is_none() {
            self.counters.rejected_units += 1;
            return false;
        }
        if bounded {
            header.packet_length = length.unwrap_or(0);
        }
        let mut bytes = self.pool.take();
        bytes.resize(header.buffer_len(), 0);
        header.emit(&mut bytes);
        bytes.extend_from_slice(prefix);
        bytes.extend_from_slice(data);
        self.queued += bytes.len();
        let pes = Pes {
            bytes,
            sent: 0,
            packets: 0,
            // Saturating: an absurd DTS must not panic a debug build.
            deadline: dts.0.saturating_mul(300),
            random_access: marks.random_access,
            priority_within: marks
                .priority_within
                .map(|offset| header.buffer_len() + prefix.len() + offset),
        };
        if let Some(stream) = self.streams[kind as usize].as_mut() {
            stream.queue.push_back(pes);
        }
        self.stream_counters(kind).units += 1;
        self.enforce_backlog();
        true
    }

    /// Payload waiting that could leave now: units held back until their
    /// lead are not late, only early, so they do not count.
    fn backlog_bytes(&self) -> usize {
        let now = self.next_departure().0;
        let held: usize = self
            .streams
            .iter()
            .flatten()
            .map(|s| s.held_bytes(now, self.lead))
            .sum();
        self.queued - held
    }

    /// Drops the oldest unstarted units until the backlog fits its limit.
    fn enforce_backlog(&mut self) {
        let limit = self.config.max_backlog_bytes();
        while self.backlog_bytes() > limit {
            let oldest = DROP_ORDER
                .into_iter()
                .filter_map(|k| {
                    let (deadline, index) =
                        self.streams[k as usize].as_ref()?.oldest_droppable()?;
                    Some((deadline, k, index))
                })
                .min_by_key(|&(deadline, _, _)| deadline);
            let Some((_, kind, index)) = oldest else {
                return;
            };
            let stream = self.streams[kind as usize].as_mut();
            let Some(pes) = stream.and_then(|s| s.queue.remove(index)) else {
                return;
            };
            self.queued -= pes.bytes.len();
            let counters = self.stream_counters(kind);
            counters.dropped_units += 1;
            counters.dropped_bytes += pes.bytes.len() as u64;
            self.pool.give(pes.bytes);
        }
    }

    /// A unit the muxer cannot carry: counted, not queued.
    pub(super) fn reject(&mut self) {
        self.counters.rejected_units += 1;
    }

    pub(super) fn stream_counters(&mut self, kind: Kind) -> &mut StreamCounters {
        match kind {
            Kind::Video => &mut self.counters.video,
            Kind::Audio => &mut self.counters.audio,
            Kind::Klv => &mut self.counters.klv,
        }
    }
}

/// The demuxer's name for an encoder's codec.
fn es_codec(codec: VideoCodec) -> crate::es::VideoCodec {
    match codec {
        VideoCodec::H264 => crate::es::VideoCodec::H264,
        VideoCodec::Hevc => crate::es::VideoCodec::Hevc,
        VideoCodec::Mpeg2 => crate::es::VideoCodec::Mpeg2,
        VideoCodec::Av1 => crate::es::VideoCodec::Av1,
    }
}

/// How a unit's first transport packet is marked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Marks {
    pub random_access: bool,
    /// elementary_stream_priority_indicator, if the first packet carries
    /// the payload up to this offset (in the unit's data).
    pub priority_within: Option<usize>,
}

impl Marks {
    pub fn random_access(random_access: bool) -> Marks {
        Marks {
            random_access,
            priority_within: None,
        }
    }
}
