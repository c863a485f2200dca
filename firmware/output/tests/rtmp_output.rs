//! The RTMP output against a scripted RTMP server on 127.0.0.1 (built
//! from makara-rtmp's own chunk and AMF0 code): what it publishes and in
//! which order, a refusal by onStatus reaching the output's report with
//! the server's code and description, and a goodbye on close. nginx-rtmp
//! (tests/integration/test_rtmp.py) refuses by closing instead, so this
//! is where the typed refusals meet real sockets. Every wait is bounded.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use makara_config::{RetryPolicy, RtmpUrl};
use makara_media::{Clock90k, EncodedAudio, EncodedVideo, Pcr27M};
use makara_mpegts::mux::{MuxConfig, Muxer};
use makara_output::rtmp::Marking;
use makara_output::{RtmpSender, RtmpSettings, TS_PACKET_LEN};
use makara_rtmp::amf0::{self, Amf0Value};
use makara_rtmp::chunk::{message_type, ChunkReader, ChunkWriter, Message};

const WAIT: Duration = Duration::from_secs(10);

/// How the scripted server answers publish.
#[derive(Clone, Copy)]
enum Answer {
    Accept,
    BadName,
}

/// Accepts one connection and plays the server's part; sends every
/// message it hears from the publisher to the test.
fn server(answer: Answer) -> (u16, Receiver<Message>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket.set_read_timeout(Some(WAIT)).unwrap();
        let mut c0c1 = [0u8; 1537];
        socket.read_exact(&mut c0c1).unwrap();
        let mut reply = vec![3u8];
        reply.extend_from_slice(&[0u8; 1536]);
        reply.extend_from_slice(&c0c1[1..]);
        socket.write_all(&reply).unwrap();
        let mut c2 = [0u8; 1536];
        socket.read_exact(&mut c2).unwrap();
        let mut reader = ChunkReader::new();
        let mut writer = ChunkWriter::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = match socket.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            for message in reader.push(&buf[..n]).unwrap() {
                if let Some(reply) = answer_to(&message, answer) {
                    let mut out = Vec::new();
                    let payload = amf0::encode_all(&reply);
                    writer
                        .write(3, 0, message_type::COMMAND_AMF0, 0, &payload, &mut out)
                        .unwrap();
                    socket.write_all(&out).unwrap();
                }
                if tx.send(message).is_err() {
                    return;
                }
            }
        }
    });
    (port, rx)
}

fn command_name(message: &Message) -> Option<String> {
    if message.type_id != message_type::COMMAND_AMF0 && message.type_id != message_type::DATA_AMF0 {
        return None;
    }
    let values = amf0::decode_all(&message.payload).ok()?;
    values.first()?.as_str().map(str::to_string)
}

fn answer_to(message: &Message, answer: Answer) -> Option<Vec<Amf0Value>> {
    let name = command_name(message)?;
    let status = |level: &str, code: &str, description: &str| {
        vec![
            Amf0Value::string("onStatus"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
            Amf0Value::object([
                ("level", Amf0Value::string(level)),
                ("code", Amf0Value::string(code)),
                ("description", Amf0Value::string(description)),
            ]),
        ]
    };
    match name.as_str() {
        "connect" => Some(vec![
            Amf0Value::string("_result"),
            Amf0Value::Number(1.0),
            Amf0Value::object([("fmsVer", Amf0Value::string("FMS/3,0,1,123"))]),
            Amf0Value::object([("code", Amf0Value::string("NetConnection.Connect.Success"))]),
        ]),
        "createStream" => Some(vec![
            Amf0Value::string("_result"),
            Amf0Value::Number(4.0),
            Amf0Value::Null,
            Amf0Value::Number(1.0),
        ]),
        "publish" => Some(match answer {
            Answer::Accept => status("status", "NetStream.Publish.Start", "key is now published"),
            Answer::BadName => status("error", "NetStream.Publish.BadName", "Already publishing"),
        }),
        _ => None,
    }
}

fn settings(port: u16) -> RtmpSettings {
    RtmpSettings {
        name: "cdn".into(),
        url: RtmpUrl::parse("url", &format!("rtmp://127.0.0.1:{port}/live/key")).unwrap(),
        retry: RetryPolicy {
            limit: 0,
            delay_max_s: 1,
        },
        marking: Marking { tos: 0, ttl: 64 },
    }
}

/// Two seconds of H.264 (a key frame each second) and AAC from our muxer,
/// as 188-byte packets.
fn stream() -> Vec<[u8; TS_PACKET_LEN]> {
    let mut muxer = Muxer::new(MuxConfig::new(4_000_000).validate().unwrap(), Pcr27M(0));
    let sps: &[u8] = &[0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9, 0x40, 0x50];
    let pps: &[u8] = &[0x68, 0xEB, 0xE3, 0xCB];
    // AAC-LC, 48 kHz, stereo: a 7-byte ADTS header and two raw bytes.
    let adts = [0xFF, 0xF1, 0x4C, 0x80, 0x01, 0x3F, 0xFC, 0x21, 0x10];
    for n in 0..50u64 {
        let key = n % 25 == 0;
        let mut data = Vec::new();
        if key {
            for ps in [sps, pps] {
                data.extend_from_slice(&[0, 0, 0, 1]);
                data.extend_from_slice(ps);
            }
        }
        data.extend_from_slice(&[0, 0, 0, 1, if key { 0x65 } else { 0x41 }, 0x88, n as u8]);
        let dts = 90_000 + n * 3_600;
        muxer.push_video(&EncodedVideo {
            data,
            pts: Clock90k(dts),
            dts: Clock90k(dts),
            keyframe: key,
        });
        muxer.push_audio(&EncodedAudio {
            data: adts.to_vec(),
            pts: Clock90k(dts),
        });
    }
    let mut out = Vec::new();
    while muxer.queued_bytes() > 0 {
        let next = muxer.next_departure();
        muxer.fill_until(next, &mut out);
    }
    out.into_iter().map(|(_, p)| p).collect()
}

/// Sends the stream over and over until `done`, for at most [`WAIT`].
fn feed_until(sender: &mut RtmpSender, what: &str, mut done: impl FnMut() -> bool) {
    let packets = stream();
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < WAIT,
            "never {what}: {:?}",
            sender.status().waiting_reason()
        );
        for chunk in packets.chunks(50) {
            sender.send(chunk.iter());
            thread::sleep(Duration::from_millis(5));
            if done() {
                return;
            }
        }
    }
}

