//! Network inputs and outputs through the whole pipeline on 127.0.0.1:
//! bypass relaying a UDP input unchanged to UDP and SRT outputs, a
//! network input opened by the keeper through the decoder factory (a
//! stand-in here), passthru's copy of the input, an SRT listener output
//! holding the stream `waiting` until a caller comes, and the refusals.
//! Every wait is bounded.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::fakes::codecs;
use common::{collect, free_port, receiver, running, ts_packet, udp_input, udp_output, wait_for};
use makara_capture::{CaptureDevices, NoCaptureDevices, Pacing, TestPatternSettings};
use makara_config::{
    InputConfig, InputRequest, InputType, OutputConfig, OutputRequest, OutputType, SrtMode,
    SrtRequest, StreamMode, TranscoderRequest,
};
use makara_engine::{Engine, StreamPlan, StreamState};
use makara_media::PixelFormat;
use makara_pipeline::{NetworkOpen, Pipeline};
use makara_srt::{SrtSettings, SrtSocket};

const LIMIT: Duration = Duration::from_secs(5);

fn rtsp_input() -> InputConfig {
    InputRequest {
        name: Some("camera".into()),
        stream_type: Some(InputType::Rtsp),
        url: Some("rtsp://127.0.0.1:8554/live".into()),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

fn srt_listener_output(port: u16) -> OutputConfig {
    OutputRequest {
        name: Some("srt out".into()),
        stream_type: Some(OutputType::Srt),
        srt: SrtRequest {
            mode: Some(SrtMode::Listener),
            local_port: Some(i64::from(port)),
            latency_ms: Some(60),
            ..SrtRequest::default()
        },
        ..OutputRequest::default()
    }
    .validate()
    .unwrap()
}

/// A stream in `mode` of `input` to `outputs` (and `passthru`), through
/// a 1500 kbit/s transcoder unless it is bypass.
fn stream_plan(
    mode: StreamMode,
    input: InputConfig,
    outputs: Vec<OutputConfig>,
    passthru: Option<OutputConfig>,
) -> StreamPlan {
    let transcoder = (mode != StreamMode::Bypass).then(|| {
        common::transcoder(1500, TranscoderRequest::default())
            .validate()
            .unwrap()
    });
    common::stream_plan(mode, input, transcoder, outputs, passthru)
}

/// A bypass stream from a UDP input on `in_port` to `output`, and the
/// pipeline running it.
fn running_bypass(in_port: u16, output: OutputConfig) -> (StreamPlan, Pipeline) {
    let plan = stream_plan(StreamMode::Bypass, udp_input(in_port), vec![output], None);
    let pipeline = running(&plan);
    (plan, pipeline)
}

/// Why a stream with the SRT listener output on `srt_port` waits while no
/// caller is connected.
fn no_caller(srt_port: u16) -> String {
    format!("output 'srt out': no caller connected to srt://:{srt_port} (listener)")
}

/// Waits until the stream says `why`; it must be waiting then.
fn assert_waits_with(pipeline: &Pipeline, plan: &StreamPlan, why: &str) {
    let (state, problem) = wait_for(pipeline, &plan.id, LIMIT, |_, p| p == Some(why));
    assert_eq!(
        (state, problem.as_deref()),
        (StreamState::Waiting, Some(why))
    );
}

/// Waits until the stream is active; it must have no problem then.
fn assert_becomes_active(pipeline: &Pipeline, plan: &StreamPlan) {
    let (state, problem) = wait_for(pipeline, &plan.id, LIMIT, |s, _| s == StreamState::Active);
    assert_eq!((state, problem), (StreamState::Active, None));
}

fn packet_number(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[4], p[5], p[6], p[7]])
}

/// Datagrams of seven consecutive packets, numbered from `first`.
fn datagram(first: u32) -> Vec<u8> {
    (first..first + 7).flat_map(ts_packet).collect()
}

