//! `makarad bench encode`: the live video path run flat out, and timed.
//!
//! The stages are a stream's (see `keeper`), on three threads:
//!
//! ```text
//! source ──▶ frame ring (pool, one consumer) ──▶ encode ──▶ TS muxer ──▶ (file)
//! test pattern drawn, or raw     converter for packed        sans-IO, CBR at the
//! frames read, into a slot       4:2:2, then the encoder     stream's mux rate
//! ```
//!
//! The settings are those of a live stream of a TESTPATTERN input through
//! a `vbr` transcoder at the same size, rate and bitrate, without audio
//! (resolved by [`Setup::from_plan`]), with the preset asked for. What
//! differs from a live stream, and why:
//!
//! - Nothing waits for the clock. The source hands over the next frame as
//!   soon as the encoder's queue has room, and the muxer runs on the
//!   stream's own timeline (each unit's capture time) instead of the wall
//!   clock. The packets are of the kind a live stream sends (constant
//!   rate, null packets and PCR included); they come out as fast as they
//!   are made.
//! - No frame is lost. A live source drops frames when the encoder falls
//!   behind; here it waits for room in the encoder's queue instead.
//! - Nothing goes to the network. The transport stream can go to a file.
//!
//! Raw input is read frame by frame, straight into frame ring slots (one
//! `read` per frame from the page cache, as FFmpeg's rawvideo demuxer does),
//! and the file starts over when more frames are asked than it holds.
//!
//! The time runs from just before the first frame is made to just after
//! the last packet is muxed (and written), so it leaves out opening the
//! encoder and the file.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use makara_capture::{Capture, Pacing, TestPattern};
use makara_config::{
    EncodingProfile, Id, InputRequest, InputType, StreamRequest, TranscoderRequest,
};
use makara_encode::{EncodeError, Preset, RawPicture, VideoEncoder, VideoSettings};
use makara_engine::StreamPlan;
use makara_framering::{Consumer, Fanout, FramePool};
use makara_media::{Clock90k, EncodedVideo, MonotonicNs, Pcr27M, PixelFormat, VideoFormat};
use makara_mpegts::mux::{MuxCounters, Muxer};
use thiserror::Error;

use crate::codecs::Codecs;
use crate::scale;
use crate::setup::Setup;

