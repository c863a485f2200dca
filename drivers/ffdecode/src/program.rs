//! Following one program of a transport stream: the first program the PAT
//! lists, its video, sound and KLV PIDs from its PMT, and their PES
//! packets turned into what the decoder thread takes. Sans-IO.

use ff::codec::Id;
use ffmpeg_next as ff;
use makara_mpegts::demux::{DemuxEvent, PesUnit};
use makara_mpegts::klv::{MetadataAuCellRepr, KLVA, TAG_METADATA};
use makara_mpegts::pmt::{PmtRepr, PmtStream};

use crate::access_unit::{Splitter, VideoKind};
use crate::feed::{AudioCodec, Codec, Feed, Streams};
use crate::timing::Unwrap;

/// The registration_descriptor (ISO/IEC 13818-1 §2.6.8).
const TAG_REGISTRATION: u8 = 0x05;
/// stream_type 0x06: PES packets with private data (SMPTE RP 217 KLV).
const PRIVATE_PES: u8 = 0x06;

/// What each stream_type this appliance decodes is.
fn video_kind(stream_type: u8) -> Option<(VideoKind, Id)> {
    match stream_type {
        0x1B => Some((VideoKind::H264, Id::H264)),
        0x24 => Some((VideoKind::Hevc, Id::HEVC)),
        0x02 => Some((VideoKind::Mpeg2, Id::MPEG2VIDEO)),
        0x01 => Some((VideoKind::Mpeg2, Id::MPEG1VIDEO)),
        _ => None,
    }
}

/// Video stream types this appliance recognises but does not decode.
fn other_video(stream_type: u8) -> Option<&'static str> {
    Some(match stream_type {
        0x10 => "MPEG-4 Visual",
        0x1E | 0x20 => "H.264 SVC/MVC",
        0x21 => "JPEG 2000",
        0x28..=0x2A => "HEVC layered",
        0x32 => "JPEG XS",
        0x33 => "VVC (H.266)",
        0x42 => "AVS",
        0xD1 => "Dirac",
        0xD2 => "AVS2",
        0xEA => "VC-1",
        _ => return None,
    })
}

fn audio_codec(stream_type: u8) -> Option<AudioCodec> {
    match stream_type {
        0x0F => Some(AudioCodec::Known(Codec {
            id: Id::AAC,
            params: None,
        })),
        0x03 | 0x04 => Some(AudioCodec::MpegAudio),
        _ => None,
    }
}

/// How a KLV PID carries its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KlvCarriage {
    /// stream_type 0x15: metadata Access Unit cells, with a PTS.
    Synchronous,
    /// stream_type 0x06 registered "KLVA": bare units (SMPTE RP 217).
    Asynchronous,
}

/// Whether a descriptor loop holds a descriptor `tag` carrying "KLVA".
fn has_klva(descriptors: &[u8], tag: u8) -> bool {
    let mut rest = descriptors;
    while let [t, len, body @ ..] = rest {
        let len = usize::from(*len);
        let Some(data) = body.get(..len) else { break };
        if *t == tag && data.windows(4).any(|w| w == KLVA) {
            return true;
        }
        rest = &body[len..];
    }
    false
}

fn klv_carriage(stream: &PmtStream) -> Option<KlvCarriage> {
    match stream.stream_type {
        0x15 if has_klva(&stream.es_info, TAG_METADATA) => Some(KlvCarriage::Synchronous),
        PRIVATE_PES if has_klva(&stream.es_info, TAG_REGISTRATION) => {
            Some(KlvCarriage::Asynchronous)
        }
        _ => None,
    }
}

/// The program being followed.
#[derive(Debug, Default)]
pub(crate) struct Program {
    pmt_pid: Option<u16>,
    /// The PMT last acted on: PID and version.
    pmt_seen: Option<(u16, u8)>,
    video: Option<(u16, Splitter)>,
    audio: Option<u16>,
    klv: Option<(u16, KlvCarriage)>,
    unwrap: Unwrap,
}

impl Program {
    pub(crate) fn new() -> Program {
        Program::default()
    }

    /// Whether the PMT has been seen and acted on.
    pub(crate) fn mapped(&self) -> bool {
        self.pmt_seen.is_some()
    }

    /// Acts on one demuxer event; appends what the decoders need to `out`.
    pub(crate) fn handle(&mut self, event: DemuxEvent, out: &mut Vec<Feed>) {
        match event {
            DemuxEvent::Pat(pat) => {
                let first = pat.programs.iter().find(|p| p.program_number != 0);
                let pid = first.map(|p| p.pid);
                if pid != self.pmt_pid {
                    self.pmt_pid = pid;
                    self.pmt_seen = None;
                }
            }
            DemuxEvent::Pmt { pid, pmt }
                if Some(pid) == self.pmt_pid && self.pmt_seen != Some((pid, pmt.version)) =>
            {
                self.pmt_seen = Some((pid, pmt.version));
                out.push(Feed::Streams(self.select(&pmt)));
            }
            DemuxEvent::Pes(unit) => self.pes(unit, out),
            DemuxEvent::Continuity { pid, .. } => {
                // The picture being collected lost bytes: forget it.
                if let Some((video, splitter)) = &mut self.video {
                    if *video == pid {
                        splitter.reset();
                    }
                }
            }
            _ => {}
        }
    }

