//! `makarad bench encode`: a stream's own stages, run flat out, and timed.
//!
//! The bench opens the stages of a stream (see `keeper`) and runs them on
//! the same three threads, with the same queues and the same copy counting:
//!
//! ```text
//! source ──▶ frame ring (source's pool) ──▶ encode ──▶ sender: TS muxer ──▶ sink
//! test pattern, or raw    encoder queue of 2     converter for      CBR at the stream's   file or
//! frames read, into       frames                 packed 4:2:2,      mux rate              nothing
//! the source's slots                             then the encoder
//! ```
//!
//! The settings are those of a live stream of a TESTPATTERN input through
//! a `vbr` transcoder at the same size, rate and bitrate, without audio
//! (resolved by [`Setup::from_plan`]), with the preset asked for. Three
//! things differ from a live stream, each a setting of the stages:
//!
//! - The pace ([`Pace::AsFastAsEncoded`]): the source hands over the next
//!   frame as soon as the encoder's queue has room, so no frame is lost,
//!   and the muxer runs on the stream's own timeline (each frame's capture
//!   time) instead of the wall clock. The packets are those a live stream
//!   sends (constant rate, null packets and PCR included); they come out as
//!   fast as they are made.
//! - The sink: a file, or nothing, instead of the network.
//! - The source may be a raw file ([`makara_capture::RawFile`]) instead of
//!   the test pattern, and the run ends after the frames asked for.
//!
//! The time runs from just before the stages start to just after the last
//! packet is written, so it leaves out opening the encoder and the file.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use makara_capture::{Pacing, RawFileError};
use makara_config::{
    EncodingProfile, Id, InputRequest, InputType, StreamRequest, TranscoderRequest,
};
use makara_encode::{EncodeError, Preset};
use makara_engine::StreamPlan;
use makara_media::PixelFormat;
use makara_mpegts::mux::MuxCounters;
use thiserror::Error;

use crate::codecs::Codecs;
use crate::keeper::{run_once, StageError, Stages};
use crate::setup::{Pace, Setup, Sink, Source};
use crate::shared::Shared;
use crate::sink::PacketSink;

/// Where the bench's frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenchSource {
    /// The TESTPATTERN source, drawn into each slot as fast as asked.
    TestPattern,
    /// Tightly packed raw frames of the bench's size.
    Raw { path: PathBuf, layout: RawLayout },
}

/// The layouts raw input may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawLayout {
    /// Planar 4:2:0 (FFmpeg's yuv420p): the encoder reads it from the ring.
    I420,
    /// Packed 4:2:2, Y0 U Y1 V (FFmpeg's yuyv422): converted to I420, one copy.
    Yuyv,
    /// Packed 4:2:2, U Y0 V Y1 (FFmpeg's uyvy422): converted to I420, one copy.
    Uyvy,
}

impl RawLayout {
    fn pixel_format(self) -> PixelFormat {
        match self {
            RawLayout::I420 => PixelFormat::I420,
            RawLayout::Yuyv => PixelFormat::Yuyv,
            RawLayout::Uyvy => PixelFormat::Uyvy,
        }
    }
}

/// One `bench encode` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeBench {
    pub width: u32,
    pub height: u32,
    /// Whole frames per second: the stream's nominal rate, not a pace.
    pub fps: u32,
    /// Frames through the whole path.
    pub frames: u64,
    pub preset: Preset,
    pub bitrate_kbps: u32,
    pub source: BenchSource,
    /// Where the transport stream goes, if anywhere.
    pub output: Option<PathBuf>,
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeBenchReport {
    /// Frames that went through the frame ring.
    pub frames: u64,
    /// Access units out of the encoder.
    pub encoded: u64,
    /// Stages started to last packet out.
    pub wall: Duration,
    /// Bytes copied between the ring and the encoder (the converter's output).
    pub bytes_copied: u64,
    /// One encoder input picture, in bytes.
    pub picture_len: usize,
    /// Frames the ring lost (0 unless something is wrong: the source waits).
    pub ring_dropped: u64,
    /// Encoded video bytes.
    pub video_bytes: u64,
    /// The nominal frame rate, for the bitrate.
    pub nominal_fps: u32,
    /// The muxer's counters: packets, and any unit dropped or late.
    pub mux: MuxCounters,
}

