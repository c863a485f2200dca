//! Video units from the video track's PES packets: one access unit per
//! PES with a PTS, continued by the PES packets without one that follow
//! it (encoders that split a large picture over bounded PES packets put
//! the PTS on the first only).

use super::nal::{nal_units, ParameterSets};
use super::{VideoCodec, VideoUnit};
use crate::av1::{self, Av1Error};
use crate::demux::{PesUnit, MAX_PES_LEN};

/// What a PES packet made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Built {
    /// The parameter sets changed; comes before the unit that changed them.
    Sets(ParameterSets),
    Unit(VideoUnit),
    /// A PES without a PTS and no unit to continue: dropped.
    NoPts,
    /// A parameter set this long was ignored.
    SetTooLong(usize),
    /// An AV1 PES whose payload is not start-code based OBUs: dropped.
    Av1(Av1Error),
}

#[derive(Debug)]
pub(super) struct VideoBuilder {
    codec: VideoCodec,
    sets: ParameterSets,
    /// The unit whose end is not known yet: its PES was bounded, so the
    /// next PES may continue it.
    pending: Option<VideoUnit>,
}

impl VideoBuilder {
    pub fn new(codec: VideoCodec) -> VideoBuilder {
        VideoBuilder {
            codec,
            sets: ParameterSets::new(codec),
            pending: None,
        }
    }

    pub fn sets(&self) -> &ParameterSets {
        &self.sets
    }

    /// Takes one PES of the track. A unit whose PES was unbounded is done
    /// at once (its end was the next PES start, or the stuffing that ends
    /// it); one whose PES was bounded waits for the next PES with a PTS.
    pub fn pes(&mut self, pes: PesUnit, out: &mut Vec<Built>) {
        let bounded = pes.header.packet_length != 0;
        match pes.header.pts {
            Some(pts) => {
                self.flush(out);
                self.pending = Some(VideoUnit {
                    codec: self.codec,
                    pts,
                    dts: pes.header.dts.unwrap_or(pts),
                    key: false,
                    random_access: pes.random_access,
                    data: pes.payload,
                });
            }
            None => match self.pending.as_mut() {
                Some(unit) if unit.data.len() + pes.payload.len() <= MAX_PES_LEN => {
                    unit.data.extend_from_slice(&pes.payload);
                }
                _ => return out.push(Built::NoPts),
            },
        }
        if !bounded {
            self.flush(out);
        }
    }

    /// Finishes the pending unit: its key flag and parameter sets come
    /// from its NAL units.
    pub fn flush(&mut self, out: &mut Vec<Built>) {
        let Some(mut unit) = self.pending.take() else {
            return;
        };
        match self.codec {
            VideoCodec::H264 | VideoCodec::Hevc => self.finish_nal_unit(&mut unit, out),
            VideoCodec::Mpeg2 => unit.key = unit.has_key_picture(),
            VideoCodec::Av1 => match av1::start_code::to_low_overhead(&unit.data) {
                Ok(obus) => {
                    unit.data = obus;
                    unit.key = unit.has_key_picture();
                }
                Err(e) => return out.push(Built::Av1(e)),
            },
        }
        out.push(Built::Unit(unit));
    }

    /// An H.264 or HEVC unit's key flag and parameter sets, from its NAL
    /// units.
    fn finish_nal_unit(&mut self, unit: &mut VideoUnit, out: &mut Vec<Built>) {
        let (mut changed, mut too_long) = (false, None);
        for nal in nal_units(&unit.data) {
            let nal_type = self.codec.nal_type(nal);
            unit.key |= nal_type.is_some_and(|t| self.codec.is_key_nal_type(t));
            match self.sets.update(nal) {
                Ok(change) => changed |= change,
                Err(len) => too_long = Some(len),
            }
        }
        if let Some(len) = too_long {
            out.push(Built::SetTooLong(len));
        }
        if changed {
            out.push(Built::Sets(self.sets.clone()));
        }
    }
}