    /// The input ended (a file's end): the last picture, which no next
    /// one will complete, goes to `out`.
    pub(crate) fn finish(&mut self, out: &mut Vec<Feed>) {
        if let Some((_, splitter)) = &mut self.video {
            let mut units = Vec::new();
            splitter.finish(&mut units);
            out.extend(units.into_iter().map(Feed::Video));
        }
    }

    /// Chooses the program's first decodable video, sound and KLV streams.
    fn select(&mut self, pmt: &PmtRepr) -> Streams {
        let video = pmt
            .streams
            .iter()
            .find_map(|s| video_kind(s.stream_type).map(|k| (s.pid, k)));
        let keep =
            |old: &Option<(u16, Splitter)>, pid| old.as_ref().is_some_and(|(p, _)| *p == pid);
        let video_result = match video {
            Some((pid, (kind, id))) => {
                if !keep(&self.video, pid) {
                    self.video = Some((pid, Splitter::new(kind)));
                }
                Ok(Codec { id, params: None })
            }
            None => {
                self.video = None;
                Err(no_video(pmt))
            }
        };
        let audio = pmt
            .streams
            .iter()
            .find_map(|s| audio_codec(s.stream_type).map(|c| (s.pid, c)));
        self.audio = audio.as_ref().map(|(pid, _)| *pid);
        self.klv = pmt
            .streams
            .iter()
            .find_map(|s| klv_carriage(s).map(|c| (s.pid, c)));
        Streams {
            video: video_result,
            audio: audio.map(|(_, c)| c),
            frame_rate: None,
            metadata: self.klv.is_some(),
        }
    }

    fn pes(&mut self, unit: PesUnit, out: &mut Vec<Feed>) {
        let pts = unit.header.pts.map(|t| self.unwrap.unwrap(t.0));
        let dts = unit.header.dts.map(|t| self.unwrap.unwrap(t.0));
        if let Some((pid, splitter)) = &mut self.video {
            if *pid == unit.pid {
                let mut units = Vec::new();
                splitter.push(&unit.payload, pts, dts, &mut units);
                out.extend(units.into_iter().map(Feed::Video));
                return;
            }
        }
        if self.audio == Some(unit.pid) {
            out.push(Feed::Audio {
                data: unit.payload,
                pts,
            });
            return;
        }
        match self.klv {
            Some((pid, KlvCarriage::Synchronous)) if pid == unit.pid => {
                let mut rest = &unit.payload[..];
                while let Ok((cell, data)) = MetadataAuCellRepr::parse(rest) {
                    out.push(Feed::Metadata {
                        data: data.to_vec(),
                        pts,
                    });
                    rest = &rest[MetadataAuCellRepr::HEADER_LEN + usize::from(cell.data_len)..];
                }
            }
            Some((pid, KlvCarriage::Asynchronous)) if pid == unit.pid => {
                out.push(Feed::Metadata {
                    data: unit.payload,
                    pts: None,
                });
            }
            _ => {}
        }
    }
}

/// Why a program has no video this appliance decodes, naming what it has.
fn no_video(pmt: &PmtRepr) -> String {
    if let Some(s) = pmt
        .streams
        .iter()
        .find(|s| other_video(s.stream_type).is_some())
    {
        let name = other_video(s.stream_type).unwrap_or_default();
        return format!(
            "the input's video is {name} (stream_type 0x{:02X}), which this appliance does not \
             decode (it decodes H.264, HEVC and MPEG-2 video)",
            s.stream_type
        );
    }
    let types: Vec<String> = pmt
        .streams
        .iter()
        .map(|s| format!("0x{:02X}", s.stream_type))
        .collect();
    let has = if types.is_empty() {
        "no streams".to_string()
    } else {
        format!("stream_type {}", types.join(", "))
    };
    format!(
        "the input's program {} has no video this appliance decodes (it has {has}; it decodes \
         H.264, HEVC and MPEG-2 video)",
        pmt.program_number
    )
}

#[cfg(test)]
mod tests {
    use makara_media::Clock90k;
    use makara_mpegts::pes::PesHeaderRepr;
    use makara_mpegts::psi::{PatProgram, PatRepr};

    use super::*;

    fn pat() -> DemuxEvent {
        DemuxEvent::Pat(PatRepr {
            transport_stream_id: 1,
            version: 0,
            programs: vec![PatProgram {
                program_number: 1,
                pid: 0x1000,
            }],
        })
    }

