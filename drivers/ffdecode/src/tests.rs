//! Decoding real streams made by the ffmpeg CLI, sent to 127.0.0.1 only.
//! ffmpeg is required. At most [`SENDERS_AT_ONCE`] tests run a sender at a
//! time, so that they do not starve each other of the machine's cores
//! (each sender is a small ultrafast encode; together they used 3 s of CPU
//! in 40 s, so a few at once leave the cores idle still); every wait is
//! bounded and every child is killed when its guard is dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use makara_capture::{monotonic_now, LiveCapture, SLATE_BACKGROUND};
use makara_config::{InputRequest, InputType};
use makara_framering::Frame;
use makara_media::{MonotonicNs, PixelFormat};

use super::*;

/// How many tests may run a sender at once.
const SENDERS_AT_ONCE: usize = 3;

static SENDERS: Mutex<usize> = Mutex::new(0);
static SENDER_DONE: Condvar = Condvar::new();

/// A test's turn to run a sender, given back when dropped.
struct Turn;

impl Drop for Turn {
    fn drop(&mut self) {
        *SENDERS.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        SENDER_DONE.notify_one();
    }
}

/// Waits until fewer than [`SENDERS_AT_ONCE`] senders run.
fn turn() -> Turn {
    let mut running = SENDERS.lock().unwrap_or_else(|e| e.into_inner());
    while *running >= SENDERS_AT_ONCE {
        running = SENDER_DONE.wait(running).unwrap_or_else(|e| e.into_inner());
    }
    *running += 1;
    Turn
}

/// A child process killed and reaped when dropped.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

/// A TCP port nobody listens on (until a test's server takes it).
fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// H.264 with B-frames, a key frame a second at 25 fps, and AAC sound.
const H264_B_FRAMES_AAC: [&str; 10] = [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-bf",
    "2",
    "-g",
    "25",
    "-c:a",
    "aac",
];

/// ffmpeg sending, at its own pace, what lavfi makes of `source`, then
/// treated by `more` (further inputs, codecs, the muxer and where to).
fn live_ffmpeg(source: &str, more: &[&str]) -> Kill {
    let mut args = vec![
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        source,
    ];
    args.extend(more);
    let child = Command::new("ffmpeg")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("ffmpeg is required for these tests (apt-get install ffmpeg)");
    Kill(child)
}

/// ffmpeg sending a live test picture (testsrc2) and a 1 kHz sine,
/// encoded with `codec_args`, as a transport stream to 127.0.0.1:`port`.
fn ts_sender(port: u16, size: &str, codec_args: &[&str]) -> Kill {
    let video = format!("testsrc2=size={size}:rate=25");
    let mut more = vec!["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"];
    more.extend(codec_args);
    let url = format!("udp://127.0.0.1:{port}?pkt_size=1316");
    more.extend(["-f", "mpegts", &url]);
    live_ffmpeg(&video, &more)
}

/// ffmpeg sending a 320x240 test picture at 10 fps as MJPEG, muxed by
/// `muxer_args` (the format and where to).
fn mjpeg_sender(muxer_args: &[&str]) -> Kill {
    let mut more = vec!["-c:v", "mjpeg", "-q:v", "5"];
    more.extend(muxer_args);
    live_ffmpeg("testsrc2=size=320x240:rate=10", &more)
}

