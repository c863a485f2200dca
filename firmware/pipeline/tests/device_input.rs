//! Live sources through the whole pipeline: a stand-in device whose frames
//! live in its own pool (as V4L2's mapped buffers do), and the real test
//! pattern, each with a signal a test can cut. Both go through the one
//! source thread: the stream waits without frames and comes back by
//! itself when they return.

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fakes::ListeningAudio;
use common::{receiver, wait_for};
use makara_capture::{
    monotonic_now, AudioSource, CaptureDevices, DeviceError, LiveCapture, NoCaptureDevices,
    TestPatternSettings,
};
use makara_config::TranscoderRequest;
use makara_encode::{EncodeError, RawPicture, VideoEncoder};
use makara_engine::{Engine, StreamPlan, StreamState};
use makara_framering::{Frame, FramePool};
use makara_media::{CapturePort, EncodedVideo, MonotonicNs, PixelFormat, VideoFormat};
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

    fn open_pattern(
        &self,
        settings: TestPatternSettings,
        origin: MonotonicNs,
    ) -> Result<Box<dyn LiveCapture>, DeviceError> {
        Ok(Box::new(StallingPattern {
            inner: NoCaptureDevices.open_pattern(settings, origin)?,
            signal: Arc::clone(&self.signal),
        }))
    }
}

/// The real test pattern, cut off while `signal` is false: nobody asks it
/// for frames, so they fall due unseen, and the first one after the cut
/// shows the loss as a jump in its sequence.
struct StallingPattern {
    inner: Box<dyn LiveCapture>,
    signal: Arc<AtomicBool>,
}

impl LiveCapture for StallingPattern {
    fn format(&self) -> VideoFormat {
        self.inner.format()
    }

    fn pool(&self) -> &Arc<FramePool> {
        self.inner.pool()
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        if !self.signal.load(Ordering::Relaxed) {
            std::thread::sleep(timeout);
            return Ok(None);
        }
        self.inner.next_frame(timeout)
    }

    fn audio(&self, origin: MonotonicNs) -> Box<dyn AudioSource> {
        self.inner.audio(origin)
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

fn plan(port: u16, capture_port: i64) -> StreamPlan {
    let transcoder = common::transcoder(1000, TranscoderRequest::default());
    common::plan(common::device_input(capture_port), transcoder, &[port])
}

struct Rig {
    pipeline: Pipeline,
    signal: Arc<AtomicBool>,
    pictures: Arc<AtomicU64>,
    heard: Arc<AtomicBool>,
    _socket: UdpSocket,
    port: u16,
}

fn rig() -> Rig {
    let (socket, port) = receiver();
    let signal = Arc::new(AtomicBool::new(true));
    let pictures = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&pictures);
    let heard = Arc::new(AtomicBool::new(false));
    let listening = Arc::clone(&heard);
    let pipeline = Pipeline::new(Codecs {
        video: Box::new(move |_| {
            Ok(Box::new(CountingVideo {
                pictures: Arc::clone(&counted),
                out: None,
            }))
        }),
        audio: Box::new(move |_| Ok(Box::new(ListeningAudio::new(Arc::clone(&listening))))),
        hardware: Box::new(|_| Err("the fakes have no hardware".into())),
        devices: Arc::new(FakeDevice {
            signal: Arc::clone(&signal),
            opened: Arc::new(AtomicU64::new(0)),
        }),
        network: None,
    });
    Rig {
        pipeline,
        signal,
        pictures,
        heard,
        _socket: socket,
        port,
    }
}

/// Stops the rig's frames and waits for the stream to go `waiting`: one
/// second without frames, detected within a poll of that. Returns why it
/// says it waits.
fn cut_signal(rig: &Rig, plan: &StreamPlan, limit: Duration) -> String {
    rig.signal.store(false, Ordering::Relaxed);
    let cut = Instant::now();
    let (state, problem) = wait_for(&rig.pipeline, &plan.id, limit, |s, _| {
        s == StreamState::Waiting
    });
    assert_eq!(state, StreamState::Waiting);
    assert!(
        cut.elapsed() >= Duration::from_millis(900),
        "{:?}",
        cut.elapsed()
    );
    problem.expect("the waiting stream says why")
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

    let problem = cut_signal(&rig, &plan, limit);
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
    assert!(
        !rig.heard.load(Ordering::Relaxed),
        "a device input's audio is silence"
    );
    rig.pipeline.stop(&plan.id);
}

/// The test pattern takes the device path: the same source thread sees
/// its signal go and come back, counts the frames lost meanwhile, and
/// encodes its tone through the same audio path as a device's silence.
#[test]
fn a_stalled_test_pattern_makes_the_stream_wait_and_it_recovers_by_itself() {
    let mut rig = rig();
    let transcoder = common::transcoder(1000, TranscoderRequest::default());
    let plan = common::plan(common::pattern_input(25), transcoder, &[rig.port]);
    rig.pipeline.start(&plan).unwrap();
    let limit = Duration::from_secs(5);
    let (state, _) = wait_for(&rig.pipeline, &plan.id, limit, |s, _| {
        s == StreamState::Active
    });
    assert_eq!(state, StreamState::Active);
    let dropped_before = rig.pipeline.stats(&plan.id).unwrap().0.frames_dropped;

    let problem = cut_signal(&rig, &plan, limit);
    assert!(
        problem.contains("no signal on the test pattern"),
        "{problem}"
    );

    rig.signal.store(true, Ordering::Relaxed);
    let (state, problem) = wait_for(&rig.pipeline, &plan.id, limit, |s, p| {
        s == StreamState::Active && p.is_none()
    });
    assert_eq!((state, problem), (StreamState::Active, None));
    // A second of 25 fps went unseen: its frames count as lost.
    let dropped = rig.pipeline.stats(&plan.id).unwrap().0.frames_dropped - dropped_before;
    assert!(dropped >= 20, "{dropped} frames counted lost over the cut");
    assert!(
        rig.heard.load(Ordering::Relaxed),
        "the tone reached the audio encoder"
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
