//! AV1 in the muxer (AOM's "Carriage of AV1 in MPEG-2 TS", see
//! [`crate::av1`]): each temporal unit the encoder hands over becomes one
//! PES on private_stream_1 (0xBD) in the start-code based format, with
//! data_alignment_indicator; a key frame's first packet has
//! random_access_indicator and, if it holds the key frame's first start
//! code, elementary_stream_priority_indicator (§3.4).
//!
//! The PMT's AV1 video descriptor is filled from the sequence header, so
//! the PMT of an AV1 program waits for the first one (the first key
//! frame: nothing before it is decodable anyway), and a sequence header
//! that changes what the descriptor says sends a new PMT version.

use makara_media::EncodedVideo;

use super::push::Marks;
use super::tables::pmt_repr;
use super::{Kind, Muxer};
use crate::av1::descriptor::es_info;
use crate::av1::obu::obu_type;
use crate::av1::sequence::SequenceHeader;
use crate::av1::start_code;
use crate::packet::NULL_PID;
use crate::pes::{stream_id, PesHeaderRepr};

impl Muxer {
    /// Queues one AV1 temporal unit; one that does not read as OBUs is
    /// counted as rejected.
    pub(super) fn push_av1(&mut self, tu: &EncodedVideo) {
        let mut payload = std::mem::take(&mut self.av1_scratch);
        payload.clear();
        if start_code::from_low_overhead(&tu.data, &mut payload).is_err() {
            self.av1_scratch = payload;
            return self.reject();
        }
        if let Some(sequence) = SequenceHeader::find(&tu.data) {
            self.describe_av1(&sequence);
        }
        let header = PesHeaderRepr {
            stream_id: stream_id::PRIVATE_STREAM_1,
            packet_length: 0,
            data_alignment: true,
            pts: Some(tu.pts),
            dts: Some(tu.dts),
        };
        let marks = Marks {
            random_access: tu.keyframe,
            priority_within: tu
                .keyframe
                .then(|| first_frame_start_code_end(&payload))
                .flatten(),
        };
        self.enqueue(Kind::Video, header, &[], &payload, tu.dts, marks);
        self.av1_scratch = payload;
    }

    /// Puts the descriptor this sequence header calls for in the PMT: the
    /// first sends the PMT at all, a change sends a new version.
    fn describe_av1(&mut self, sequence: &SequenceHeader) {
        let info = es_info(sequence);
        if self.video_es_info == info {
            return;
        }
        if self.pmt_ready {
            self.pmt_version = (self.pmt_version + 1) & 0x1F;
        }
        self.video_es_info = info;
        self.pmt_ready = true;
        let c = *self.config.get();
        let pcr_pid = self.pid_of(self.pcr_kind).unwrap_or(NULL_PID);
        let pmt = pmt_repr(&c, pcr_pid, self.pmt_version, &self.video_es_info);
        self.pmt.replace(pmt.buffer_len(), |b| pmt.emit(b));
    }
}

/// Where the first frame or frame header OBU's start code ends, in a
/// start-code based temporal unit.
fn first_frame_start_code_end(payload: &[u8]) -> Option<usize> {
    payload.windows(4).enumerate().find_map(|(at, w)| {
        let frame = matches!((w[3] >> 3) & 0x0F, obu_type::FRAME | obu_type::FRAME_HEADER);
        (w[..3] == [0, 0, 1] && frame).then_some(at + 3)
    })
}