impl EncodeBenchReport {
    /// Frames per second through the whole path.
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Copies of a picture made per frame between the ring and the encoder:
    /// 0 when the encoder reads the ring's buffers, 1 with a conversion.
    pub fn copies_per_frame(&self) -> f64 {
        if self.frames == 0 || self.picture_len == 0 {
            return 0.0;
        }
        self.bytes_copied as f64 / self.frames as f64 / self.picture_len as f64
    }

    /// The encoded video's average bitrate at the nominal frame rate.
    pub fn video_kbps(&self) -> f64 {
        if self.frames == 0 {
            return 0.0;
        }
        let seconds = self.frames as f64 / f64::from(self.nominal_fps.max(1));
        self.video_bytes as f64 * 8.0 / 1000.0 / seconds
    }
}

#[derive(Debug, Error)]
pub enum BenchError {
    #[error("{0}")]
    Settings(String),
    #[error("--frames must be at least 1")]
    NoFrames,
    #[error(transparent)]
    Raw(#[from] RawFileError),
    #[error("video encoder: {0}")]
    Encoder(EncodeError),
    #[error("{0}")]
    Stage(String),
}

impl From<StageError> for BenchError {
    fn from(e: StageError) -> BenchError {
        match e {
            StageError::RawFile(e) => BenchError::Raw(e),
            StageError::Video(e) => BenchError::Encoder(e),
            other => BenchError::Stage(other.to_string()),
        }
    }
}

/// Runs `bench` with the encoders of `codecs` and says how fast it went.
pub fn bench_encode(codecs: &Codecs, bench: &EncodeBench) -> Result<EncodeBenchReport, BenchError> {
    if bench.frames == 0 {
        return Err(BenchError::NoFrames);
    }
    let setup = bench_setup(bench)?;
    let stages = Stages::open(&setup, codecs)?;
    let mut sink = PacketSink::open(&setup).map_err(StageError::from)?;
    let shared = Arc::new(Shared::new());
    let started = Instant::now();
    run_once(&setup, stages, &mut sink, &shared).map_err(BenchError::Stage)?;
    let wall = started.elapsed();
    let frames = shared.frames_captured.load(Ordering::Relaxed);
    if frames != bench.frames {
        return Err(BenchError::Stage(format!(
            "the source delivered {frames} of {} frames",
            bench.frames
        )));
    }
    Ok(EncodeBenchReport {
        frames,
        encoded: shared.frames_encoded.load(Ordering::Relaxed),
        wall,
        bytes_copied: shared.bytes_copied.load(Ordering::Relaxed),
        picture_len: setup.video.input.frame_len(),
        ring_dropped: shared.frames_dropped.load(Ordering::Relaxed),
        video_bytes: shared.video_bytes.load(Ordering::Relaxed),
        nominal_fps: bench.fps,
        mux: shared.mux(),
    })
}

/// A live stream's setup with the bench's pace, source, sink and preset.
fn bench_setup(bench: &EncodeBench) -> Result<Setup, BenchError> {
    let mut setup = live_setup(bench)?;
    setup.video.preset = bench.preset;
    setup.pattern.pacing = Pacing::AsFastAsPossible;
    setup.pace = Pace::AsFastAsEncoded;
    setup.frame_limit = Some(bench.frames);
    setup.sink = match &bench.output {
        Some(path) => Sink::File(path.clone()),
        None => Sink::Null,
    };
    if let BenchSource::Raw { path, layout } = &bench.source {
        setup.source = Source::RawFile {
            path: path.clone(),
            pixel_format: layout.pixel_format(),
        };
    }
    Ok(setup)
}

/// The settings a live stream would run with: a TESTPATTERN input of the
/// bench's size and rate, through a `vbr` transcoder at its bitrate, with a
/// 2 s GOP and no audio. The plan names one output, which is never opened.
fn live_setup(bench: &EncodeBench) -> Result<Setup, BenchError> {
    let invalid = |e: makara_config::Invalid| BenchError::Settings(e.to_string());
    let input = InputRequest {
        name: Some("bench".into()),
        stream_type: Some(InputType::TestPattern),
        width: Some(i64::from(bench.width)),
        height: Some(i64::from(bench.height)),
        frame_rate: Some(i64::from(bench.fps)),
        ..InputRequest::default()
    }
    .validate()
    .map_err(invalid)?;
    let transcoder = TranscoderRequest {
        name: Some("bench".into()),
        width: Some(i64::from(bench.width)),
        height: Some(i64::from(bench.height)),
        frame_rate: Some(i64::from(bench.fps)),
        video_bitrate_kbps: Some(i64::from(bench.bitrate_kbps)),
        gop_size: Some(0),
        audio: Some(false),
        encoding_profile: Some(EncodingProfile::Vbr),
        ..TranscoderRequest::default()
    }
    .validate()
    .map_err(invalid)?;
    let stream = StreamRequest {
        name: Some("bench".into()),
        input: Some(Id::new_random()),
        transcoder: Some(Id::new_random()),
        outputs: vec![Id::new_random()],
        ..StreamRequest::default()
    }
    .validate()
    .map_err(invalid)?;
    let plan = StreamPlan {
        id: Id::new_random(),
        stream,
        input,
        transcoder: Some(transcoder),
        outputs: Vec::new(),
        passthru: None,
    };
    Setup::from_plan(&plan).map_err(|e| BenchError::Settings(e.to_string()))
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use makara_encode::{AudioEncoder, RawPicture, VideoEncoder, VideoSettings};
    use makara_media::{EncodedVideo, VideoFormat};
    use makara_mpegts::demux::{DemuxEvent, Demuxer};

    use super::*;

    /// One small access unit per picture, its frame number inside; checks
    /// that every picture is a whole I420 frame of the settings' size.
    struct StandIn {
        settings: VideoSettings,
        count: u32,
        out: Option<EncodedVideo>,
    }

    impl VideoEncoder for StandIn {
        fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
            if let Some(p) = picture {
                assert_eq!(p.format, self.settings.input);
                assert_eq!(p.format.pixel_format, PixelFormat::I420);
                assert_eq!(p.data.len(), p.format.frame_len());
                let mut data = vec![0, 0, 0, 1, 0x09, 0xF0];
                data.extend_from_slice(&self.count.to_be_bytes());
                data.resize(2000, 0xAB);
                self.out = Some(EncodedVideo {
                    data,
                    pts: p.pts,
                    dts: p.pts,
                    keyframe: self.count.is_multiple_of(self.settings.gop_frames),
                });
                self.count += 1;
            }
            Ok(())
        }

        fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
            Ok(self.out.take())
        }

        fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
            Ok(Vec::new())
        }
    }

    fn codecs() -> Codecs {
        Codecs {
            video: Box::new(|s| {
                Ok(Box::new(StandIn {
                    settings: *s,
                    count: 0,
                    out: None,
                }))
            }),
            audio: Box::new(|_| -> Result<Box<dyn AudioEncoder>, EncodeError> {
                Err(EncodeError::Open("the bench has no audio".into()))
            }),
            devices: std::sync::Arc::new(makara_capture::NoCaptureDevices),
            network: None,
        }
    }

    fn bench(source: BenchSource, output: Option<PathBuf>) -> EncodeBench {
        EncodeBench {
            width: 320,
            height: 180,
            fps: 30,
            frames: 30,
            preset: Preset::Ultrafast,
            bitrate_kbps: 1000,
            source,
            output,
        }
    }

    /// Video PES packets in a transport stream, checked for continuity.
    fn video_units(ts: &[u8]) -> usize {
        let mut demux = Demuxer::new();
        let mut units = 0;
        let mut count = |demux: &mut Demuxer| {
            while let Some(event) = demux.poll() {
                match event {
                    DemuxEvent::Pes(p) if p.pid == 0x100 => units += 1,
                    DemuxEvent::Continuity { pid, .. } => panic!("continuity error on {pid:#x}"),
                    DemuxEvent::Malformed { pid, layer } => {
                        panic!("malformed {layer:?} on {pid:?}")
                    }
                    _ => {}
                }
            }
        };
        for packet in ts.chunks_exact(188) {
            demux.push(packet);
            count(&mut demux);
        }
        demux.finish();
        count(&mut demux);
        units
    }

    #[test]
    fn the_test_pattern_goes_through_without_a_copy() {
        let dir = TestDir::new("bench");
        let out = dir.join("pattern.ts");
        let report = bench_encode(
            &codecs(),
            &bench(BenchSource::TestPattern, Some(out.clone())),
        )
        .unwrap();
        let ts = std::fs::read(&out).unwrap();
        assert_eq!((report.frames, report.encoded), (30, 30));
        assert!(report.fps() > 0.0, "{report:?}");
        assert_eq!(report.copies_per_frame(), 0.0);
        assert_eq!(report.ring_dropped, 0);
        assert_eq!(report.video_bytes, 30 * 2000);
        assert_eq!(report.mux.video.dropped_units, 0);
        assert_eq!(ts.len() as u64, report.mux.packets * 188);
        assert_eq!(video_units(&ts), 30);
    }

    #[test]
    fn packed_raw_frames_cost_one_copy_each_and_the_file_loops() {
        let format = VideoFormat::new(320, 180, PixelFormat::Yuyv, 30, 1).unwrap();
        let dir = TestDir::new("bench");
        // Ten frames for thirty: the file is read three times over.
        let raw = dir.write("yuyv.raw", vec![0x80; format.frame_len() * 10]);
        let source = BenchSource::Raw {
            path: raw.clone(),
            layout: RawLayout::Yuyv,
        };
        let report = bench_encode(&codecs(), &bench(source, None));
        let i420 = BenchSource::Raw {
            path: raw.clone(),
            layout: RawLayout::I420,
        };
        // 10 YUYV frames are 13.33 I420 frames: not a whole number.
        let mismatch = bench_encode(&codecs(), &bench(i420, None));
        let report = report.unwrap();
        assert_eq!((report.frames, report.encoded), (30, 30));
        assert!(report.fps() > 0.0);
        assert_eq!(report.copies_per_frame(), 1.0);
        assert_eq!(report.bytes_copied, 30 * 320 * 180 * 3 / 2);
        let e = mismatch.unwrap_err().to_string();
        assert!(
            e.contains("not a whole number") && e.contains("--pixfmt"),
            "{e}"
        );
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        let mut zero = bench(BenchSource::TestPattern, None);
        zero.frames = 0;
        assert!(matches!(
            bench_encode(&codecs(), &zero),
            Err(BenchError::NoFrames)
        ));
        let mut low = bench(BenchSource::TestPattern, None);
        low.bitrate_kbps = 10;
        let e = bench_encode(&codecs(), &low).unwrap_err().to_string();
        assert!(e.contains("videoBitrate"), "{e}");
        let dir = TestDir::new("bench");
        let missing = BenchSource::Raw {
            path: dir.join("missing.raw"),
            layout: RawLayout::I420,
        };
        let e = bench_encode(&codecs(), &bench(missing, None))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("raw input ") && e.contains("missing.raw"),
            "{e}"
        );
    }
}
