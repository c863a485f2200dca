//! The RTSP server's request path (`makara-rtsp`), as a connection sees
//! it: fuzzed bytes are read as requests and `$` frames one after
//! another (`interleaved::parse`), each request answered by one
//! connection's state machine (`session::Connection`) with a stream
//! described or not and a login required or not, each frame read as a
//! client's RTCP. The first byte chooses the server's situation.
//! Checked: nothing panics; every parse that succeeds consumes bytes and
//! stays within the head and body bounds; every answer is a well-formed
//! RTSP/1.0 response whose CSeq, when the request had one, is echoed.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use makara_rtsp::auth::{ha1, AuthPolicy, Credentials, Verifier};
use makara_rtsp::interleaved::{self, Incoming};
use makara_rtsp::request::{MAX_BODY, MAX_HEAD};
use makara_rtsp::session::malformed;
use makara_rtsp::{rtcp, transport, AudioFormat, Connection, Context, Description, VideoFormat};

struct One;

impl Verifier for One {
    fn check_password(&self, user: &str, password: &str) -> bool {
        (user, password) == ("viewer", "pass")
    }

    fn digest_ha1(&self, user: &str, realm: &str) -> Option<[u8; 16]> {
        (user == "viewer").then(|| ha1(user, realm, "pass"))
    }
}

fuzz_target!(|data: &[u8]| {
    let [situation, body @ ..] = data else {
        return;
    };
    let mut rest = body;
    let description = Description {
        video: Some(VideoFormat::H264 {
            sps: vec![0x67, 0x64, 0x00, 0x1f],
            pps: vec![0x68, 0xeb],
        }),
        audio: Some(AudioFormat::Aac {
            sample_rate: 48_000,
            channels: 2,
            config: vec![0x11, 0x90],
        }),
    };
    let auth = match situation & 2 {
        0 => AuthPolicy::Open,
        _ => AuthPolicy::Required {
            realm: "Makara".into(),
            verifier: Arc::new(One),
        },
    };
    let mut connection = Connection::new("0123abcd".into());
    let mut counter = 0u32;
    let mut random = || {
        counter = counter.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        counter
    };
    while !rest.is_empty() {
        let (incoming, used) = match interleaved::parse(rest) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => break,
            Err(error) => {
                check_response(&malformed(&error), None);
                break;
            }
        };
        assert!(used > 0 && used <= rest.len());
        match incoming {
            Incoming::Frame { data, .. } => {
                let _ = rtcp::parse_client(&data);
            }
            Incoming::Request(request) => {
                assert!(used <= MAX_HEAD + 4 + MAX_BODY);
                if let Some(value) = request.header("Authorization") {
                    let _ = Credentials::parse(value);
                }
                if let Some(value) = request.header("Transport") {
                    let _ = transport::choose(value, 0);
                }
                let mut ctx = Context {
                    path: "live",
                    title: "fuzz",
                    description: (situation & 1 == 1).then_some(&description),
                    unavailable: "no key frame yet",
                    auth: &auth,
                    server_ports: Some((6970, 6971)),
                    media_time: u64::from(*situation) << 30,
                    local_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    sdp_session_id: 1,
                    timeout_s: 60,
                    random: &mut random,
                };
                let handled = connection.handle(&request, &mut ctx);
                check_response(&handled.response, request.cseq());
            }
        }
        rest = &rest[used..];
    }
});

fn check_response(response: &makara_rtsp::Response, cseq: Option<&str>) {
    assert!((200..600).contains(&response.status));
    let mut bytes = Vec::new();
    response.write(&mut bytes);
    assert!(bytes.starts_with(b"RTSP/1.0 "));
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    // No header value can break a line.
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    assert!(head.split("\r\n").all(|line| !line.contains(['\r', '\n'])));
    if let Some(cseq) = cseq {
        assert_eq!(response.get("CSeq"), Some(cseq));
    }
}
