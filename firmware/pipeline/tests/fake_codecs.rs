//! The whole pipeline with stand-in encoders: real test pattern, frame
//! ring, muxer, pacing and UDP, checked by the project's own demuxer.
//! (The real-encoder end-to-end test, judged by ffprobe, lives in
//! tests/integration.)

mod common;

use std::time::{Duration, Instant};

use common::fakes::{codecs, FakeAudio, FakeVideo};
use common::{collect, receiver};
use makara_config::{InputRequest, TranscoderRequest};
use makara_encode::{EncodeError, RawPicture, VideoEncoder};
use makara_engine::{Engine, StreamPlan, StreamState};
use makara_media::EncodedVideo;
use makara_mpegts::demux::{DemuxEvent, Demuxer};
use makara_pipeline::{Codecs, Pipeline};

/// A 320x180 test pattern at 1500 kbit/s, a keyframe every 15 frames, to
/// UDP outputs on `ports`.
fn plan(ports: &[u16]) -> StreamPlan {
    let transcoder = common::transcoder(
        1500,
        TranscoderRequest {
            gop_size: Some(15),
            ..TranscoderRequest::default()
        },
    );
    common::plan(common::pattern_input(30), transcoder, ports)
}

#[test]
fn a_started_stream_sends_the_same_valid_ts_to_every_output_and_stops() {
    let (a, port_a) = receiver();
    let (b, port_b) = receiver();
    let plan = plan(&[port_a, port_b]);
    let mut pipeline = Pipeline::new(codecs());
    pipeline.start(&plan).unwrap();

    let from_a = collect(&a, Duration::from_millis(1500));
    let from_b = collect(&b, Duration::from_millis(100));
    assert_eq!(pipeline.state(&plan.id), Some(StreamState::Active));
    let (stats, problem) = pipeline.stats(&plan.id).unwrap();
    assert!(problem.is_none(), "{problem:?}");
    assert!(stats.frames_encoded >= 20, "{stats:?}");

    // Whole packets, 7 per datagram at the default MTU.
    assert!(from_a.len() > 50);
    assert!(from_a.iter().all(|d| d.len() == 7 * 188));
    // Both outputs carry the same bytes (b started receiving at the same
    // time as a, and its first datagrams are still queued in its socket).
    assert_eq!(from_a[..20], from_b[..20]);

    let mut demux = Demuxer::new();
    let (mut pat, mut video, mut audio, mut keyframes, mut pcrs) = (0, 0, 0, 0, 0);
    for d in &from_a {
        for packet in d.chunks_exact(188) {
            demux.push(packet);
        }
        while let Some(event) = demux.poll() {
            match event {
                DemuxEvent::Pat(_) => pat += 1,
                DemuxEvent::Pes(p) if p.pid == 0x100 => {
                    video += 1;
                    keyframes += usize::from(p.random_access);
                }
                DemuxEvent::Pes(p) if p.pid == 0x101 => audio += 1,
                DemuxEvent::Pcr { .. } => pcrs += 1,
                DemuxEvent::Continuity { pid, .. } => panic!("continuity error on PID {pid:#x}"),
                DemuxEvent::Malformed { pid, layer } => panic!("malformed {layer:?} on {pid:?}"),
                _ => {}
            }
        }
    }
    assert!(pat >= 10, "PSI at least every 100 ms: {pat} PATs in 1.5 s");
    assert!(pcrs >= 30, "PCR at least every 40 ms: {pcrs}");
    assert!(video >= 20 && audio >= 20, "video {video}, audio {audio}");
    assert!(
        keyframes >= 1 && keyframes <= video / 15 + 1,
        "{keyframes} of {video}"
    );

    let asked = Instant::now();
    pipeline.stop(&plan.id);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        asked.elapsed()
    );
    assert_eq!(pipeline.state(&plan.id), None);
    let _ = collect(&a, Duration::from_millis(200));
    assert!(
        collect(&a, Duration::from_millis(1000)).is_empty(),
        "packets after stop"
    );
}

#[test]
fn unsupported_inputs_are_refused_with_a_reason() {
    let mut plan = plan(&[9]);
    plan.input = InputRequest {
        url: Some("udp://239.1.1.1:5000".into()),
        ..InputRequest::default()
    }
    .validate()
    .unwrap();
    let mut pipeline = Pipeline::new(codecs());
    let e = pipeline.start(&plan).unwrap_err();
    assert!(e.to_string().contains("MPEG2TS"), "{e}");
}