#[test]
fn a_publish_sends_metadata_then_sequence_headers_then_frames_and_says_goodbye() {
    let (port, heard) = server(Answer::Accept);
    let mut sender = RtmpSender::open(settings(port)).unwrap();
    let mut messages = Vec::new();
    let mut media = 0;
    feed_until(&mut sender, "published media", || {
        for m in heard.try_iter() {
            if matches!(m.type_id, message_type::VIDEO | message_type::AUDIO) {
                media += 1;
            }
            messages.push(m);
        }
        media >= 20
    });
    assert_eq!(sender.status().waiting_reason(), None);
    let commands: Vec<String> = messages.iter().filter_map(command_name).collect();
    assert_eq!(
        commands[..6],
        [
            "connect",
            "releaseStream",
            "FCPublish",
            "createStream",
            "publish",
            "@setDataFrame"
        ]
    );
    let after_metadata: Vec<&Message> = messages
        .iter()
        .skip_while(|m| m.type_id != message_type::DATA_AMF0)
        .skip(1)
        .collect();
    // The first video message is the AVC sequence header, key frame
    // first; the first audio one the AAC config.
    let video: Vec<&&Message> = after_metadata
        .iter()
        .filter(|m| m.type_id == message_type::VIDEO)
        .collect();
    assert_eq!(&video[0].payload[..2], &[0x17, 0x00]);
    assert_eq!(&video[1].payload[..2], &[0x17, 0x01]);
    let audio: Vec<&&Message> = after_metadata
        .iter()
        .filter(|m| m.type_id == message_type::AUDIO)
        .collect();
    assert_eq!(audio[0].payload, [0xAF, 0x00, 0x11, 0x90]);
    assert_eq!(&audio[1].payload[..2], &[0xAF, 0x01]);
    assert!(video.iter().all(|m| m.stream_id == 1));

    drop(sender);
    let deadline = Instant::now() + WAIT;
    let mut goodbye = Vec::new();
    while Instant::now() < deadline && goodbye.len() < 2 {
        if let Ok(m) = heard.recv_timeout(Duration::from_millis(100)) {
            goodbye.extend(
                command_name(&m).filter(|n| n.contains("Unpublish") || n == "deleteStream"),
            );
        }
    }
    assert_eq!(goodbye, ["FCUnpublish", "deleteStream"]);
}

#[test]
fn a_refusal_by_onstatus_reaches_the_report_with_the_servers_words() {
    let (port, _heard) = server(Answer::BadName);
    let mut sender = RtmpSender::open(settings(port)).unwrap();
    let status = sender.status();
    feed_until(&mut sender, "reported the refusal", || {
        status
            .waiting_reason()
            .is_some_and(|e| e.contains("retrying"))
    });
    let error = status.waiting_reason().unwrap();
    assert!(
        error.starts_with(&format!(
            "rtmp://127.0.0.1:{port}/live: publish refused: NetStream.Publish.BadName \
             (Already publishing); retrying in 1 s"
        )),
        "{error}"
    );
}