/// Sends datagrams of seven packets to `port`, one every `gap`, until
/// `count` are sent or `stop` is set; returns how many packets it sent.
fn feed(port: u16, count: u32, gap: Duration, stop: Arc<AtomicBool>) -> thread::JoinHandle<u32> {
    thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut sent = 0;
        while sent < count * 7 && !stop.load(Ordering::Relaxed) {
            socket
                .send_to(&datagram(sent), ("127.0.0.1", port))
                .unwrap();
            sent += 7;
            thread::sleep(gap);
        }
        sent
    })
}

#[test]
fn bypass_relays_a_udp_input_to_a_udp_output_byte_for_byte() {
    let (out, out_port) = receiver();
    let in_port = free_port();
    let (plan, mut pipeline) = running_bypass(in_port, udp_output(out_port));

    // Nothing arrives yet: waiting, with the input's reason.
    let (state, problem) = wait_for(&pipeline, &plan.id, LIMIT, |_, p| p.is_some());
    assert_eq!(state, StreamState::Waiting);
    let problem = problem.unwrap();
    assert!(problem.contains(&in_port.to_string()), "{problem}");

    let heard = thread::spawn(move || collect(&out, Duration::from_millis(2500)));
    let fed = feed(in_port, 400, Duration::from_millis(1), Arc::default());
    let (state, _) = wait_for(&pipeline, &plan.id, LIMIT, |s, _| s == StreamState::Active);
    assert_eq!(state, StreamState::Active);
    let sent = fed.join().unwrap();
    let heard = heard.join().unwrap();

    assert_eq!(sent, 2800);
    assert!(
        heard.iter().all(|d| d.len() == 7 * 188),
        "datagrams of the output's MTU"
    );
    let expected: Vec<u8> = (0..sent).flat_map(ts_packet).collect();
    assert!(
        heard.concat() == expected,
        "the output is not the input, byte for byte"
    );

    let (stats, _) = pipeline.stats(&plan.id).unwrap();
    let input = stats.input.clone().expect("the input's report");
    assert_eq!((input.packets, input.continuity_errors), (2800, 0));
    assert!(stats.output_kbps > 0.0, "{stats:?}");

    // The input stops: waiting again, with its reason.
    let (state, problem) = wait_for(&pipeline, &plan.id, LIMIT, |s, p| {
        s == StreamState::Waiting && p.is_some()
    });
    assert_eq!(state, StreamState::Waiting, "{problem:?}");
    pipeline.stop(&plan.id);
}

#[test]
fn bypass_to_an_srt_listener_waits_for_a_caller_then_relays_to_it() {
    let in_port = free_port();
    let srt_port = free_port();
    let (plan, mut pipeline) = running_bypass(in_port, srt_listener_output(srt_port));
    let stop_feed = Arc::new(AtomicBool::new(false));
    let fed = feed(
        in_port,
        u32::MAX / 8,
        Duration::from_millis(2),
        Arc::clone(&stop_feed),
    );

    assert_waits_with(&pipeline, &plan, &no_caller(srt_port));

    let listener = SocketAddr::from(([127, 0, 0, 1], srt_port));
    let settings = SrtSettings {
        latency_ms: 60,
        ..SrtSettings::default()
    };
    let mut caller = SrtSocket::call(listener, &settings, LIMIT).unwrap();
    assert_becomes_active(&pipeline, &plan);

    // Whole messages of seven packets, in the input's order.
    let mut buf = [0u8; 1500];
    let mut previous = None;
    let start = Instant::now();
    for _ in 0..30 {
        let len = loop {
            assert!(start.elapsed() < LIMIT, "the caller heard too little");
            if let Some(len) = caller.recv(&mut buf, Duration::from_millis(200)).unwrap() {
                break len;
            }
        };
        assert_eq!(len, 1316);
        for packet in buf[..len].chunks(188) {
            let n = packet_number(packet);
            assert_eq!(packet, ts_packet(n));
            if let Some(previous) = previous {
                assert_eq!(n, previous + 1, "a packet lost or reordered");
            }
            previous = Some(n);
        }
    }
    let (stats, _) = pipeline.stats(&plan.id).unwrap();
    assert_eq!(stats.outputs.len(), 1);
    assert_eq!(stats.outputs[0].links.len(), 1);

    // The caller leaves: waiting again, naming the output.
    drop(caller);
    assert_waits_with(&pipeline, &plan, &no_caller(srt_port));
    stop_feed.store(true, Ordering::Relaxed);
    fed.join().unwrap();
    pipeline.stop(&plan.id);
}

