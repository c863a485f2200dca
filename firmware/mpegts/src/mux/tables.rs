//! The packets the muxer writes besides payload: PAT, PMT and null packets.

use super::MuxConfig;
use crate::klv;
use crate::packet::{AdaptationRepr, TsHeaderRepr, BODY_LEN, NULL_PID, PACKET_LEN};
use crate::pmt::{audio_stream_type, stream_type, video_stream_type, PmtRepr, PmtStream};
use crate::sdt::{SdtRepr, PRIVATE_ORIGINAL_NETWORK_ID, SERVICE_TYPE_DIGITAL_TV};

/// The program's PMT: video (with `video_es_info`, AV1's descriptors),
/// audio, then KLV with its descriptors.
pub(super) fn pmt_repr(c: &MuxConfig, pcr_pid: u16, version: u8, video_es_info: &[u8]) -> PmtRepr {
    let stream = |stream_type, pid, es_info: &[u8]| PmtStream {
        stream_type,
        pid,
        es_info: es_info.to_vec(),
    };
    let mut streams = Vec::new();
    let mut program_info = Vec::new();
    if let Some((pid, codec)) = c.video {
        streams.push(stream(video_stream_type(codec), pid, video_es_info));
    }
    if let Some((pid, codec)) = c.audio {
        streams.push(stream(audio_stream_type(codec), pid, &[]));
    }
    if let Some(pid) = c.klv_pid {
        program_info.extend_from_slice(&klv::metadata_pointer_descriptor(c.program_number));
        let es_info = [klv::metadata_descriptor(), klv::metadata_std_descriptor()].concat();
        streams.push(stream(stream_type::METADATA_PES, pid, &es_info));
    }
    PmtRepr {
        program_number: c.program_number,
        version,
        pcr_pid,
        program_info,
        streams,
    }
}

/// The SDT: the program as a digital TV service with its two names.
pub(super) fn sdt_repr(c: &MuxConfig) -> SdtRepr {
    SdtRepr {
        transport_stream_id: c.transport_stream_id,
        original_network_id: PRIVATE_ORIGINAL_NETWORK_ID,
        version: 0,
        service_id: c.program_number,
        service_type: SERVICE_TYPE_DIGITAL_TV,
        provider_name: c.service_provider.as_bytes().to_vec(),
        service_name: c.service_name.as_bytes().to_vec(),
    }
}

/// One repeated PSI table on its own PID: a one-packet payload made once
/// (pointer_field 0, the section, 0xFF stuffing), its continuity counter,
/// and when it last went. The largest PMT the config allows (three
/// streams, the KLV descriptors and AV1's two) is 78 bytes, and the
/// largest SDT (two 64-byte names) 153, so a section always fits, with
/// room for an adaptation field.
#[derive(Debug)]
pub(super) struct Table {
    pid: u16,
    payload: [u8; BODY_LEN],
    cc: u8,
    pub last: Option<u64>,
    /// The next packet sets discontinuity_indicator: a restarted stream.
    discontinuity: bool,
}

impl Table {
    pub fn new(pid: u16, len: usize, emit: impl FnOnce(&mut [u8]), discontinuity: bool) -> Table {
        let mut payload = [0xFF; BODY_LEN];
        payload[0] = 0;
        emit(&mut payload[1..1 + len]);
        Table {
            pid,
            payload,
            cc: 0,
            last: None,
            discontinuity,
        }
    }

    /// A new section in place of the old (a new PMT version), sent at
    /// the next chance; the continuity counter goes on.
    pub fn replace(&mut self, len: usize, emit: impl FnOnce(&mut [u8])) {
        self.payload = [0xFF; BODY_LEN];
        self.payload[0] = 0;
        emit(&mut self.payload[1..1 + len]);
        self.last = None;
    }

    pub fn emit(&mut self, now: u64, packet: &mut [u8; PACKET_LEN]) {
        let header = TsHeaderRepr {
            pid: self.pid,
            payload_unit_start: true,
            continuity_counter: self.cc,
            adaptation: AdaptationRepr {
                discontinuity: std::mem::take(&mut self.discontinuity),
                ..AdaptationRepr::default()
            },
        };
        // Only stuffing is cut when an adaptation field takes room.
        header.emit(&self.payload[..header.payload_capacity()], packet);
        self.cc = (self.cc + 1) & 0x0F;
        self.last = Some(now);
    }
}

pub(super) fn emit_null(packet: &mut [u8; PACKET_LEN]) {
    let header = TsHeaderRepr {
        pid: NULL_PID,
        payload_unit_start: false,
        continuity_counter: 0,
        adaptation: AdaptationRepr::default(),
    };
    header.emit(&[0xFF; BODY_LEN], packet);
}