    fn pmt(version: u8, streams: &[(u8, u16, Vec<u8>)]) -> DemuxEvent {
        DemuxEvent::Pmt {
            pid: 0x1000,
            pmt: PmtRepr {
                program_number: 1,
                version,
                pcr_pid: 0x100,
                program_info: vec![],
                streams: streams
                    .iter()
                    .map(|(t, pid, es)| PmtStream {
                        stream_type: *t,
                        pid: *pid,
                        es_info: es.clone(),
                    })
                    .collect(),
            },
        }
    }

    fn pes(pid: u16, pts: Option<u64>, payload: &[u8]) -> DemuxEvent {
        DemuxEvent::Pes(PesUnit {
            pid,
            header: PesHeaderRepr {
                stream_id: 0xE0,
                packet_length: 0,
                data_alignment: false,
                pts: pts.map(Clock90k),
                dts: None,
            },
            payload: payload.to_vec(),
            random_access: false,
        })
    }

    fn run(events: Vec<DemuxEvent>) -> (Program, Vec<Feed>) {
        let mut p = Program::new();
        let mut out = Vec::new();
        for e in events {
            p.handle(e, &mut out);
        }
        (p, out)
    }

    #[test]
    fn picks_video_audio_and_klv_and_routes_their_pes() {
        let klv_es = vec![
            TAG_METADATA,
            9,
            0x01,
            0x00,
            0xFF,
            b'K',
            b'L',
            b'V',
            b'A',
            0,
            0x0F,
        ];
        let (p, out) = run(vec![
            pat(),
            pmt(
                0,
                &[
                    (0x1B, 0x100, vec![]),
                    (0x0F, 0x101, vec![]),
                    (0x15, 0x102, klv_es),
                ],
            ),
            pes(0x101, Some(900), &[0xFF, 0xF1, 1, 2]),
            pes(0x102, Some(905), &[0, 0, 0xDF, 0, 3, 7, 8, 9]),
        ]);
        assert!(p.mapped());
        let Feed::Streams(s) = &out[0] else {
            panic!("streams first")
        };
        assert_eq!(s.video.as_ref().map(|c| c.id).ok(), Some(Id::H264));
        assert!(matches!(&s.audio, Some(AudioCodec::Known(c)) if c.id == Id::AAC));
        assert!(s.metadata);
        assert!(matches!(&out[1], Feed::Audio { pts: Some(900), .. }));
        assert!(matches!(&out[2], Feed::Metadata { data, pts: Some(905) } if data == &[7, 8, 9]));
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn a_video_the_appliance_does_not_decode_is_named() {
        let (_, out) = run(vec![
            pat(),
            pmt(0, &[(0xEA, 0x100, vec![]), (0x03, 0x101, vec![])]),
        ]);
        let Feed::Streams(s) = &out[0] else {
            panic!("streams")
        };
        let why = s.video.as_ref().err().unwrap();
        assert!(why.contains("VC-1 (stream_type 0xEA)"), "{why}");
        assert!(why.contains("decodes H.264, HEVC and MPEG-2"), "{why}");
        let (_, out) = run(vec![pat(), pmt(0, &[(0x81, 0x101, vec![])])]);
        let Feed::Streams(s) = &out[0] else {
            panic!("streams")
        };
        let why = s.video.as_ref().err().unwrap();
        assert!(why.contains("program 1 has no video"), "{why}");
        assert!(why.contains("stream_type 0x81"), "{why}");
    }

    #[test]
    fn a_pmt_is_acted_on_once_per_version() {
        let streams = [(0x02, 0x100, vec![])];
        let (_, out) = run(vec![
            pat(),
            pmt(0, &streams),
            pmt(0, &streams),
            pmt(1, &[(0x24, 0x100, vec![])]),
        ]);
        let ids: Vec<Id> = out
            .iter()
            .filter_map(|f| match f {
                Feed::Streams(s) => s.video.as_ref().ok().map(|c| c.id),
                _ => None,
            })
            .collect();
        assert_eq!(ids, [Id::MPEG2VIDEO, Id::HEVC]);
    }

    #[test]
    fn video_pes_become_access_units_with_unwrapped_times() {
        let pic = |first: u8| [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, first, 0x55].to_vec();
        let wrap = 1u64 << 33;
        let (_, out) = run(vec![
            pat(),
            pmt(0, &[(0x1B, 0x100, vec![])]),
            pes(0x100, Some(wrap - 3_600), &pic(0x80)),
            pes(0x100, Some(0), &pic(0x80)),
            pes(0x100, Some(3_600), &pic(0x80)),
        ]);
        let pts: Vec<Option<i64>> = out
            .iter()
            .filter_map(|f| match f {
                Feed::Video(u) => Some(u.pts),
                _ => None,
            })
            .collect();
        assert_eq!(pts, [Some(wrap as i64 - 3_600), Some(wrap as i64)]);
    }
}