#[test]
fn a_transcoded_stream_waits_for_an_srt_caller_and_serves_it() {
    let (_udp, udp_port) = receiver();
    let srt_port = free_port();
    let plan = stream_plan(
        StreamMode::Transcoder,
        common::pattern_input(30),
        vec![udp_output(udp_port), srt_listener_output(srt_port)],
        None,
    );
    let mut pipeline = running(&plan);
    // The UDP output delivers; the SRT output, without a caller, does not.
    assert_waits_with(&pipeline, &plan, &no_caller(srt_port));

    let listener = SocketAddr::from(([127, 0, 0, 1], srt_port));
    let mut caller = SrtSocket::call(listener, &SrtSettings::default(), LIMIT).unwrap();
    assert_becomes_active(&pipeline, &plan);
    let mut buf = [0u8; 1500];
    let start = Instant::now();
    let len = loop {
        assert!(start.elapsed() < LIMIT, "the caller heard nothing");
        if let Some(len) = caller.recv(&mut buf, Duration::from_millis(200)).unwrap() {
            break len;
        }
    };
    assert_eq!(len, 1316);
    assert!(buf[..len].chunks(188).all(|p| p[0] == 0x47));
    pipeline.stop(&plan.id);
}

fn pattern_capture(origin: makara_media::MonotonicNs) -> Box<dyn makara_capture::LiveCapture> {
    let settings = TestPatternSettings {
        width: 320,
        height: 180,
        frame_rate: 30,
        pixel_format: PixelFormat::I420,
        pacing: Pacing::RealTime,
    };
    NoCaptureDevices.open_pattern(settings, origin).unwrap()
}

