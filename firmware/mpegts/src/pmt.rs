//! The program map table (ISO/IEC 13818-1 §2.4.4.8), the stream_type
//! values the muxer writes, and a reader for descriptor loops.

use makara_media::{AudioCodec, VideoCodec};

use crate::psi::{emit_section, read_pid, write_pid, PsiSection, TABLE_ID_PMT};
use crate::psi::{read_len12 as read_len, write_len12 as write_len};
use crate::psi::{CRC_LEN, HEADER_LEN};
use crate::{Error, Result};

/// stream_type values (Table 2-34) of the streams the muxer carries.
pub mod stream_type {
    /// PES packets of private data: AV1 (with its registration
    /// descriptor, per AOM's "Carriage of AV1 in MPEG-2 TS").
    pub const PRIVATE_PES: u8 = 0x06;
    /// ISO/IEC 13818-2 (MPEG-2) video.
    pub const MPEG2_VIDEO: u8 = 0x02;
    /// ISO/IEC 11172-3 (MPEG-1) audio; here Layer II.
    pub const MPEG1_AUDIO: u8 = 0x03;
    /// ISO/IEC 13818-7 AAC in ADTS frames.
    pub const AAC_ADTS: u8 = 0x0F;
    /// Metadata carried in PES packets (§2.12.4).
    pub const METADATA_PES: u8 = 0x15;
    /// H.264 / AVC.
    pub const H264: u8 = 0x1B;
    /// H.265 / HEVC.
    pub const HEVC: u8 = 0x24;
}

pub fn video_stream_type(codec: VideoCodec) -> u8 {
    match codec {
        VideoCodec::H264 => stream_type::H264,
        VideoCodec::Hevc => stream_type::HEVC,
        VideoCodec::Mpeg2 => stream_type::MPEG2_VIDEO,
        VideoCodec::Av1 => stream_type::PRIVATE_PES,
    }
}

pub fn audio_stream_type(codec: AudioCodec) -> u8 {
    match codec {
        AudioCodec::AacAdts => stream_type::AAC_ADTS,
        AudioCodec::Mp2 => stream_type::MPEG1_AUDIO,
    }
}

mod field {
    pub type Field = core::ops::Range<usize>;

    /// Offsets into the PMT body (after the section header).
    /// 3 reserved bits, then PCR_PID.
    pub const PCR_PID: Field = 0..2;
    /// 4 reserved bits, then the 12-bit program_info_length.
    pub const PROGRAM_INFO_LENGTH: Field = 2..4;
    pub const PROGRAM_INFO: usize = 4;

    /// Offsets into one elementary stream entry.
    pub const STREAM_TYPE: usize = 0;
    pub const ELEMENTARY_PID: Field = 1..3;
    pub const ES_INFO_LENGTH: Field = 3..5;
    pub const ES_INFO: usize = 5;
}

/// One elementary stream of a program: its type, PID and descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtStream {
    pub stream_type: u8,
    pub pid: u16,
    /// The ES_info descriptor loop, as raw bytes.
    pub es_info: Vec<u8>,
}

/// The map of one program, in one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtRepr {
    pub program_number: u16,
    pub version: u8,
    pub pcr_pid: u16,
    /// The program_info descriptor loop, as raw bytes.
    pub program_info: Vec<u8>,
    pub streams: Vec<PmtStream>,
}

impl PmtRepr {
    pub fn parse<T: AsRef<[u8]>>(section: &PsiSection<T>) -> Result<PmtRepr> {
        let body = section.body();
        if section.table_id() != TABLE_ID_PMT || body.len() < field::PROGRAM_INFO {
            return Err(Error);
        }
        let info_end = field::PROGRAM_INFO + read_len(&body[field::PROGRAM_INFO_LENGTH]);
        let program_info = body.get(field::PROGRAM_INFO..info_end).ok_or(Error)?;
        let mut rest = &body[info_end..];
        let mut streams = Vec::new();
        while !rest.is_empty() {
            let header = rest.get(..field::ES_INFO).ok_or(Error)?;
            let end = field::ES_INFO + read_len(&header[field::ES_INFO_LENGTH]);
            let es_info = rest.get(field::ES_INFO..end).ok_or(Error)?;
            streams.push(PmtStream {
                stream_type: header[field::STREAM_TYPE],
                pid: read_pid(&header[field::ELEMENTARY_PID]),
                es_info: es_info.to_vec(),
            });
            rest = &rest[end..];
        }
        Ok(PmtRepr {
            program_number: section.table_id_extension(),
            version: section.version(),
            pcr_pid: read_pid(&body[field::PCR_PID]),
            program_info: program_info.to_vec(),
            streams,
        })
    }

