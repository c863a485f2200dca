//! What the pipeline tests share: stream plans, a pipeline running one,
//! a UDP receiver on the loopback, and waiting for a stream's state.

#![allow(dead_code)] // Each test file uses its own part.

pub mod fakes;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use makara_config::{
    Id, InputConfig, InputRequest, InputType, OutputConfig, OutputRequest, StreamMode,
    StreamRequest, TranscoderConfig, TranscoderRequest,
};
use makara_engine::{Engine, StreamPlan, StreamState};
use makara_pipeline::Pipeline;

/// A 320x180 TESTPATTERN input at `fps`.
pub fn pattern_input(fps: i64) -> InputConfig {
    InputRequest {
        stream_type: Some(InputType::TestPattern),
        width: Some(320),
        height: Some(180),
        frame_rate: Some(fps),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

/// A V4L2 input on `capture_port`, in the mode the source sends.
pub fn device_input(capture_port: i64) -> InputConfig {
    InputRequest {
        stream_type: Some(InputType::V4l2),
        capture_port: Some(capture_port),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

/// A transcoder at `kbps`; the rest of `more` (named "t") as given.
pub fn transcoder(kbps: i64, more: TranscoderRequest) -> TranscoderRequest {
    TranscoderRequest {
        name: Some("t".into()),
        video_bitrate_kbps: Some(kbps),
        ..more
    }
}

/// A UDP input "feed" on 127.0.0.1:`port`.
pub fn udp_input(port: u16) -> InputConfig {
    InputRequest {
        name: Some("feed".into()),
        url: Some(format!("udp://127.0.0.1:{port}")),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// TS packet `n` of PID 0x100: its continuity counter follows `n`, and
/// its payload carries `n`, so that any loss, repeat or change shows.
pub fn ts_packet(n: u32) -> [u8; 188] {
    let mut p = [0u8; 188];
    p[0] = 0x47;
    p[1] = 0x01;
    p[2] = 0x00;
    p[3] = 0x10 | (n % 16) as u8;
    for chunk in p[4..].chunks_mut(4) {
        chunk.copy_from_slice(&n.to_be_bytes()[..chunk.len()]);
    }
    p
}

/// A UDP output to 127.0.0.1:`port`.
pub fn udp_output(port: u16) -> OutputConfig {
    OutputRequest {
        url: Some(format!("udp://127.0.0.1:{port}")),
        ..OutputRequest::default()
    }
    .validate()
    .unwrap()
}

/// A stream "s" in `mode` of `input` through `transcoder` to `outputs`
/// (and the input's copy to `passthru`), each part under a fresh id.
pub fn stream_plan(
    mode: StreamMode,
    input: InputConfig,
    transcoder: Option<TranscoderConfig>,
    outputs: Vec<OutputConfig>,
    passthru: Option<OutputConfig>,
) -> StreamPlan {
    let stream = StreamRequest {
        name: Some("s".into()),
        mode: Some(mode),
        input: Some(Id::new_random()),
        transcoder: transcoder.as_ref().map(|_| Id::new_random()),
        outputs: outputs.iter().map(|_| Id::new_random()).collect(),
        passthru: passthru.as_ref().map(|_| Id::new_random()),
        ..StreamRequest::default()
    }
    .validate()
    .unwrap();
    StreamPlan {
        id: Id::new_random(),
        stream,
        input,
        transcoder,
        outputs,
        passthru,
    }
}

/// A stream of `input` through `transcoder` to a UDP output on
/// 127.0.0.1 for each of `ports`.
pub fn plan(input: InputConfig, transcoder: TranscoderRequest, ports: &[u16]) -> StreamPlan {
    stream_plan(
        StreamMode::Transcoder,
        input,
        Some(transcoder.validate().unwrap()),
        ports.iter().map(|&p| udp_output(p)).collect(),
        None,
    )
}

/// A `plan` whose test pattern is `width` x `height` at 30 fps, through a
/// 1500 kbit/s transcoder.
pub fn pattern_plan(width: i64, height: i64, ports: &[u16]) -> StreamPlan {
    let input = InputRequest {
        stream_type: Some(InputType::TestPattern),
        width: Some(width),
        height: Some(height),
        frame_rate: Some(30),
        ..InputRequest::default()
    }
    .validate()
    .unwrap();
    plan(input, transcoder(1500, TranscoderRequest::default()), ports)
}

/// A pipeline with the stand-in codecs (`fakes::codecs`), running `plan`.
pub fn running(plan: &StreamPlan) -> Pipeline {
    let mut pipeline = Pipeline::new(fakes::codecs());
    pipeline.start(plan).unwrap();
    pipeline
}

/// A socket on 127.0.0.1 and its port; reads give up after 100 ms.
pub fn receiver() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let port = s.local_addr().unwrap().port();
    (s, port)
}

/// Everything that arrives on `socket` for `duration`.
pub fn collect(socket: &UdpSocket, duration: Duration) -> Vec<Vec<u8>> {
    let end = Instant::now() + duration;
    let mut datagrams = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok(n) = socket.recv(&mut buf) {
            datagrams.push(buf[..n].to_vec());
        }
    }
    datagrams
}

/// Polls the stream's state and reason until `want` holds or `limit`
/// passes; returns the last seen.
pub fn wait_for(
    engine: &dyn Engine,
    id: &Id,
    limit: Duration,
    want: impl Fn(StreamState, Option<&str>) -> bool,
) -> (StreamState, Option<String>) {
    let deadline = Instant::now() + limit;
    loop {
        let state = engine.state(id).unwrap();
        let problem = engine.stats(id).and_then(|(_, p)| p);
        if want(state, problem.as_deref()) || Instant::now() > deadline {
            return (state, problem);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