fn udp_input(port: u16) -> InputConfig {
    InputRequest {
        url: Some(format!("udp://127.0.0.1:{port}")),
        stream_type: Some(InputType::Mpeg2Ts),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

fn url_input(url: &str, stream_type: InputType) -> InputConfig {
    InputRequest {
        url: Some(url.into()),
        stream_type: Some(stream_type),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

/// Opens `input`, giving up after `limit`; the capture or the error, and
/// every waiting reason given meanwhile.
fn open_within(
    input: InputConfig,
    limit: Duration,
) -> (Result<Box<dyn LiveCapture>, DecodeError>, Vec<String>) {
    let deadline = Instant::now() + limit;
    let mut reasons = Vec::new();
    let request = NetworkOpen {
        input,
        origin: monotonic_now(),
        tap: None,
    };
    let result = open(request, &|| Instant::now() > deadline, &mut |r| {
        reasons.push(r.to_string())
    });
    (result, reasons)
}

/// Opens `input` within 15 s: the capture, or a panic with every waiting
/// reason given meanwhile.
fn open_capture(input: InputConfig) -> Box<dyn LiveCapture> {
    let (capture, reasons) = open_within(input, Duration::from_secs(15));
    capture.unwrap_or_else(|e| panic!("{e}; reasons {reasons:?}"))
}

/// The waiting reason `open` was stopped with; a panic, with the reasons
/// given, if it ended otherwise.
fn stopped_waiting(
    result: Result<Box<dyn LiveCapture>, DecodeError>,
    reasons: &[String],
) -> String {
    let Err(DecodeError::Stopped { waiting }) = result else {
        panic!("not stopped: {reasons:?}");
    };
    waiting
}

/// What a test keeps of a frame: holding the frames themselves would
/// keep the pool's slots from the capture.
#[derive(Debug, Clone, Copy)]
struct Seen {
    pts: MonotonicNs,
    slate: bool,
}

impl Seen {
    fn of(frame: &Frame) -> Seen {
        Seen {
            pts: frame.pts(),
            slate: is_slate(frame),
        }
    }
}

/// The frames that come within `span`.
fn frames_for(capture: &mut Box<dyn LiveCapture>, span: Duration) -> Vec<Seen> {
    let end = Instant::now() + span;
    let mut frames = Vec::new();
    while Instant::now() < end {
        if let Some(frame) = capture.next_frame(Duration::from_millis(100)).unwrap() {
            frames.push(Seen::of(&frame));
        }
    }
    frames
}

/// Whether a frame is the slate: its luma mostly the slate's grey.
fn is_slate(frame: &Frame) -> bool {
    let format = frame.format();
    let luma = &frame.data()[..(format.width * format.height) as usize];
    let grey = luma.iter().filter(|&&y| y == SLATE_BACKGROUND.y).count();
    grey * 10 > luma.len() * 9
}

fn assert_strictly_increasing(frames: &[Seen]) {
    for pair in frames.windows(2) {
        assert!(
            pair[1].pts > pair[0].pts,
            "pts {:?} then {:?}",
            pair[0].pts,
            pair[1].pts
        );
    }
}

/// A stream of `codec_args` decodes to I420 frames of `size` at 25 fps,
/// about 25 a second, in order.
fn decodes(size: (u32, u32), codec_args: &[&str]) -> Box<dyn LiveCapture> {
    let port = free_udp_port();
    let _sender = ts_sender(port, &format!("{}x{}", size.0, size.1), codec_args);
    let mut capture = open_capture(udp_input(port));
    let format = capture.format();
    assert_eq!((format.width, format.height), size);
    assert_eq!(format.pixel_format, PixelFormat::I420);
    assert_eq!((format.fps_num, format.fps_den), (25, 1));
    let frames = frames_for(&mut capture, Duration::from_secs(2));
    assert!(
        (40..=60).contains(&frames.len()),
        "{} frames in 2 s",
        frames.len()
    );
    assert_strictly_increasing(&frames);
    assert!(frames.iter().all(|f| !f.slate), "pictures, not the slate");
    let report = capture.report().unwrap();
    assert!(report.receiving, "{report:?}");
    assert!(report.packets > 100, "{report:?}");
    capture
}

#[test]
fn h264_with_b_frames_and_aac_sound() {
    let _turn = turn();
    let mut capture = decodes((640, 360), &H264_B_FRAMES_AAC);
    // The sound: the sine, once its time has come.
    let mut sound = capture.audio(MonotonicNs(0));
    let mut chunk = vec![0i16; 1_024 * 2];
    let mut loud = 0;
    let end = Instant::now() + Duration::from_secs(3);
    let mut last_first = None;
    while Instant::now() < end && loud < 20 {
        let _ = capture.next_frame(Duration::from_millis(20));
        while let Some(info) = sound.poll_samples(monotonic_now(), &mut chunk).unwrap() {
            if let Some(last) = last_first {
                assert_eq!(info.first_sample, last + 1_024, "continuous");
            }
            last_first = Some(info.first_sample);
            if chunk.iter().map(|s| i32::from(*s).abs()).max() > Some(1_000) {
                loud += 1;
            }
        }
    }
    assert!(loud >= 20, "{loud} chunks with the sine");
    // Dropping the capture stops its threads promptly.
    let started = Instant::now();
    drop(sound);
    drop(capture);
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn hevc_and_mpeg_audio() {
    let _turn = turn();
    decodes(
        (352, 288),
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error:keyint=25",
            "-c:a",
            "mp2",
        ],
    );
}

#[test]
fn mpeg2_video() {
    let _turn = turn();
    decodes(
        (720, 576),
        &[
            "-c:v",
            "mpeg2video",
            "-g",
            "12",
            "-b:v",
            "4M",
            "-c:a",
            "mp2",
        ],
    );
}

/// Passthru: every received packet is also handed to the tap, unchanged;
/// a tap nobody empties drops batches without holding up the pictures.
#[test]
fn the_tap_gets_every_packet_and_never_holds_up_decoding() {
    let _turn = turn();
    let port = free_udp_port();
    let _sender = ts_sender(port, "320x240", &["-c:v", "mpeg2video", "-c:a", "mp2"]);
    let (tap, packets) = std::sync::mpsc::sync_channel(4);
    let deadline = Instant::now() + Duration::from_secs(15);
    let request = NetworkOpen {
        input: udp_input(port),
        origin: monotonic_now(),
        tap: Some(tap),
    };
    let mut capture = open(request, &|| Instant::now() > deadline, &mut |_| {}).unwrap();
    // Nobody reads the tap for a second: pictures still come.
    let frames = frames_for(&mut capture, Duration::from_secs(1));
    assert!(frames.len() >= 20, "{} frames", frames.len());
    let mut received = 0;
    let end = Instant::now() + Duration::from_secs(1);
    while Instant::now() < end {
        if let Ok(batch) = packets.recv_timeout(Duration::from_millis(100)) {
            assert!(batch.iter().all(|p: &[u8; 188]| p[0] == 0x47));
            received += batch.len();
        }
        let _ = capture.next_frame(Duration::ZERO);
    }
    assert!(received > 100, "{received} packets");
    let report = capture.report().unwrap();
    assert!(report.packets as usize >= received, "{report:?}");
}

/// Pictures and sound keep the input's sync: a picture that flashes white
/// once a second and a tone burst starting with it (ffmpeg makes both
/// from the same clock, H.264 and AAC) come out of the capture stamped
/// within 5 ms of each other (the AAC's own smearing of the onset
/// included).
#[test]
fn pictures_and_sound_keep_their_sync() {
    let _turn = turn();
    let port = free_udp_port();
    let url = format!("udp://127.0.0.1:{port}?pkt_size=1316");
    let mut more = vec![
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='if(lt(mod(t\\,1)\\,0.1)\\,0.5*cos(2*PI*1000*t)\\,0)':s=48000",
    ];
    more.extend(H264_B_FRAMES_AAC);
    more.extend(["-b:a", "192k", "-f", "mpegts", &url]);
    let _sender = live_ffmpeg(
        "color=c=black:s=320x240:r=25,format=gray,\
         geq=lum='if(lt(mod(T\\,1)\\,0.02)\\,235\\,16)',format=yuv420p",
        &more,
    );
    let mut capture = open_capture(udp_input(port));
    let mut sound = capture.audio(MonotonicNs(0));
    let mut flashes = Vec::new();
    let mut onsets = Vec::new();
    let mut chunk = vec![0i16; 480 * 2];
    let mut loud = false;
    let end = Instant::now() + Duration::from_secs(6);
    while Instant::now() < end {
        if let Some(frame) = capture.next_frame(Duration::from_millis(10)).unwrap() {
            let luma = &frame.data()[..320 * 240];
            let mean = luma.iter().map(|&y| u64::from(y)).sum::<u64>() / luma.len() as u64;
            if mean > 128 {
                flashes.push(frame.pts());
            }
        }
        while let Some(info) = sound.poll_samples(monotonic_now(), &mut chunk).unwrap() {
            for (k, pair) in chunk.chunks_exact(2).enumerate() {
                let now_loud = i32::from(pair[0]).abs() > 8_000;
                if now_loud && !loud {
                    onsets.push(MonotonicNs(info.pts.0 + k as u64 * 1_000_000_000 / 48_000));
                }
                // Quiet again only after the 100 ms burst has ended.
                if now_loud {
                    loud = true;
                } else if i32::from(pair[0]).abs() < 100
                    && onsets.last().is_some_and(|o| {
                        info.pts.0 + k as u64 * 1_000_000_000 / 48_000 > o.0 + 150_000_000
                    })
                {
                    loud = false;
                }
            }
        }
    }
    assert!(flashes.len() >= 3, "{} flashes", flashes.len());
    // The first second's sound may come before the hold has grown to
    // what this sender needs (it sends 17 AAC frames per PES packet).
    let settled = MonotonicNs(flashes[0].0 + 1_500_000_000);
    let mut matched = 0;
    // The last flashes' sound may still be held back when the test ends.
    let heard_until = onsets.last().copied().unwrap_or_default();
    for flash in flashes
        .iter()
        .filter(|f| **f > settled && f.0 <= heard_until.0 + 5_000_000)
    {
        let Some(onset) = onsets.iter().min_by_key(|o| o.0.abs_diff(flash.0)) else {
            continue;
        };
        let offset_ms = (onset.0 as f64 - flash.0 as f64) / 1e6;
        assert!(
            offset_ms.abs() <= 5.0,
            "sound {offset_ms:.2} ms from picture"
        );
        matched += 1;
    }
    assert!(
        matched >= 2,
        "{matched} flashes with their burst; onsets {onsets:?}"
    );
}

/// The sender stops: the slate follows within the loss timeout, at the
/// frame rate, stamps continuing; the report says why. The sender comes
/// back: pictures again within 2 s, stamps still continuing.
#[test]
fn slate_on_loss_and_pictures_again_on_return() {
    let _turn = turn();
    let port = free_udp_port();
    let h264 = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-c:a",
        "aac",
    ];
    let sender = ts_sender(port, "320x240", &h264);
    let mut capture = open_capture(udp_input(port));
    let mut frames = frames_for(&mut capture, Duration::from_secs(1));
    drop(sender);
    frames.extend(frames_for(&mut capture, Duration::from_secs(2)));
    let report = capture.report().unwrap();
    assert!(!report.receiving, "{report:?}");
    assert!(report.last_error.is_some(), "{report:?}");
    let slates = frames.iter().filter(|f| f.slate).count();
    // 2 s less the loss timeout (300 ms) and the decoder's last pictures.
    assert!((30..=50).contains(&slates), "{slates} slate frames");
    assert!(frames.last().is_some_and(|f| f.slate));

    let back = Instant::now();
    let _sender = ts_sender(port, "320x240", &h264);
    let mut picture_again = None;
    while back.elapsed() < Duration::from_secs(6) {
        if let Some(frame) = capture.next_frame(Duration::from_millis(100)).unwrap() {
            let seen = Seen::of(&frame);
            if !seen.slate && picture_again.is_none() {
                picture_again = Some(back.elapsed());
            }
            frames.push(seen);
            if picture_again.is_some_and(|t| back.elapsed() > t + Duration::from_millis(500)) {
                break;
            }
        }
    }
    let again = picture_again.expect("pictures after the sender's return");
    // ffmpeg itself takes a moment to start; the stream's first key frame
    // comes at once.
    assert!(
        again < Duration::from_secs(4),
        "pictures again after {again:?}"
    );
    assert!(capture.report().unwrap().receiving);
    assert_strictly_increasing(&frames);
    // Continuous: no gap in the stamps longer than the loss timeout.
    for pair in frames.windows(2) {
        let gap = pair[1].pts.0 - pair[0].pts.0;
        assert!(gap <= 400_000_000, "a {gap} ns gap");
    }
}

#[test]
fn a_video_codec_not_decoded_is_the_waiting_reason() {
    let _turn = turn();
    let port = free_udp_port();
    let _sender = ts_sender(port, "320x240", &["-c:v", "mpeg4", "-c:a", "mp2"]);
    let (result, reasons) = open_within(udp_input(port), Duration::from_secs(4));
    let waiting = stopped_waiting(result, &reasons);
    assert!(
        waiting.contains("MPEG-4 Visual (stream_type 0x10), which this appliance does not decode"),
        "{waiting}"
    );
    assert!(reasons.contains(&waiting), "{reasons:?}");
}

/// Datagrams of garbage: the capture waits with a reason and ends cleanly.
#[test]
fn garbage_is_a_reason_not_a_crash() {
    let port = free_udp_port();
    let sender = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let end = Instant::now() + Duration::from_millis(2_500);
        while Instant::now() < end {
            let datagram: Vec<u8> = (0..1_316)
                .map(|k| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Every 188th byte a sync byte, to look like packets.
                    if k % 188 == 0 {
                        0x47
                    } else {
                        seed as u8
                    }
                })
                .collect();
            let _ = socket.send_to(&datagram, ("127.0.0.1", port));
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let (result, reasons) = open_within(udp_input(port), Duration::from_secs(2));
    sender.join().unwrap();
    let waiting = stopped_waiting(result, &reasons);
    assert!(waiting.contains(&format!("127.0.0.1:{port}")), "{waiting}");
}

#[test]
fn no_sender_is_the_waiting_reason_and_a_stop_ends_open() {
    let port = free_udp_port();
    let started = Instant::now();
    let (result, reasons) = open_within(udp_input(port), Duration::from_millis(1_500));
    assert!(started.elapsed() < Duration::from_secs(3));
    let waiting = stopped_waiting(result, &reasons);
    assert!(waiting.contains(&format!("127.0.0.1:{port}")), "{waiting}");
    assert!(!reasons.is_empty());
}

/// A one-thread RTSP server that answers every request with `status`.
fn rtsp_refuser(status: &'static str) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let mut cseq = String::from("1");
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let text = line.trim_end().to_string();
                line.clear();
                if let Some(value) = text.strip_prefix("CSeq:") {
                    cseq = value.trim().to_string();
                } else if text.is_empty() {
                    let reply = format!("RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n\r\n");
                    if writer.write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    (port, server)
}

#[test]
fn rtsp_404_and_401_name_the_url_and_the_status() {
    for (status, expected) in [
        ("404 Not Found", "404 Not Found"),
        ("401 Unauthorized", "401 Unauthorized"),
    ] {
        let (port, _server) = rtsp_refuser(status);
        let url = format!("rtsp://127.0.0.1:{port}/live");
        let (result, reasons) =
            open_within(url_input(&url, InputType::Rtsp), Duration::from_secs(3));
        assert!(result.is_err());
        let wanted = format!("RTSP {url}: {expected}");
        assert!(
            reasons.iter().any(|r| r.starts_with(&wanted)),
            "{wanted} not in {reasons:?}"
        );
    }
}

#[test]
fn a_dead_rtsp_server_is_a_reason_not_a_hang() {
    let port = free_tcp_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let started = Instant::now();
    let (result, reasons) = open_within(url_input(&url, InputType::Rtsp), Duration::from_secs(2));
    assert!(result.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&url) && r.contains("connection refused")),
        "{reasons:?}"
    );
}

/// GStreamer's RTSP server (python3-gi) on 127.0.0.1: a live 320x240 H.264
/// picture, at /tcp over interleaved TCP only and at /udp over RTP/UDP only.
const RTSP_SERVER: &str = r#"
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1])
pipeline = ("( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1"
            " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25"
            " ! rtph264pay name=pay0 pt=96 config-interval=1 )")