/// Frames the ring holds and the encoder may have queued: as a live stream.
const RING_SLOTS: usize = 6;
const ENCODER_QUEUE: usize = 2;
/// Encoded units waiting for the muxer.
const UNIT_QUEUE: usize = 256;
/// How far the muxer runs ahead per step when it drains at the end.
const DRAIN_STEP_27M: u64 = 27_000_000 / 100;
/// Room in each file write.
const OUTPUT_BUFFER: usize = 1 << 20;

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
    /// First frame to last packet.
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
    #[error("raw input {path}: {source}")]
    Raw { path: PathBuf, source: io::Error },
    #[error(
        "raw input {path} holds {len} bytes, which is not a whole number of \
         {width}x{height} {format} frames of {frame_len} bytes; check --width, --height \
         and --pixfmt"
    )]
    RawSize {
        path: PathBuf,
        len: u64,
        width: u32,
        height: u32,
        format: &'static str,
        frame_len: usize,
    },
    #[error("video encoder: {0}")]
    Encoder(#[from] EncodeError),
    #[error("output {path}: {source}")]
    Output { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Stage(String),
}

/// Runs `bench` with the encoders of `codecs` and says how fast it went.
pub fn bench_encode(codecs: &Codecs, bench: &EncodeBench) -> Result<EncodeBenchReport, BenchError> {
    if bench.frames == 0 {
        return Err(BenchError::NoFrames);
    }
    let mut setup = live_setup(bench)?;
    setup.video.preset = bench.preset;
    setup.pattern.pacing = Pacing::AsFastAsPossible;
    let pattern_format = setup
        .pattern
        .video_format()
        .map_err(|e| BenchError::Settings(e.to_string()))?;
    let (frames, source_format) = match &bench.source {
        BenchSource::TestPattern => {
            let pattern = TestPattern::start(setup.pattern, MonotonicNs(0))
                .map_err(|e| BenchError::Settings(e.to_string()))?;
            (Frames::Pattern(pattern), pattern_format)
        }
        BenchSource::Raw { path, layout } => {
            let format = VideoFormat {
                pixel_format: layout.pixel_format(),
                ..pattern_format
            };
            (Frames::Raw(RawFile::open(path, format)?), format)
        }
    };
    let encoder = (codecs.video)(&setup.video)?;
    let output = match &bench.output {
        Some(path) => Some((
            BufWriter::with_capacity(
                OUTPUT_BUFFER,
                File::create(path).map_err(|source| BenchError::Output {
                    path: path.clone(),
                    source,
                })?,
            ),
            path.clone(),
        )),
        None => None,
    };
    let mux = Muxer::new(
        crate::keeper::mux_config(&setup).map_err(BenchError::Settings)?,
        Pcr27M(0),
    );
    let fanout = Fanout::new(FramePool::new(source_format, RING_SLOTS));
    let consumer = fanout
        .subscribe("encoder", ENCODER_QUEUE)
        .map_err(|e| BenchError::Settings(e.to_string()))?;
    let delay_90k = u64::from(setup.delay_ms) * 90;
    // One credit per frame in the encoder's queue: the source waits for
    // one instead of letting the ring drop the oldest frame.
    let (credit_tx, credit_rx) = sync_channel::<()>(ENCODER_QUEUE);
    let (units_tx, units_rx) = sync_channel::<EncodedVideo>(UNIT_QUEUE);

    let source = SourceStage {
        frames,
        fanout,
        count: bench.frames,
        credits: credit_tx,
    };
    let encode = EncodeStage {
        frames: consumer,
        credits: credit_rx,
        encoder,
        settings: setup.video,
        delay_90k,
        units: units_tx,
    };
    let muxer = MuxStage {
        mux,
        units: units_rx,
        delay_27m: delay_90k * 300,
        output,
    };
    let started = Instant::now();
    let (source, encode, muxer) = thread::scope(|scope| {
        let source = spawn(scope, "bench source", move || source.run());
        let encode = spawn(scope, "bench encode", move || encode.run());
        let muxer = spawn(scope, "bench mux", move || muxer.run());
        (join(source), join(encode), join(muxer))
    });
    // A failing stage ends the others without an error of their own, so
    // at most one error comes back: the cause.
    let (produced, ring_dropped) = source?;
    let (encoded, video_bytes, counters) = encode?;
    let (ended, mux) = muxer?;
    if produced != bench.frames {
        return Err(BenchError::Stage(format!(
            "the source delivered {produced} of {} frames",
            bench.frames
        )));
    }
    Ok(EncodeBenchReport {
        frames: produced,
        encoded,
        wall: ended.duration_since(started),
        bytes_copied: counters,
        picture_len: setup.video.input.frame_len(),
        ring_dropped,
        video_bytes,
        nominal_fps: bench.fps,
        mux,
    })
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

fn spawn<'scope, T: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    name: &str,
    work: impl FnOnce() -> Result<T, BenchError> + Send + 'scope,
) -> Result<thread::ScopedJoinHandle<'scope, Result<T, BenchError>>, BenchError> {
    thread::Builder::new()
        .name(name.into())
        .spawn_scoped(scope, work)
        .map_err(|e| BenchError::Stage(format!("a bench thread could not start: {e}")))
}

fn join<T>(
    handle: Result<thread::ScopedJoinHandle<'_, Result<T, BenchError>>, BenchError>,
) -> Result<T, BenchError> {
    handle?
        .join()
        .unwrap_or_else(|_| Err(BenchError::Stage("a bench thread panicked".into())))
}

fn pixel_format_name(format: PixelFormat) -> &'static str {
    match format {
        PixelFormat::I420 => "i420",
        PixelFormat::Nv12 => "nv12",
        PixelFormat::Yuyv => "yuyv",
        PixelFormat::Uyvy => "uyvy",
    }
}

