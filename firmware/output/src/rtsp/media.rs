//! The stream's transport packets turned into what RTSP clients get: the
//! tracks DESCRIBE tells (once the parameter sets and the audio's
//! configuration are known), and each access unit or audio frame cut into
//! RTP payloads, stamped with its PTS on one growing 90 kHz clock.

use makara_mpegts::es::{
    AudioCodec, AudioFrame, EsDemuxer, EsEvent, EsOptions, ParameterSets, Program, VideoCodec,
    VideoUnit,
};
use makara_rtsp::packetize::{self, Payload};
use makara_rtsp::{AudioFormat, Description, TrackId, VideoFormat};

use crate::datagram::TS_PACKET_LEN;

/// One unit ready to go: its track, its time, whether a decoder can
/// start at it, and its RTP payloads.
#[derive(Debug)]
pub(crate) struct Unit {
    pub track: TrackId,
    /// PTS, unwrapped: it grows past 2^33 instead of wrapping.
    pub time: u64,
    pub key: bool,
    pub payloads: Vec<Payload>,
}

/// The demuxer and what it has told so far.
#[derive(Debug)]
pub(crate) struct Media {
    output: String,
    demuxer: EsDemuxer,
    program: Option<Program>,
    sets: Option<ParameterSets>,
    audio: Option<AudioFormat>,
    description: Option<Description>,
    clock: Unwrap,
    told_unsupported: Option<Program>,
}

impl Media {
    pub fn new(output: &str) -> Media {
        Media {
            output: output.to_string(),
            // Our muxer, and ffmpeg's, stuff only a PES's last packet: a
            // unit goes a frame period sooner.
            demuxer: EsDemuxer::with_options(EsOptions {
                end_video_at_stuffing: true,
            }),
            program: None,
            sets: None,
            audio: None,
            description: None,
            clock: Unwrap::default(),
            told_unsupported: None,
        }
    }

    /// The tracks, once a client can be told them.
    pub fn description(&self) -> Option<&Description> {
        self.description.as_ref()
    }

    /// Why there is no description yet.
    pub fn unavailable(&self) -> String {
        let Some(program) = &self.program else {
            return "the stream has not started yet (no program table seen)".into();
        };
        match program.video.map(|v| v.codec) {
            Some(VideoCodec::H264 | VideoCodec::Hevc) => {
                "the stream's video has not sent its first key frame with its parameter sets yet"
                    .into()
            }
            Some(other) => crate::rtsp_refusal(Some(crate::carriage::ts_video(other)))
                .unwrap_or_else(|| format!("{other} video cannot be served over RTSP")),
            None if self.audio.is_none() => {
                "the stream has no video and its audio has not started yet".into()
            }
            None => "the stream has no video track".into(),
        }
    }

