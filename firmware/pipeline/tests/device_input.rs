//! A capture-device input through the whole pipeline, with a stand-in
//! device whose frames live in its own pool (as V4L2's mapped buffers do)
//! and whose signal a test can cut: the stream waits without frames and
//! comes back by itself when they return.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use makara_capture::{monotonic_now, CaptureDevices, DeviceError, LiveCapture, NoCaptureDevices};
use makara_config::{Id, InputRequest, InputType, OutputRequest, StreamRequest, TranscoderRequest};
use makara_encode::{AudioEncoder, EncodeError, RawAudio, RawPicture, VideoEncoder};
use makara_engine::{Engine, StreamPlan, StreamState};
use makara_framering::{Frame, FramePool};
use makara_media::{CapturePort, EncodedAudio, EncodedVideo, PixelFormat, VideoFormat};
use makara_pipeline::{Codecs, Pipeline};

/// A 25 fps device; frames stop while `signal` is false.
struct FakeDevice {
    signal: Arc<AtomicBool>,
    opened: Arc<AtomicU64>,
}

struct FakeCapture {
    pool: Arc<FramePool>,
    signal: Arc<AtomicBool>,
    sequence: u64,
    next_due: Instant,
}

const PERIOD: Duration = Duration::from_millis(40);

impl CaptureDevices for FakeDevice {
    fn ports(&self) -> Vec<CapturePort> {
        Vec::new()
    }

    fn open(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        if port != 0 {
            return NoCaptureDevices.open(port, mode);
        }
        self.opened.fetch_add(1, Ordering::Relaxed);
        let format = VideoFormat::new(320, 180, PixelFormat::I420, 25, 1).unwrap();
        Ok(Box::new(FakeCapture {
            pool: FramePool::new(format, 4),
            signal: Arc::clone(&self.signal),
            sequence: 0,
            next_due: Instant::now(),
        }))
    }
}

impl LiveCapture for FakeCapture {
    fn format(&self) -> VideoFormat {
        self.pool.format()
    }

    fn pool(&self) -> &Arc<FramePool> {
        &self.pool
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        if !self.signal.load(Ordering::Relaxed) {
            std::thread::sleep(timeout);
            return Ok(None);
        }
        std::thread::sleep(self.next_due.saturating_duration_since(Instant::now()));
        self.next_due += PERIOD;
        self.sequence += 1;
        Ok(self
            .pool
            .try_acquire()
            .map(|slot| slot.freeze(monotonic_now(), self.sequence)))
    }
}

struct CountingVideo {
    pictures: Arc<AtomicU64>,
    out: Option<EncodedVideo>,
}