#[test]
fn a_network_input_is_waited_for_by_the_keeper_then_transcoded() {
    let (out, out_port) = receiver();
    let (release, released) = channel::<()>();
    let released = Mutex::new(released);
    let mut codecs = codecs();
    codecs.network = Some(Box::new(move |open: NetworkOpen, stop, waiting| {
        assert_eq!(open.input.name, "feed");
        assert!(open.tap.is_none(), "transcoder mode copies nothing");
        waiting("input 'feed': waiting for a picture");
        let released = released.lock().unwrap();
        loop {
            if stop() {
                return Err("stopped".into());
            }
            match released.recv_timeout(Duration::from_millis(20)) {
                Ok(()) => return Ok(pattern_capture(open.origin)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err("the test ended".into()),
            }
        }
    }));
    let plan = stream_plan(
        StreamMode::Transcoder,
        udp_input(free_port()),
        vec![udp_output(out_port)],
        None,
    );
    let mut pipeline = Pipeline::new(codecs);
    pipeline.start(&plan).unwrap();
    let why = "input 'feed': waiting for a picture";
    assert_waits_with(&pipeline, &plan, why);
    // The input's own report says so too.
    let input = pipeline.stats(&plan.id).unwrap().0.input.unwrap();
    assert_eq!(
        (input.receiving, input.last_error.as_deref()),
        (false, Some(why))
    );

    release.send(()).unwrap();
    assert_becomes_active(&pipeline, &plan);
    assert!(!collect(&out, Duration::from_millis(300)).is_empty());
    pipeline.stop(&plan.id);
}

#[test]
fn a_stop_ends_the_wait_for_a_network_input() {
    let mut codecs = codecs();
    codecs.network = Some(Box::new(|_open: NetworkOpen, stop, waiting| {
        waiting("input 'feed': no packets yet");
        let start = Instant::now();
        while !stop() {
            assert!(start.elapsed() < LIMIT, "the stop was never asked");
            thread::sleep(Duration::from_millis(10));
        }
        Err("stopped".into())
    }));
    let plan = stream_plan(
        StreamMode::Transcoder,
        udp_input(free_port()),
        vec![udp_output(9)],
        None,
    );
    let mut pipeline = Pipeline::new(codecs);
    pipeline.start(&plan).unwrap();
    wait_for(&pipeline, &plan.id, LIMIT, |_, p| p.is_some());
    let start = Instant::now();
    pipeline.stop(&plan.id);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(pipeline.state(&plan.id), None);
}

#[test]
fn passthru_copies_the_tapped_input_to_the_passthru_output() {
    let (main, main_port) = receiver();
    let (copy, copy_port) = receiver();
    let mut codecs = codecs();
    codecs.network = Some(Box::new(|open: NetworkOpen, _stop, _waiting| {
        let tap = open.tap.expect("passthru asks for the input's packets");
        for batch in 0..50u32 {
            let packets = (batch * 7..batch * 7 + 7).map(ts_packet).collect();
            tap.try_send(packets).unwrap();
        }
        Ok(pattern_capture(open.origin))
    }));
    let plan = stream_plan(
        StreamMode::Passthru,
        udp_input(free_port()),
        vec![udp_output(main_port)],
        Some(udp_output(copy_port)),
    );
    let mut pipeline = Pipeline::new(codecs);
    pipeline.start(&plan).unwrap();
    let copied = collect(&copy, Duration::from_millis(1500));
    let expected: Vec<u8> = (0..350).flat_map(ts_packet).collect();
    assert!(
        copied.concat() == expected,
        "the passthru output is not the input"
    );
    assert!(!collect(&main, Duration::from_millis(300)).is_empty());
    pipeline.stop(&plan.id);
}

#[test]
fn what_cannot_be_copied_or_decoded_is_refused_with_a_reason() {
    let mut pipeline = Pipeline::new(codecs());
    let bypass = stream_plan(StreamMode::Bypass, rtsp_input(), vec![udp_output(9)], None);
    assert_eq!(
        pipeline.start(&bypass).unwrap_err().to_string(),
        "bypass copies the input's transport stream unchanged; an RTSP input is not one: use transcoder mode"
    );
    let passthru = stream_plan(
        StreamMode::Passthru,
        common::pattern_input(30),
        vec![udp_output(9)],
        Some(udp_output(10)),
    );
    assert_eq!(
        pipeline.start(&passthru).unwrap_err().to_string(),
        "passthru copies the input's transport stream unchanged to the passthru output; a TESTPATTERN input is not one: use transcoder mode"
    );
    // This build has no decoder.
    let transcode = stream_plan(
        StreamMode::Transcoder,
        udp_input(5000),
        vec![udp_output(9)],
        None,
    );
    assert_eq!(
        pipeline.start(&transcode).unwrap_err().to_string(),
        "this build has no decoder for network inputs, so MPEG2TS inputs cannot be transcoded"
    );
    assert_eq!(pipeline.state(&bypass.id), None);
}

#[test]
fn a_listener_port_in_use_fails_the_start() {
    let srt_port = free_port();
    let mut pipeline = Pipeline::new(codecs());
    let first = stream_plan(
        StreamMode::Transcoder,
        common::pattern_input(30),
        vec![srt_listener_output(srt_port)],
        None,
    );
    pipeline.start(&first).unwrap();
    let second = stream_plan(
        StreamMode::Transcoder,
        common::pattern_input(30),
        vec![srt_listener_output(srt_port)],
        None,
    );
    let e = pipeline.start(&second).unwrap_err().to_string();
    assert!(e.contains(&format!("srt://:{srt_port} (listener)")), "{e}");
    assert!(e.contains("in use"), "{e}");
    pipeline.stop(&first.id);
}