    /// Demuxes `packets`, appending the units they complete to `out`.
    pub fn push<'p>(
        &mut self,
        packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>,
        out: &mut Vec<Unit>,
    ) {
        for packet in packets {
            self.demuxer.push(packet);
        }
        while let Some(event) = self.demuxer.poll() {
            self.event(event, out);
        }
    }

    fn event(&mut self, event: EsEvent, out: &mut Vec<Unit>) {
        match event {
            EsEvent::Program(program) => {
                self.tell_unsupported(&program);
                self.program = Some(program);
                self.sets = None;
                self.audio = None;
                self.describe();
            }
            EsEvent::ParameterSets(sets) => {
                self.sets = Some(sets);
                self.describe();
            }
            EsEvent::Video(unit) => {
                if let Some(unit) = self.video(unit) {
                    out.push(unit);
                }
            }
            EsEvent::Audio(frame) => {
                let unit = self.audio(frame);
                out.push(unit);
            }
            EsEvent::Problem(problem) => {
                tracing::debug!(output = %self.output, "RTSP output's demuxer: {problem}");
            }
        }
    }

    fn video(&mut self, unit: VideoUnit) -> Option<Unit> {
        let mut payloads = Vec::new();
        match unit.codec {
            VideoCodec::H264 => packetize::h264(&unit.data, &mut payloads),
            VideoCodec::Hevc => packetize::hevc(&unit.data, &mut payloads),
            _ => return None,
        }
        Some(Unit {
            track: TrackId::Video,
            time: self.clock.extend(unit.pts.wire()),
            key: unit.key,
            payloads,
        })
    }

    fn audio(&mut self, frame: AudioFrame) -> Unit {
        let format = AudioFormat::Aac {
            sample_rate: frame.config.sample_rate,
            channels: frame.config.channel_config,
            config: frame.config.audio_specific_config().to_vec(),
        };
        if self.audio.as_ref() != Some(&format) {
            self.audio = Some(format);
            self.describe();
        }
        let mut payloads = Vec::new();
        packetize::aac(&frame.data, &mut payloads);
        Unit {
            track: TrackId::Audio,
            time: self.clock.extend(frame.pts.wire()),
            key: true,
            payloads,
        }
    }

    /// The description from what is known: every served track the program
    /// has must be known before clients are told.
    fn describe(&mut self) {
        let Some(program) = &self.program else {
            self.description = None;
            return;
        };
        let video = match program.video.map(|v| v.codec) {
            Some(VideoCodec::H264 | VideoCodec::Hevc) => {
                match self.sets.as_ref().and_then(video_format) {
                    Some(format) => Some(format),
                    None => {
                        self.description = None;
                        return;
                    }
                }
            }
            _ => None,
        };
        let wants_audio = program
            .audio
            .is_some_and(|a| a.codec == AudioCodec::AacAdts);
        if wants_audio && self.audio.is_none() {
            self.description = None;
            return;
        }
        let audio = self.audio.clone().filter(|_| wants_audio);
        self.description =
            (video.is_some() || audio.is_some()).then_some(Description { video, audio });
    }

    fn tell_unsupported(&mut self, program: &Program) {
        if self.told_unsupported.as_ref() == Some(program) {
            return;
        }
        self.told_unsupported = Some(program.clone());
        if let Some(audio) = program.audio.filter(|a| a.codec != AudioCodec::AacAdts) {
            tracing::warn!(output = %self.output,
                "the stream's audio is {}: RTSP clients get its video only (RTSP outputs serve AAC audio)",
                audio.codec);
        }
        if let Some(video) = program
            .video
            .filter(|v| !matches!(v.codec, VideoCodec::H264 | VideoCodec::Hevc))
        {
            tracing::warn!(output = %self.output,
                "the stream's video is {}: RTSP outputs serve H.264 and HEVC only", video.codec);
        }
    }
}

fn video_format(sets: &ParameterSets) -> Option<VideoFormat> {
    if !sets.is_complete() {
        return None;
    }
    let sps = sets.sps.clone()?;
    let pps = sets.pps.clone()?;
    Some(match sets.codec {
        VideoCodec::H264 => VideoFormat::H264 { sps, pps },
        VideoCodec::Hevc => VideoFormat::Hevc {
            vps: sets.vps.clone()?,
            sps,
            pps,
        },
        _ => return None,
    })
}

const WRAP: u64 = 1 << 33;

/// 33-bit timestamps extended to a clock that keeps growing: each is put
/// in the 2^33 period nearest the previous one.
#[derive(Debug, Default)]
struct Unwrap {
    last: Option<u64>,
}

impl Unwrap {
    fn extend(&mut self, wire: u64) -> u64 {
        let wire = wire & (WRAP - 1);
        let extended = match self.last {
            None => wire + WRAP, // room to step back a period
            Some(last) => {
                let base = last & !(WRAP - 1);
                [base.saturating_sub(WRAP), base, base + WRAP]
                    .into_iter()
                    .map(|b| b + wire)
                    .min_by_key(|c| c.abs_diff(last))
                    .unwrap_or(base + wire)
            }
        };
        self.last = Some(extended);
        extended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_growing_across_the_wrap() {
        let mut clock = Unwrap::default();
        let first = clock.extend(WRAP - 3000);
        let after = clock.extend(100);
        assert_eq!(after - first, 3100);
        // A slightly earlier audio timestamp stays before.
        let before = clock.extend(WRAP - 1000);
        assert_eq!(after - before, 1100);
    }
}