impl VideoEncoder for CountingVideo {
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        if let Some(p) = picture {
            assert_eq!((p.format.width, p.format.height), (320, 180));
            self.pictures.fetch_add(1, Ordering::Relaxed);
            self.out = Some(EncodedVideo {
                data: vec![0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x65, 0x88],
                pts: p.pts,
                dts: p.pts,
                keyframe: true,
            });
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

struct SilentAudio(Option<EncodedAudio>);

impl AudioEncoder for SilentAudio {
    fn send_samples(&mut self, audio: Option<RawAudio<'_>>) -> Result<(), EncodeError> {
        if let Some(a) = audio {
            assert!(
                a.samples.iter().all(|&s| s == 0),
                "a device input's audio is silence"
            );
            self.0 = Some(EncodedAudio {
                data: vec![0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC],
                pts: a.pts,
            });
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Option<EncodedAudio>, EncodeError> {
        Ok(self.0.take())
    }

    fn frame_samples(&self) -> usize {
        1024
    }
}

fn plan(port: u16, capture_port: i64) -> StreamPlan {
    let input = InputRequest {
        stream_type: Some(InputType::V4l2),
        capture_port: Some(capture_port),
        ..InputRequest::default()
    }
    .validate()
    .unwrap();
    let transcoder = TranscoderRequest {
        name: Some("t".into()),
        video_bitrate_kbps: Some(1000),
        ..TranscoderRequest::default()
    }
    .validate()
    .unwrap();
    let output = OutputRequest {
        url: Some(format!("udp://127.0.0.1:{port}")),
        ..OutputRequest::default()
    }
    .validate()
    .unwrap();
    let stream = StreamRequest {
        name: Some("dev".into()),
        input: Some(Id::new_random()),
        transcoder: Some(Id::new_random()),
        outputs: vec![Id::new_random()],
        ..StreamRequest::default()
    }
    .validate()
    .unwrap();
    StreamPlan {
        id: Id::new_random(),
        stream,
        input,
        transcoder: Some(transcoder),
        outputs: vec![output],
        passthru: None,
    }
}

struct Rig {
    pipeline: Pipeline,
    signal: Arc<AtomicBool>,
    pictures: Arc<AtomicU64>,
    _socket: UdpSocket,
    port: u16,
}

fn rig() -> Rig {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let signal = Arc::new(AtomicBool::new(true));
    let pictures = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&pictures);
    let pipeline = Pipeline::new(Codecs {
        video: Box::new(move |_| {
            Ok(Box::new(CountingVideo {
                pictures: Arc::clone(&counted),
                out: None,
            }))
        }),
        audio: Box::new(|_| Ok(Box::new(SilentAudio(None)))),
        devices: Arc::new(FakeDevice {
            signal: Arc::clone(&signal),
            opened: Arc::new(AtomicU64::new(0)),
        }),
    });
    Rig {
        pipeline,
        signal,
        pictures,
        _socket: socket,
        port,
    }
}

fn wait_for(
    pipeline: &Pipeline,
    id: &Id,
    limit: Duration,
    want: impl Fn(StreamState, Option<&str>) -> bool,
) -> (StreamState, Option<String>) {
    let deadline = Instant::now() + limit;
    loop {
        let state = pipeline.state(id).unwrap();
        let problem = pipeline.stats(id).and_then(|(_, p)| p);
        if want(state, problem.as_deref()) || Instant::now() > deadline {
            return (state, problem);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn signal_loss_makes_the_stream_wait_and_it_recovers_by_itself() {
    let mut rig = rig();
    let plan = plan(rig.port, 0);
    rig.pipeline.start(&plan).unwrap();
    let limit = Duration::from_secs(5);
    let (state, _) = wait_for(&rig.pipeline, &plan.id, limit, |s, _| {
        s == StreamState::Active
    });
    assert_eq!(state, StreamState::Active);
    assert!(rig.pictures.load(Ordering::Relaxed) > 0);

    rig.signal.store(false, Ordering::Relaxed);
    let cut = Instant::now();
    let (state, problem) = wait_for(&rig.pipeline, &plan.id, limit, |s, _| {
        s == StreamState::Waiting
    });
    assert_eq!(state, StreamState::Waiting);
    // One second without frames, detected within a poll of that.
    assert!(
        cut.elapsed() >= Duration::from_millis(900),
        "{:?}",
        cut.elapsed()
    );
    let problem = problem.expect("the waiting stream says why");
    assert!(problem.contains("no signal on capturePort 0"), "{problem}");

    rig.signal.store(true, Ordering::Relaxed);
    let before = rig.pictures.load(Ordering::Relaxed);
    let (state, problem) = wait_for(&rig.pipeline, &plan.id, limit, |s, p| {
        s == StreamState::Active && p.is_none()
    });
    assert_eq!((state, problem), (StreamState::Active, None));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        rig.pictures.load(Ordering::Relaxed) > before,
        "encoding resumed"
    );
    rig.pipeline.stop(&plan.id);
}

#[test]
fn a_missing_capture_port_fails_the_start_with_its_range() {
    let mut rig = rig();
    let err = rig.pipeline.start(&plan(rig.port, 3)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("capturePort 3 does not exist"), "{text}");
}