    /// The whole section, header and CRC included.
    pub fn buffer_len(&self) -> usize {
        let streams: usize = self
            .streams
            .iter()
            .map(|s| field::ES_INFO + s.es_info.len())
            .sum();
        HEADER_LEN + field::PROGRAM_INFO + self.program_info.len() + streams + CRC_LEN
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        let body = &mut buffer[HEADER_LEN..];
        write_pid(&mut body[field::PCR_PID], self.pcr_pid);
        write_len(
            &mut body[field::PROGRAM_INFO_LENGTH],
            self.program_info.len(),
        );
        let mut at = field::PROGRAM_INFO;
        body[at..at + self.program_info.len()].copy_from_slice(&self.program_info);
        at += self.program_info.len();
        for stream in &self.streams {
            let entry = &mut body[at..at + field::ES_INFO + stream.es_info.len()];
            entry[field::STREAM_TYPE] = stream.stream_type;
            write_pid(&mut entry[field::ELEMENTARY_PID], stream.pid);
            write_len(&mut entry[field::ES_INFO_LENGTH], stream.es_info.len());
            entry[field::ES_INFO..].copy_from_slice(&stream.es_info);
            at += entry.len();
        }
        emit_section(buffer, TABLE_ID_PMT, self.program_number, self.version);
    }
}

/// The descriptors of a descriptor loop, as (tag, body) pairs. Stops at
/// the first descriptor that runs past the end of the loop.
pub fn descriptors(mut bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    core::iter::from_fn(move || {
        let (&tag, rest) = bytes.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let body = rest.get(..usize::from(len))?;
        bytes = &rest[usize::from(len)..];
        Some((tag, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PMT of program 1 with H.264 on PID 0x100 (also the PCR PID) and
    /// AAC/ADTS on 0x101, no descriptors, assembled from Table 2-33 by hand:
    /// 02: table_id | B0 17: syntax 1, '0', '11', section_length 23 (5
    /// header bytes + 4 PCR/info + 5 per stream + 4 CRC) | 00 01: program
    /// 1 | C1: version 0, current | 00 00: section 0 of 0 | E1 00: '111',
    /// PCR_PID 0x100 | F0 00: '1111', program_info_length 0 |
    /// 1B E1 00 F0 00: H.264, PID 0x100, no ES info | 0F E1 01 F0 00: AAC,
    /// PID 0x101 | 2F 44 B9 9B: CRC-32/MPEG-2 of the preceding 22 bytes,
    /// computed bit by bit by a separate script. ffmpeg 5.1 writes the same
    /// section for an H.264 + AAC file with its default PIDs.
    const GOLDEN_PMT: [u8; 26] = [
        0x02, 0xB0, 0x17, 0x00, 0x01, 0xC1, 0x00, 0x00, 0xE1, 0x00, 0xF0, 0x00, 0x1B, 0xE1, 0x00,
        0xF0, 0x00, 0x0F, 0xE1, 0x01, 0xF0, 0x00, 0x2F, 0x44, 0xB9, 0x9B,
    ];

    fn golden_repr() -> PmtRepr {
        let stream = |stream_type, pid| PmtStream {
            stream_type,
            pid,
            es_info: Vec::new(),
        };
        PmtRepr {
            program_number: 1,
            version: 0,
            pcr_pid: 0x100,
            program_info: Vec::new(),
            streams: vec![
                stream(video_stream_type(VideoCodec::H264), 0x100),
                stream(audio_stream_type(AudioCodec::AacAdts), 0x101),
            ],
        }
    }

    #[test]
    fn golden_pmt_emits_and_parses() {
        let repr = golden_repr();
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buffer);
        assert_eq!(buffer, GOLDEN_PMT);
        let section = PsiSection::new_checked(&GOLDEN_PMT[..]).unwrap();
        assert_eq!(PmtRepr::parse(&section).unwrap(), repr);
    }

    #[test]
    fn descriptors_round_trip() {
        let mut repr = golden_repr();
        repr.program_info = vec![0x05, 0x04, b'K', b'L', b'V', b'A'];
        repr.streams[1].es_info = vec![0x0A, 0x04, b'e', b'n', b'g', 0x00, 0x52, 0x01, 0x07];
        repr.version = 31;
        let mut buffer = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buffer);
        let section = PsiSection::new_checked(&buffer[..]).unwrap();
        let parsed = PmtRepr::parse(&section).unwrap();
        assert_eq!(parsed, repr);
        let tags: Vec<u8> = descriptors(&parsed.streams[1].es_info)
            .map(|d| d.0)
            .collect();
        assert_eq!(tags, [0x0A, 0x52]);
    }

    #[test]
    fn descriptor_reader_stops_at_truncation() {
        let loop_bytes = [0x05, 0x04, b'K', b'L', b'V', b'A', 0x26, 0x09, 0x01];
        let found: Vec<_> = descriptors(&loop_bytes).collect();
        assert_eq!(found, [(0x05, &b"KLVA"[..])]);
    }
}