/// A raw file read one frame at a time, from the start again at its end.
struct RawFile {
    file: File,
    path: PathBuf,
    frames_in_file: u64,
    next: u64,
}

impl RawFile {
    fn open(path: &PathBuf, format: VideoFormat) -> Result<RawFile, BenchError> {
        let raw = |source| BenchError::Raw {
            path: path.clone(),
            source,
        };
        let file = File::open(path).map_err(raw)?;
        let len = file.metadata().map_err(raw)?.len();
        let frame_len = format.frame_len();
        if len == 0 || len % frame_len as u64 != 0 {
            return Err(BenchError::RawSize {
                path: path.clone(),
                len,
                width: format.width,
                height: format.height,
                format: pixel_format_name(format.pixel_format),
                frame_len,
            });
        }
        Ok(RawFile {
            file,
            path: path.clone(),
            frames_in_file: len / frame_len as u64,
            next: 0,
        })
    }

    fn read_frame(&mut self, out: &mut [u8]) -> Result<(), BenchError> {
        let raw = |source| BenchError::Raw {
            path: self.path.clone(),
            source,
        };
        if self.next == self.frames_in_file {
            self.file.seek(SeekFrom::Start(0)).map_err(raw)?;
            self.next = 0;
        }
        self.file.read_exact(out).map_err(raw)?;
        self.next += 1;
        Ok(())
    }
}

enum Frames {
    Pattern(TestPattern),
    Raw(RawFile),
}

/// Draws or reads each frame into a ring slot and publishes it.
struct SourceStage {
    frames: Frames,
    fanout: Fanout,
    count: u64,
    credits: SyncSender<()>,
}

impl SourceStage {
    /// Frames published, and frames the ring dropped.
    fn run(mut self) -> Result<(u64, u64), BenchError> {
        let format = self.fanout.pool().format();
        for index in 0..self.count {
            if self.credits.send(()).is_err() {
                // The encoder is gone; its error says why.
                return Ok((index, 0));
            }
            let mut slot = loop {
                // The credits keep a slot free; this only spins if a slot
                // is on its way back to the pool.
                match self.fanout.pool().try_acquire() {
                    Some(slot) => break slot,
                    None => thread::yield_now(),
                }
            };
            let pts = match &mut self.frames {
                Frames::Pattern(pattern) => {
                    pattern
                        .next_frame(slot.data_mut())
                        .map_err(|e| BenchError::Stage(e.to_string()))?
                        .pts
                }
                Frames::Raw(file) => {
                    file.read_frame(slot.data_mut())?;
                    frame_time(index, format)
                }
            };
            self.fanout.publish(slot.freeze(pts, index));
        }
        let dropped = self
            .fanout
            .counters()
            .consumers
            .iter()
            .map(|c| c.dropped)
            .sum();
        Ok((self.count, dropped))
        // Dropping the fanout closes the encoder's queue once it is drained.
    }
}

/// Frame `index`'s time on the stream's timeline, exactly.
fn frame_time(index: u64, format: VideoFormat) -> MonotonicNs {
    let ns =
        u128::from(index) * 1_000_000_000 * u128::from(format.fps_den) / u128::from(format.fps_num);
    MonotonicNs(ns as u64)
}

/// Takes frames from the ring, converts when needed (the one counted
/// copy), encodes, and flushes the encoder at the end.
struct EncodeStage {
    frames: Consumer,
    credits: Receiver<()>,
    encoder: Box<dyn VideoEncoder>,
    settings: VideoSettings,
    delay_90k: u64,
    units: SyncSender<EncodedVideo>,
}