/// MPEG-2 video start codes (ISO/IEC 13818-2 Table 6-1).
const MPEG2_PICTURE: u8 = 0x00;
const MPEG2_SEQUENCE_HEADER: u8 = 0xB3;
/// picture_coding_type of an I picture.
const MPEG2_I_PICTURE: u8 = 1;

impl VideoUnit {
    /// Whether a decoder can start at this unit, judged from its data:
    /// an IDR slice (H.264) or IRAP picture (HEVC); a sequence header
    /// and an I picture (MPEG-2 video, §6.2.2, §6.3.9); a sequence header
    /// and a key frame (AV1, see [`crate::av1::frame`]).
    pub fn has_key_picture(&self) -> bool {
        match self.codec {
            VideoCodec::H264 | VideoCodec::Hevc => self.has_key_nal(),
            VideoCodec::Mpeg2 => {
                let after = |code: u8| {
                    let at = self.data.windows(4).position(|w| w == [0, 0, 1, code])?;
                    Some(&self.data[at + 4..])
                };
                // picture_header: temporal_reference (10), picture_coding_type (3).
                let coding_type = after(MPEG2_PICTURE)
                    .and_then(|p| p.get(1))
                    .map(|b| (b >> 3) & 0x07);
                after(MPEG2_SEQUENCE_HEADER).is_some() && coding_type == Some(MPEG2_I_PICTURE)
            }
            VideoCodec::Av1 => av1::frame::is_key_temporal_unit(&self.data),
        }
    }

    /// Whether it carries a recovery point SEI message (H.264 D.2.8,
    /// HEVC D.3.8): where a stream coded with intra refresh, which has no
    /// IDR after its first picture, can be joined.
    pub fn has_recovery_point(&self) -> bool {
        self.nal_units()
            .any(|nal| super::nal::has_recovery_point_sei(self.codec, nal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pes::PesHeaderRepr;
    use makara_media::Clock90k;

    fn pes(length: u16, pts: Option<u64>, payload: &[u8]) -> PesUnit {
        PesUnit {
            pid: 0x100,
            header: PesHeaderRepr {
                stream_id: 0xE0,
                packet_length: length,
                data_alignment: pts.is_some(),
                pts: pts.map(Clock90k),
                dts: None,
            },
            payload: payload.to_vec(),
            random_access: false,
        }
    }

    fn units(out: &[Built]) -> Vec<&VideoUnit> {
        out.iter()
            .filter_map(|b| match b {
                Built::Unit(u) => Some(u),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn bounded_pes_packets_without_pts_continue_the_unit() {
        let mut b = VideoBuilder::new(VideoCodec::H264);
        let mut out = Vec::new();
        b.pes(pes(100, Some(3_600), &[0, 0, 1, 0x65, 1, 2]), &mut out);
        assert!(out.is_empty(), "a bounded PES may be continued");
        b.pes(pes(100, None, &[3, 4]), &mut out);
        b.pes(pes(100, Some(7_200), &[0, 0, 1, 0x41, 9]), &mut out);
        let got = units(&out);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, [0, 0, 1, 0x65, 1, 2, 3, 4]);
        assert!(got[0].key);
        assert_eq!(got[0].dts, Clock90k(3_600), "DTS defaults to the PTS");
        b.flush(&mut out);
        assert_eq!(units(&out).len(), 2);
    }

    #[test]
    fn unbounded_units_go_at_once_and_orphans_are_refused() {
        let mut b = VideoBuilder::new(VideoCodec::H264);
        let mut out = Vec::new();
        b.pes(pes(0, None, &[1, 2]), &mut out);
        assert_eq!(out, [Built::NoPts]);
        out.clear();
        b.pes(pes(0, Some(1), &[0, 0, 1, 0x67, 0x64, 0, 0x1F]), &mut out);
        assert!(matches!(&out[..], [Built::Sets(_), Built::Unit(_)]));
        out.clear();
        b.pes(pes(0, None, &[1, 2]), &mut out);
        assert_eq!(out, [Built::NoPts], "an unbounded unit is already done");
    }
}