/// Fails once, at its 10th picture; the next encoder it makes works.
struct FailingOnce {
    inner: FakeVideo,
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl VideoEncoder for FailingOnce {
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        use std::sync::atomic::Ordering;
        if self.inner.count == 10 && self.fail.swap(false, Ordering::SeqCst) {
            return Err(EncodeError::Encode("injected failure".into()));
        }
        self.inner.send_picture(picture)
    }

    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
        self.inner.receive()
    }

    fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
        Ok(Vec::new())
    }
}

#[test]
fn an_encoder_failure_makes_the_stream_wait_then_recover() {
    let (socket, port) = receiver();
    let plan = plan(&[port]);
    let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let fail_for_codec = std::sync::Arc::clone(&fail);
    let mut pipeline = Pipeline::new(Codecs {
        video: Box::new(move |s| {
            Ok(Box::new(FailingOnce {
                inner: FakeVideo {
                    gop: s.gop_frames,
                    count: 0,
                    out: None,
                },
                fail: std::sync::Arc::clone(&fail_for_codec),
            }))
        }),
        audio: Box::new(|_| Ok(Box::new(FakeAudio { out: None }))),
        hardware: Box::new(|_| Err("the fakes have no hardware".into())),
        devices: std::sync::Arc::new(makara_capture::NoCaptureDevices),
        network: None,
    });
    pipeline.start(&plan).unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    let mut saw_waiting = None;
    while Instant::now() < deadline && saw_waiting.is_none() {
        if let Some((_, Some(problem))) = pipeline.stats(&plan.id) {
            saw_waiting = Some((pipeline.state(&plan.id), problem));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (state, problem) = saw_waiting.expect("the failure was never reported");
    assert_eq!(state, Some(StreamState::Waiting));
    assert!(problem.contains("injected failure"), "{problem}");

    // The keeper retries after its backoff and the stream comes back.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && pipeline.state(&plan.id) != Some(StreamState::Active) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(pipeline.state(&plan.id), Some(StreamState::Active));
    assert_eq!(
        pipeline.stats(&plan.id).unwrap().1,
        None,
        "the reason clears on recovery"
    );
    assert!(!collect(&socket, Duration::from_millis(300)).is_empty());
    pipeline.stop(&plan.id);
}

/// An encoder slower than the input's frame rate but quick enough for the
/// output's: it takes 120 ms a picture.
struct SlowVideo(FakeVideo);

impl VideoEncoder for SlowVideo {
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        std::thread::sleep(Duration::from_millis(120));
        self.0.send_picture(picture)
    }

    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
        self.0.receive()
    }

    fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
        Ok(Vec::new())
    }
}

/// [`codecs`] with the slow video encoder.
fn slow_codecs() -> Codecs {
    Codecs {
        video: Box::new(|s| {
            Ok(Box::new(SlowVideo(FakeVideo {
                gop: s.gop_frames,
                count: 0,
                out: None,
            })))
        }),
        ..codecs()
    }
}

/// 30 fps in, 5 fps out: the encoder needs one frame in six. While it
/// works on one, the ring's queue overflows with frames the rate
/// conversion would skip anyway; losing those loses no output picture, so
/// no frame counts as dropped.
#[test]
fn frames_the_rate_conversion_skips_are_not_counted_as_dropped() {
    let (_socket, port) = receiver();
    let transcoder = common::transcoder(
        1000,
        TranscoderRequest {
            frame_rate: Some(5),
            ..TranscoderRequest::default()
        },
    );
    let plan = common::plan(common::pattern_input(30), transcoder, &[port]);
    let mut pipeline = Pipeline::new(slow_codecs());
    pipeline.start(&plan).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let (stats, problem) = pipeline.stats(&plan.id).unwrap();
    pipeline.stop(&plan.id);
    assert_eq!(problem, None);
    // About 15 pictures in 3 s; a loaded machine may start late.
    assert!(stats.frames_encoded >= 8, "{stats:?}");
    assert_eq!(stats.frames_dropped, 0, "{stats:?}");
}

/// The same slow encoder at equal rates: every lost frame was one an
/// output picture needed, and each one counts.
#[test]
fn frames_an_output_picture_needed_count_as_dropped() {
    let (_socket, port) = receiver();
    let transcoder = common::transcoder(1000, TranscoderRequest::default());
    let plan = common::plan(common::pattern_input(25), transcoder, &[port]);
    let mut pipeline = Pipeline::new(slow_codecs());
    pipeline.start(&plan).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let (stats, _) = pipeline.stats(&plan.id).unwrap();
    pipeline.stop(&plan.id);
    // 120 ms a picture at 40 ms a frame: about two of every three lost.
    assert!(stats.frames_dropped >= 10, "{stats:?}");
}