only = {"/tcp": GstRtsp.RTSPLowerTrans.TCP, "/udp": GstRtsp.RTSPLowerTrans.UDP}
for mount, lower in only.items():
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(pipeline)
    factory.set_shared(True)
    factory.set_protocols(lower)
    server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    sys.exit("cannot listen")
print("READY", flush=True)
GLib.MainLoop().run()
"#;

#[test]
fn rtsp_over_tcp_and_over_udp() {
    let _turn = turn();
    let port = free_tcp_port();
    let mut server = Command::new("/usr/bin/python3")
        .args(["-c", RTSP_SERVER, &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with GStreamer's RTSP server (python3-gi) is required");
    let stdout = server.stdout.take().unwrap();
    let _server = Kill(server);
    let mut ready = String::new();
    BufReader::new(stdout).read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "READY");
    for path in ["tcp", "udp", "tcp?rtsp_transport=tcp"] {
        let url = format!("rtsp://127.0.0.1:{port}/{path}");
        let (capture, reasons) =
            open_within(url_input(&url, InputType::Rtsp), Duration::from_secs(15));
        let mut capture = capture.unwrap_or_else(|e| panic!("{url}: {e}; reasons {reasons:?}"));
        let format = capture.format();
        assert_eq!((format.width, format.height), (320, 240), "{url}");
        assert_eq!((format.fps_num, format.fps_den), (25, 1), "{url}");
        let frames = frames_for(&mut capture, Duration::from_secs(1));
        assert!(frames.len() >= 15, "{url}: {} frames", frames.len());
        assert!(frames.iter().all(|f| !f.slate), "{url}");
        assert_strictly_increasing(&frames);
        let report = capture.report().unwrap();
        assert!(report.receiving && report.packets > 0, "{url}: {report:?}");
    }
}

#[test]
fn mjpeg_over_http() {
    let _turn = turn();
    let port = free_tcp_port();
    let url = format!("http://127.0.0.1:{port}/cam.mjpg");
    let _server = mjpeg_sender(&["-f", "mpjpeg", "-listen", "1", &url]);
    let mut capture = open_capture(url_input(&url, InputType::MjpegRaw));
    let format = capture.format();
    assert_eq!((format.width, format.height), (320, 240));
    let frames = frames_for(&mut capture, Duration::from_secs(2));
    assert!(frames.len() >= 10, "{} frames", frames.len());
    assert_strictly_increasing(&frames);
}

#[test]
fn raw_mjpeg_over_udp() {
    let _turn = turn();
    let port = free_udp_port();
    let url = format!("udp://127.0.0.1:{port}");
    let _sender = mjpeg_sender(&["-f", "mjpeg", &format!("{url}?pkt_size=1316")]);
    let mut capture = open_capture(url_input(&url, InputType::MjpegRaw));
    assert_eq!(
        (capture.format().width, capture.format().height),
        (320, 240)
    );
    let frames = frames_for(&mut capture, Duration::from_secs(2));
    assert!(frames.len() >= 10, "{} frames", frames.len());
    assert!(frames.iter().all(|f| !f.slate));
}

#[test]
fn an_input_that_is_not_from_the_network_is_refused() {
    let input = InputRequest {
        stream_type: Some(InputType::TestPattern),
        ..InputRequest::default()
    }
    .validate()
    .unwrap();
    let (result, _) = open_within(input, Duration::from_secs(1));
    assert!(matches!(result, Err(DecodeError::NotNetwork { .. })));
}

/// A file through the TS path as fast as it is taken: every picture in
/// order (the ones held for B-frame reordering too), none dropped while
/// the reader is slow, stamped on the file's own timeline; then the
/// capture ends.
#[test]
fn a_file_gives_every_picture_on_its_own_timeline_and_then_ends() {
    let dir = makara_test_support::TestDir::new("ffdecode-file");
    let path = dir.join("in.ts");
    let made = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x240:rate=25")
        .args(["-frames:v", "60", "-c:v", "libx264", "-preset", "veryfast"])
        .args([
            "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-f", "mpegts",
        ])
        .arg(&path)
        .stdin(Stdio::null())
        .status()
        .expect("ffmpeg is required for these tests (apt-get install ffmpeg)");
    assert!(made.success());
    assert_eq!(ts_file_pictures(&path).unwrap(), 60);

    let mut capture = open_ts_file(&path, monotonic_now(), &|| false, &mut |_| {}).unwrap();
    let format = capture.format();
    assert_eq!((format.width, format.height), (320, 240));
    assert_eq!((format.fps_num, format.fps_den), (25, 1));
    // A slow reader: the decoder waits for it rather than drop a picture.
    std::thread::sleep(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut frames = Vec::new();
    let end = loop {
        assert!(Instant::now() < deadline, "{} frames, no end", frames.len());
        match capture.next_frame(Duration::from_millis(200)) {
            Ok(Some(frame)) => frames.push((frame.sequence(), frame.pts())),
            Ok(None) => {}
            Err(e) => break e.to_string(),
        }
    };
    assert!(end.contains("the decoder stopped"), "{end}");
    let sequences: Vec<u64> = frames.iter().map(|f| f.0).collect();
    assert_eq!(sequences, (0..60).collect::<Vec<u64>>());
    for pair in frames.windows(2) {
        assert_eq!(pair[1].1 .0 - pair[0].1 .0, 40_000_000, "{pair:?}");
    }
    let report = capture.report().unwrap();
    assert!(report.receiving && report.packets > 0, "{report:?}");
    assert_eq!(report.continuity_errors, 0);
}