impl EncodeStage {
    /// Access units out, their bytes, and the bytes copied.
    fn run(mut self) -> Result<(u64, u64, u64), BenchError> {
        let wanted = self.settings.input;
        let mut converted = Vec::new();
        let (mut units, mut bytes) = (0, 0);
        loop {
            let frame = match self.frames.recv(Duration::from_secs(1)) {
                Ok(Some(frame)) => frame,
                Ok(None) => continue,
                Err(_) => break,
            };
            // Room for one more frame in the queue.
            let _ = self.credits.try_recv();
            let format = frame.format();
            let data: &[u8] = if (format.width, format.height, format.pixel_format)
                == (wanted.width, wanted.height, wanted.pixel_format)
            {
                &frame
            } else {
                converted.resize(wanted.frame_len(), 0);
                scale::to_i420(&frame, &format, &mut converted, &wanted);
                self.frames.count_copy(converted.len());
                &converted
            };
            let pts = Clock90k(frame.pts().to_90k(MonotonicNs(0)).0 + self.delay_90k);
            self.encoder.send_picture(Some(RawPicture {
                format: wanted,
                data,
                pts,
                force_keyframe: false,
            }))?;
            drop(frame);
            if !self.forward(&mut units, &mut bytes)? {
                return Ok((units, bytes, self.frames.counters().bytes_copied));
            }
        }
        self.encoder.send_picture(None)?;
        self.forward(&mut units, &mut bytes)?;
        Ok((units, bytes, self.frames.counters().bytes_copied))
    }

    /// Hands every ready unit to the muxer; false if it is gone.
    fn forward(&mut self, units: &mut u64, bytes: &mut u64) -> Result<bool, BenchError> {
        while let Some(unit) = self.encoder.receive()? {
            *units += 1;
            *bytes += unit.data.len() as u64;
            if self.units.send(unit).is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Muxes each unit as it comes, on the stream's timeline; drains at the end.
struct MuxStage {
    mux: Muxer,
    units: Receiver<EncodedVideo>,
    delay_27m: u64,
    output: Option<(BufWriter<File>, PathBuf)>,
}

impl MuxStage {
    /// When the last packet was out, and the muxer's counters.
    fn run(mut self) -> Result<(Instant, MuxCounters), BenchError> {
        let mut packets = Vec::with_capacity(4096);
        while let Ok(unit) = self.units.recv() {
            self.mux.push_video(&unit);
            // What a live sender does when the frame's units arrive: send
            // what is due by the frame's capture time.
            let captured = unit.dts.to_pcr().0.saturating_sub(self.delay_27m);
            self.mux.fill_until(Pcr27M(captured), &mut packets);
            self.write(&mut packets)?;
        }
        while self.mux.queued_bytes() > 0 {
            let until = self.mux.next_departure().0 + DRAIN_STEP_27M;
            self.mux.fill_until(Pcr27M(until), &mut packets);
            self.write(&mut packets)?;
        }
        if let Some((file, path)) = &mut self.output {
            file.flush().map_err(|source| BenchError::Output {
                path: path.clone(),
                source,
            })?;
        }
        Ok((Instant::now(), self.mux.counters()))
    }

    fn write(&mut self, packets: &mut Vec<(Pcr27M, [u8; 188])>) -> Result<(), BenchError> {
        if let Some((file, path)) = &mut self.output {
            for (_, packet) in packets.iter() {
                file.write_all(packet)
                    .map_err(|source| BenchError::Output {
                        path: path.clone(),
                        source,
                    })?;
            }
        }
        packets.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use makara_encode::AudioEncoder;
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
        }
    }

    fn temp_path(name: &str) -> PathBuf {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        std::env::temp_dir().join(format!(
            "makara-bench-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
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
        let out = temp_path("pattern.ts");
        let report = bench_encode(
            &codecs(),
            &bench(BenchSource::TestPattern, Some(out.clone())),
        )
        .unwrap();
        let ts = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
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
        let raw = temp_path("yuyv.raw");
        // Ten frames for thirty: the file is read three times over.
        std::fs::write(&raw, vec![0x80; format.frame_len() * 10]).unwrap();
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
        let _ = std::fs::remove_file(&raw);
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
        let missing = BenchSource::Raw {
            path: temp_path("missing.raw"),
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
