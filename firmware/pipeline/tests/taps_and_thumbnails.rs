//! Taps on outputs and thumbnails of pictures, through the whole pipeline
//! with stand-in encoders on 127.0.0.1: a tap's copy is what the output
//! sent, valid TS, across stops and starts, and ends with `untap`; bypass
//! and passthru outputs are tapped too; a thumbnail is a JPEG of the test
//! pattern, at the asked width, or a reason why there is none. Every wait
//! is bounded; nothing is timed.

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::fakes::codecs;
use common::{collect, free_port, receiver, running, ts_packet, udp_input, udp_output};
use makara_capture::{CaptureDevices, NoCaptureDevices, Pacing, TestPatternSettings};
use makara_config::{StreamMode, TranscoderRequest};
use makara_engine::{Engine, EngineError, Thumbnail, TsTap};
use makara_media::PixelFormat;
use makara_mpegts::demux::{DemuxEvent, Demuxer};
use makara_pipeline::{NetworkOpen, Pipeline};

const LIMIT: Duration = Duration::from_secs(5);

/// A tap that keeps everything it is handed, and notes a call that was
/// not whole packets.
#[derive(Default)]
struct Recorder {
    bytes: Mutex<Vec<u8>>,
    ragged: AtomicBool,
}

impl TsTap for Recorder {
    fn packets(&self, ts: &[u8]) {
        if ts.is_empty() || !ts.len().is_multiple_of(188) || ts.chunks(188).any(|p| p[0] != 0x47) {
            self.ragged.store(true, Ordering::Relaxed);
        }
        self.bytes.lock().unwrap().extend_from_slice(ts);
    }
}

impl Recorder {
    fn len(&self) -> usize {
        self.bytes.lock().unwrap().len()
    }

    fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    /// Waits until more than `than` bytes came; true if they did in time.
    fn grows_past(&self, than: usize) -> bool {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if self.len() > than {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn whole_packets(&self) -> bool {
        !self.ragged.load(Ordering::Relaxed) && self.len().is_multiple_of(188)
    }
}

/// True if every packet of `heard` is in `copy`, in the same order.
fn in_order_within(heard: &[u8], copy: &[u8]) -> bool {
    let mut copy = copy.chunks_exact(188);
    heard
        .chunks_exact(188)
        .all(|packet| copy.any(|c| c == packet))
}

/// The demuxer's view of `ts`: PATs and video PES packets seen; panics
/// on a continuity error or a malformed packet.
fn demux(ts: &[u8]) -> (usize, usize) {
    let mut demuxer = Demuxer::new();
    let (mut pats, mut video) = (0, 0);
    for packet in ts.chunks_exact(188) {
        demuxer.push(packet);
        while let Some(event) = demuxer.poll() {
            match event {
                DemuxEvent::Pat(_) => pats += 1,
                DemuxEvent::Pes(p) if p.pid == 0x100 => video += 1,
                DemuxEvent::Continuity { pid, .. } => panic!("continuity error on PID {pid:#x}"),
                DemuxEvent::Malformed { pid, layer } => panic!("malformed {layer:?} on {pid:?}"),
                _ => {}
            }
        }
    }
    (pats, video)
}

#[test]
fn a_tap_gets_what_its_output_sends_across_stops_and_starts_until_untapped() {
    let (socket, port) = receiver();
    let plan = common::pattern_plan(320, 180, &[port]);
    let output = plan.stream.outputs[0].clone();
    let mut pipeline = Pipeline::new(codecs());
    // Attached before any stream sends to the output: kept until one does.
    let early = Arc::new(Recorder::default());
    let early_tap = pipeline.tap(&output, early.clone()).unwrap();
    pipeline.start(&plan).unwrap();
    let heard = collect(&socket, Duration::from_millis(1500)).concat();
    // Attached while the stream runs.
    let late = Arc::new(Recorder::default());
    let late_tap = pipeline.tap(&output, late.clone()).unwrap();
    assert!(
        late.grows_past(0),
        "a tap attached to a running stream got nothing"
    );
    pipeline.stop(&plan.id);

    // The first run's copy: valid TS, and every packet the receiver got.
    let first_run = early.bytes();
    assert!(early.whole_packets() && late.whole_packets());
    assert!(
        heard.len() > 50 * 1316,
        "the receiver got {} bytes",
        heard.len()
    );
    assert!(first_run.len() >= heard.len());
    assert!(
        in_order_within(&heard, &first_run),
        "the receiver got packets the tap did not"
    );
    let (pats, video) = demux(&first_run);
    assert!(pats >= 10 && video >= 20, "{pats} PATs, {video} pictures");

    // Stopped: nothing more. Started again: the same taps get packets.
    thread::sleep(Duration::from_millis(200));
    assert_eq!(early.len(), first_run.len(), "packets after the stop");
    pipeline.start(&plan).unwrap();
    assert!(early.grows_past(first_run.len()), "nothing after a restart");

    // Untapped: no packet after `untap` returns; the other tap goes on.
    pipeline.untap(early_tap);
    let (early_at_untap, late_at_untap) = (early.len(), late.len());
    assert!(!collect(&socket, Duration::from_millis(300)).is_empty());
    assert_eq!(early.len(), early_at_untap, "packets after untap");
    assert!(
        late.len() > late_at_untap,
        "the other tap was taken off too"
    );
    pipeline.untap(late_tap);
    let late_at_untap = late.len();
    assert!(!collect(&socket, Duration::from_millis(300)).is_empty());
    assert_eq!(late.len(), late_at_untap, "packets after untap");
    pipeline.stop(&plan.id);
}

#[test]
fn a_bypass_output_is_tapped_packet_for_packet() {
    let (socket, out_port) = receiver();
    let in_port = free_port();
    let plan = common::stream_plan(
        StreamMode::Bypass,
        udp_input(in_port),
        None,
        vec![udp_output(out_port)],
        None,
    );
    let mut pipeline = Pipeline::new(codecs());
    let copy = Arc::new(Recorder::default());
    pipeline.tap(&plan.stream.outputs[0], copy.clone()).unwrap();
    pipeline.start(&plan).unwrap();
    let heard = thread::spawn(move || collect(&socket, Duration::from_millis(1500)));
    let feeder = UdpSocket::bind("127.0.0.1:0").unwrap();
    for first in (0..700).step_by(7) {
        let datagram: Vec<u8> = (first..first + 7).flat_map(ts_packet).collect();
        feeder.send_to(&datagram, ("127.0.0.1", in_port)).unwrap();
        thread::sleep(Duration::from_millis(2));
    }
    let heard = heard.join().unwrap().concat();
    pipeline.stop(&plan.id);
    let expected: Vec<u8> = (0..700).flat_map(ts_packet).collect();
    assert!(heard == expected, "the output is not the input");
    assert!(
        copy.bytes() == expected,
        "the tap's copy is not the output's"
    );
    assert!(copy.whole_packets());
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
fn a_passthru_output_is_tapped_with_the_input_it_copies() {
    let (_main, main_port) = receiver();
    let (_copy, copy_port) = receiver();
    let mut codecs = codecs();
    codecs.network = Some(Box::new(|open: NetworkOpen, _stop, _waiting| {
        let tap = open.tap.expect("passthru asks for the input's packets");
        for batch in 0..50u32 {
            let packets = (batch * 7..batch * 7 + 7).map(ts_packet).collect();
            tap.try_send(packets).unwrap();
        }
        Ok(pattern_capture(open.origin))
    }));
    let transcoder = common::transcoder(1500, TranscoderRequest::default());
    let plan = common::stream_plan(
        StreamMode::Passthru,
        udp_input(free_port()),
        Some(transcoder.validate().unwrap()),
        vec![udp_output(main_port)],
        Some(udp_output(copy_port)),
    );
    let mut pipeline = Pipeline::new(codecs);
    let copy = Arc::new(Recorder::default());
    let passthru = plan.stream.passthru.clone().unwrap();
    pipeline.tap(&passthru, copy.clone()).unwrap();
    pipeline.start(&plan).unwrap();
    let expected: Vec<u8> = (0..350).flat_map(ts_packet).collect();
    assert!(
        copy.grows_past(expected.len() - 1),
        "the tap got too little"
    );
    pipeline.stop(&plan.id);
    assert!(copy.bytes() == expected, "the tap's copy is not the input");
}

/// Polls for a thumbnail of the stream until it has a picture.
fn first_thumbnail(pipeline: &Pipeline, id: &makara_config::Id, max_width: u32) -> Thumbnail {
    let deadline = Instant::now() + LIMIT;
    loop {
        match pipeline.thumbnail(id, max_width) {
            Ok(thumbnail) => return thumbnail,
            Err(e) if Instant::now() > deadline => panic!("no thumbnail: {e}"),
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The picture in `jpeg`, decoded by a decoder of its own: RGB, and the
/// image's facts.
fn decode(jpeg: &[u8]) -> (Vec<u8>, jpeg_decoder::ImageInfo) {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let pixels = decoder.decode().expect("a JPEG the decoder reads");
    (pixels, decoder.info().unwrap())
}

/// The test pattern's 75% bars in RGB.
const BARS_RGB: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];

/// Which bar each pixel of `row` (RGB) is near, if any.
fn bars_in(row: &[u8]) -> Vec<Option<usize>> {
    row.chunks_exact(3)
        .map(|px| {
            BARS_RGB
                .iter()
                .position(|bar| bar.iter().zip(px).all(|(b, p)| b.abs_diff(*p) <= 40))
        })
        .collect()
}

#[test]
fn a_running_stream_gives_a_jpeg_of_its_test_pattern() {
    let (_socket, port) = receiver();
    let plan = common::pattern_plan(1280, 720, &[port]);
    let mut pipeline = running(&plan);
    let thumbnail = first_thumbnail(&pipeline, &plan.id, 320);
    assert_eq!((thumbnail.width, thumbnail.height), (320, 180));
    let (pixels, info) = decode(&thumbnail.jpeg);
    assert_eq!((info.width, info.height), (320, 180));
    assert_eq!(
        info.coding_process,
        jpeg_decoder::CodingProcess::DctSequential
    );
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);

    // The bars (sliding right as frames pass) above the centred text box:
    // nearly every pixel is one of the seven colours, and all are there
    // but at most one cut at the picture's edge.
    for y in [4, 40] {
        let row = &pixels[y * 320 * 3..][..320 * 3];
        let bars = bars_in(row);
        let matched = bars.iter().filter(|b| b.is_some()).count();
        assert!(
            matched >= 280,
            "row {y}: {matched} of 320 pixels are bar colours"
        );
        let mut seen: Vec<usize> = bars.into_iter().flatten().collect();
        seen.sort_unstable();
        seen.dedup();
        assert!(seen.len() >= 6, "row {y}: bars {seen:?}");
    }

    // Never wider than the picture.
    let full = pipeline.thumbnail(&plan.id, 4000).unwrap();
    assert_eq!((full.width, full.height), (1280, 720));
    let (_, info) = decode(&full.jpeg);
    assert_eq!((info.width, info.height), (1280, 720));
    assert!(matches!(
        pipeline.thumbnail(&plan.id, 0),
        Err(EngineError::Failed(_))
    ));

    pipeline.stop(&plan.id);
    match pipeline.thumbnail(&plan.id, 320) {
        Err(EngineError::Failed(why)) => {
            assert!(why.contains(&plan.id.to_string()), "{why}");
            assert!(why.contains("not running"), "{why}");
        }
        other => panic!("a stopped stream gave {other:?}"),
    }
}

#[test]
fn a_stream_without_a_picture_says_why_there_is_no_thumbnail() {
    // A network input that never delivers: the stream runs, pictureless.
    let mut codecs = codecs();
    codecs.network = Some(Box::new(|_open: NetworkOpen, stop, waiting| {
        waiting("input 'feed': no packets yet");
        while !stop() {
            thread::sleep(Duration::from_millis(10));
        }
        Err("stopped".into())
    }));
    let plan = common::stream_plan(
        StreamMode::Transcoder,
        udp_input(free_port()),
        Some(
            common::transcoder(1500, TranscoderRequest::default())
                .validate()
                .unwrap(),
        ),
        vec![udp_output(9)],
        None,
    );
    let mut pipeline = Pipeline::new(codecs);
    pipeline.start(&plan).unwrap();
    match pipeline.thumbnail(&plan.id, 320) {
        Err(EngineError::Failed(why)) => {
            assert_eq!(
                why,
                "stream 's' has no picture yet: its source has delivered no frame since it (re)started"
            );
        }
        other => panic!("a stream without a picture gave {other:?}"),
    }
    pipeline.stop(&plan.id);

    // Bypass decodes nothing: there is never a picture.
    let bypass = common::stream_plan(
        StreamMode::Bypass,
        udp_input(free_port()),
        None,
        vec![udp_output(9)],
        None,
    );
    let mut pipeline = running(&bypass);
    match pipeline.thumbnail(&bypass.id, 320) {
        Err(EngineError::Unavailable(why)) => assert!(why.contains("bypass"), "{why}"),
        other => panic!("a bypass stream gave {other:?}"),
    }
    pipeline.stop(&bypass.id);
}
