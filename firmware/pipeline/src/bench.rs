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
//!
//! [`bench_transcode`] runs a transport-stream file through the stages of
//! a transcoded network input: the keeper opens the input through the
//! network factory as for a stream, and that factory is the file opener
//! given (`makara_ffdecode::open_ts_file`: the network input's demuxer,
//! access-unit splitter, decoder and scaler, fed from the file, in a pace
//! where the decoder waits for room). From the ring on it is the same run
//! as [`bench_encode`]'s; the time starts once the first picture is decoded
//! and the encoder is open.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use makara_capture::{LiveCapture, Pacing, RawFileError};
use makara_config::{
    EncodingProfile, Id, InputConfig, InputRequest, InputType, StreamRequest, TranscoderConfig,
    TranscoderRequest, VideoType,
};
use makara_encode::{EncodeError, Preset};
use makara_engine::StreamPlan;
use makara_media::{MonotonicNs, PixelFormat, VideoFormat};
use makara_mpegts::mux::MuxCounters;
use thiserror::Error;

use crate::codecs::{Codecs, NetworkOpen};
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
    /// The transcoder's videoType: which encoder runs.
    pub codec: VideoType,
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
    run_timed(&setup, stages, bench.frames, bench.fps)
}

/// Runs the stages opened for `setup` until the frame limit's last packet
/// is out, timed; checks that `frames` went through.
fn run_timed(
    setup: &Setup,
    stages: Stages,
    frames: u64,
    nominal_fps: u32,
) -> Result<EncodeBenchReport, BenchError> {
    let mut sink = PacketSink::open(setup).map_err(StageError::from)?;
    let shared = Arc::new(Shared::new());
    let started = Instant::now();
    run_once(setup, stages, &mut sink, &shared).map_err(BenchError::Stage)?;
    let wall = started.elapsed();
    let delivered = shared.frames_captured.load(Ordering::Relaxed);
    if delivered != frames {
        return Err(BenchError::Stage(format!(
            "the source delivered {delivered} of {frames} frames"
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
        nominal_fps,
        mux: shared.mux(),
    })
}

/// Opens a transport-stream file as a network input's decoded capture:
/// `(path, origin, stop, waiting)` as a [`crate::NetworkFactory`] takes
/// them.
pub type TsFileOpener = Box<
    dyn Fn(
            &Path,
            MonotonicNs,
            &dyn Fn() -> bool,
            &mut dyn FnMut(&str),
        ) -> Result<Box<dyn LiveCapture>, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync,
>;

/// One `bench transcode` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscodeBench {
    /// The transport stream to transcode (its first program's video).
    pub input: PathBuf,
    /// The encoded picture: the decoded one is scaled to it if it differs.
    pub width: u32,
    pub height: u32,
    /// Frames through the whole path: at most the file's pictures.
    pub frames: u64,
    /// The transcoder's videoType: which encoder runs.
    pub codec: VideoType,
    pub preset: Preset,
    pub bitrate_kbps: u32,
    /// Where the transport stream goes, if anywhere.
    pub output: Option<PathBuf>,
}

/// Transcodes `bench.input` through a network input's stages (opened by
/// `open_file` where the input's receiver would be) and the encoders of
/// `codecs`, as fast as it goes, and says how fast it went.
pub fn bench_transcode(
    mut codecs: Codecs,
    open_file: TsFileOpener,
    bench: &TranscodeBench,
) -> Result<EncodeBenchReport, BenchError> {
    if bench.frames == 0 {
        return Err(BenchError::NoFrames);
    }
    let setup = transcode_setup(bench)?;
    let opened = Arc::new(Mutex::new(None::<VideoFormat>));
    let seen = Arc::clone(&opened);
    let path = bench.input.clone();
    codecs.network = Some(Box::new(
        move |request: NetworkOpen, stop: &dyn Fn() -> bool, waiting: &mut dyn FnMut(&str)| {
            let capture = open_file(&path, request.origin, stop, waiting)?;
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(capture.format());
            Ok(capture)
        },
    ));
    let stages = Stages::open(&setup, &codecs)?;
    let format = *opened.lock().unwrap_or_else(|e| e.into_inner());
    let fps = format.map_or(0, |f| (f.fps_num + f.fps_den / 2) / f.fps_den.max(1));
    run_timed(&setup, stages, bench.frames, fps)
}

/// A transcoded MPEG2TS input's setup with the bench's pace, sink and
/// preset. The input's URL is never opened: the bench's network factory
/// reads the file in its place.
fn transcode_setup(bench: &TranscodeBench) -> Result<Setup, BenchError> {
    let invalid = |e: makara_config::Invalid| BenchError::Settings(e.to_string());
    let input = InputRequest {
        name: Some(format!("bench {}", bench.input.display())),
        stream_type: Some(InputType::Mpeg2Ts),
        url: Some("udp://127.0.0.1:5000".into()),
        ..InputRequest::default()
    }
    .validate()
    .map_err(invalid)?;
    // The input's frame rate, and the preset through qualityLevel: a
    // network input's encoder settings are made again from the transcoder
    // once its first picture is decoded.
    let transcoder = TranscoderRequest {
        quality_level: Some(quality_level(bench.preset)),
        ..bench_transcoder(
            bench.codec,
            bench.width,
            bench.height,
            -1,
            bench.bitrate_kbps,
        )
    }
    .validate()
    .map_err(invalid)?;
    let mut setup = setup_of(input, transcoder)?;
    setup.video.preset = bench.preset;
    setup.pace = Pace::AsFastAsEncoded;
    setup.frame_limit = Some(bench.frames);
    setup.sink = match &bench.output {
        Some(path) => Sink::File(path.clone()),
        None => Sink::Null,
    };
    Ok(setup)
}

/// The qualityLevel whose preset is `preset`.
fn quality_level(preset: Preset) -> i64 {
    match preset {
        Preset::Ultrafast => 1,
        Preset::Superfast => 2,
        Preset::Veryfast => 3,
        Preset::Faster => 5,
        Preset::Fast => 7,
        Preset::Medium => 8,
        Preset::Slow => 10,
    }
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
    let transcoder = bench_transcoder(
        bench.codec,
        bench.width,
        bench.height,
        i64::from(bench.fps),
        bench.bitrate_kbps,
    )
    .validate()
    .map_err(invalid)?;
    setup_of(input, transcoder)
}

/// A transcoder at the bench's codec, size and bitrate, a 2 s GOP, no
/// audio, at each codec's default rate control: `vbr` for avc, `balanced`
/// (the same variable rate) for hevc and mpeg2video, and for av1 `cbr`,
/// the only one live AV1 has.
fn bench_transcoder(
    codec: VideoType,
    width: u32,
    height: u32,
    frame_rate: i64,
    kbps: u32,
) -> TranscoderRequest {
    let encoding_profile = match codec {
        VideoType::Avc => EncodingProfile::Vbr,
        VideoType::Hevc | VideoType::Mpeg2Video => EncodingProfile::Balanced,
        VideoType::Av1 => EncodingProfile::Cbr,
    };
    TranscoderRequest {
        video_type: Some(codec),
        name: Some("bench".into()),
        width: Some(i64::from(width)),
        height: Some(i64::from(height)),
        frame_rate: Some(frame_rate),
        video_bitrate_kbps: Some(i64::from(kbps)),
        gop_size: Some(0),
        audio: Some(false),
        encoding_profile: Some(encoding_profile),
        ..TranscoderRequest::default()
    }
}

/// A live stream's setup for `input` through `transcoder`. The plan names
/// one output, which is never opened.
fn setup_of(input: InputConfig, transcoder: TranscoderConfig) -> Result<Setup, BenchError> {
    let invalid = |e: makara_config::Invalid| BenchError::Settings(e.to_string());
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
            hardware: Box::new(|_| Err("the bench has no hardware".into())),
            devices: std::sync::Arc::new(makara_capture::NoCaptureDevices),
            network: None,
        }
    }

    fn bench(source: BenchSource, output: Option<PathBuf>) -> EncodeBench {
        EncodeBench {
            codec: VideoType::Avc,
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

    /// A stand-in for the file opener: raw 25 fps frames of 320x180 from
    /// `raw`, whatever path it is given; counts its calls.
    fn raw_opener(raw: PathBuf, calls: Arc<std::sync::atomic::AtomicU32>) -> TsFileOpener {
        Box::new(move |path, origin, _stop, _waiting| {
            assert!(path.ends_with("in.ts"), "{path:?}");
            calls.fetch_add(1, Ordering::Relaxed);
            let format = VideoFormat::new(320, 180, PixelFormat::I420, 25, 1)?;
            Ok(Box::new(makara_capture::RawFile::open(
                &raw, format, origin,
            )?))
        })
    }

    #[test]
    fn a_transcode_opens_the_file_as_its_network_input_and_scales_to_the_asked_size() {
        let dir = TestDir::new("bench");
        let raw = dir.write("frames.raw", vec![0x80; 320 * 180 * 3 / 2 * 10]);
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let out = dir.join("out.ts");
        let bench = TranscodeBench {
            codec: VideoType::Avc,
            input: dir.join("in.ts"),
            width: 160,
            height: 90,
            frames: 25,
            preset: Preset::Ultrafast,
            bitrate_kbps: 1000,
            output: Some(out.clone()),
        };
        let mut codecs = codecs();
        // The encoder must get the asked size at the input's rate.
        codecs.video = Box::new(|s| {
            assert_eq!((s.input.width, s.input.height), (160, 90));
            assert_eq!((s.input.fps_num, s.input.fps_den), (25, 1));
            assert_eq!(s.preset, Preset::Ultrafast);
            Ok(Box::new(StandIn {
                settings: *s,
                count: 0,
                out: None,
            }))
        });
        let opener = raw_opener(raw, Arc::clone(&calls));
        let report = bench_transcode(codecs, opener, &bench).unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert_eq!((report.frames, report.encoded), (25, 25));
        assert_eq!(report.copies_per_frame(), 1.0);
        assert_eq!(report.ring_dropped, 0);
        // 25 units of 2000 bytes in 1 s of the input's 25 fps.
        assert_eq!(report.nominal_fps, 25);
        assert_eq!(report.video_kbps(), 400.0);
        assert_eq!(video_units(&std::fs::read(&out).unwrap()), 25);
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
