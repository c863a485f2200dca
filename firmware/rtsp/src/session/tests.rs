use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use super::*;
use crate::auth::{ha1, Verifier};
use crate::request;
use crate::sdp::{AudioFormat, VideoFormat};

fn description() -> Description {
    Description {
        video: Some(VideoFormat::H264 {
            sps: vec![0x67, 0x64, 0x00, 0x1f],
            pps: vec![0x68, 0xeb],
        }),
        audio: Some(AudioFormat::Aac {
            sample_rate: 48_000,
            channels: 2,
            config: vec![0x11, 0x90],
        }),
    }
}

/// A server with a counter for randomness, so that every answer is
/// known in advance.
struct Server {
    description: Option<Description>,
    auth: AuthPolicy,
    counter: u32,
    connection: Connection,
}

impl Server {
    fn new() -> Server {
        Server {
            description: Some(description()),
            auth: AuthPolicy::Open,
            counter: 0,
            connection: Connection::new("c0ffee".into()),
        }
    }

    fn send(&mut self, text: &str) -> Handled {
        let (request, _) = request::parse(text.as_bytes()).unwrap().unwrap();
        let counter = &mut self.counter;
        let mut random = || {
            *counter += 1;
            *counter * 0x1111
        };
        let mut ctx = Context {
            path: "live",
            title: "Studio",
            description: self.description.as_ref(),
            unavailable: "no key frame yet",
            auth: &self.auth,
            server_ports: Some((6970, 6971)),
            media_time: 90_000,
            local_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            sdp_session_id: 1,
            timeout_s: 60,
            random: &mut random,
        };
        self.connection.handle(&request, &mut ctx)
    }

    fn bytes(&mut self, text: &str) -> String {
        let mut out = Vec::new();
        self.send(text).response.write(&mut out);
        String::from_utf8(out).unwrap()
    }
}

const SERVER: &str = concat!("Server: Makara/", env!("CARGO_PKG_VERSION"), "\r\n");

#[test]
fn options_golden() {
    let mut server = Server::new();
    assert_eq!(
        server.bytes("OPTIONS rtsp://127.0.0.1:8554/live RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
        format!("RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: {PUBLIC}\r\n{SERVER}\r\n")
    );
}

#[test]
fn a_udp_client_from_describe_to_teardown() {
    let mut server = Server::new();
    let describe = server.send("DESCRIBE rtsp://127.0.0.1:8554/live RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    assert_eq!(describe.response.status, 200);
    assert_eq!(
        describe.response.get("Content-Base"),
        Some("rtsp://127.0.0.1:8554/live/")
    );
    assert_eq!(
        describe.response.get("Content-Type"),
        Some("application/sdp")
    );
    let sdp = String::from_utf8(describe.response.body).unwrap();
    assert!(sdp.contains("a=control:trackID=0\r\n") && sdp.contains("a=control:trackID=1\r\n"));

    let setup = server.bytes(
        "SETUP rtsp://127.0.0.1:8554/live/trackID=0 RTSP/1.0\r\nCSeq: 3\r\n\
         Transport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\n\r\n",
    );
    // Randomness 1..5: ssrc 0x1111, sequence 0x2222, offset 0x3333,
    // session id 0x4444 0x5555.
    assert_eq!(
        setup,
        format!(
            "RTSP/1.0 200 OK\r\nCSeq: 3\r\n\
             Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=00001111;mode=play\r\n\
             Session: 0000444400005555;timeout=60\r\n{SERVER}\r\n"
        )
    );
    let setup = server.send(
        "SETUP rtsp://127.0.0.1:8554/live/trackID=1 RTSP/1.0\r\nCSeq: 4\r\n\
         Transport: RTP/AVP/UDP;unicast;client_port=5002-5003\r\nSession: 0000444400005555\r\n\r\n",
    );
    assert_eq!(setup.response.status, 200);

    let play = server.send(
        "PLAY rtsp://127.0.0.1:8554/live/ RTSP/1.0\r\nCSeq: 5\r\nSession: 0000444400005555\r\n\
         Range: npt=0.000-\r\n\r\n",
    );
    assert_eq!(play.response.status, 200);
    // Video: 90000 + 0x3333; audio (48 kHz, randomness 6..8: sequence
    // 0x7777, offset 0x8888): 48000 + 0x8888.
    assert_eq!(
        play.response.get("RTP-Info"),
        Some(
            format!(
                "url=rtsp://127.0.0.1:8554/live/trackID=0;seq={};rtptime={},\
                 url=rtsp://127.0.0.1:8554/live/trackID=1;seq={};rtptime={}",
                0x2222,
                90_000 + 0x3333,
                0x7777,
                48_000 + 0x8888
            )
            .as_str()
        )
    );
    let Some(Event::Play { tracks }) = play.event else {
        panic!("no play event");
    };
    assert_eq!(tracks.len(), 2);
    assert_eq!(
        tracks[0].transport,
        Transport::Udp {
            rtp_port: 5000,
            rtcp_port: 5001
        }
    );
    assert_eq!((tracks[1].payload_type, tracks[1].clock_rate), (97, 48_000));
    assert!(server.connection.is_playing());

    let alive = server.send(
        "GET_PARAMETER rtsp://127.0.0.1:8554/live/ RTSP/1.0\r\nCSeq: 6\r\nSession: 0000444400005555\r\n\r\n",
    );
    assert_eq!((alive.response.status, alive.event), (200, None));
    let pause = server.send(
        "PAUSE rtsp://127.0.0.1:8554/live/ RTSP/1.0\r\nCSeq: 7\r\nSession: 0000444400005555\r\n\r\n",
    );
    assert_eq!(
        (pause.response.status, pause.event),
        (200, Some(Event::Pause))
    );
    let teardown = server.send(
        "TEARDOWN rtsp://127.0.0.1:8554/live/ RTSP/1.0\r\nCSeq: 8\r\nSession: 0000444400005555\r\n\r\n",
    );
    assert_eq!(
        (teardown.response.status, teardown.event),
        (200, Some(Event::Teardown))
    );
    assert_eq!(server.connection.session_id(), None);
}

#[test]
fn an_interleaved_setup() {
    let mut server = Server::new();
    let setup = server.send(
        "SETUP rtsp://h/live/trackID=1 RTSP/1.0\r\nCSeq: 1\r\n\
         Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n",
    );
    assert_eq!(
        setup.response.get("Transport"),
        Some("RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=00001111;mode=play")
    );
}

#[test]
fn errors_by_status() {
    let mut server = Server::new();
    let status = |server: &mut Server, text: &str| server.send(text).response.status;
    assert_eq!(
        status(
            &mut server,
            "DESCRIBE rtsp://h/other RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        ),
        404
    );
    assert_eq!(
        status(
            &mut server,
            "DESCRIBE rtsp://h/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        ),
        404
    );
    assert_eq!(status(&mut server, "SETUP rtsp://h/live/trackID=7 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=1-2\r\n\r\n"), 404);
    assert_eq!(
        status(
            &mut server,
            "PLAY rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        ),
        455
    );
    assert_eq!(
        status(
            &mut server,
            "PAUSE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nSession: 1\r\n\r\n"
        ),
        455
    );
    assert_eq!(
        status(
            &mut server,
            "GET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nSession: 99\r\n\r\n"
        ),
        454
    );
    assert_eq!(
        status(
            &mut server,
            "TEARDOWN rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        ),
        455
    );
    assert_eq!(
        status(
            &mut server,
            "RECORD rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        ),
        405
    );
    assert_eq!(
        status(&mut server, "FLY rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
        501
    );
    assert_eq!(
        status(&mut server, "OPTIONS rtsp://h/live RTSP/1.0\r\n\r\n"),
        400
    );
    assert_eq!(
        status(&mut server, "SETUP rtsp://h/live/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;multicast\r\n\r\n"),
        461
    );
    assert_eq!(
        status(
            &mut server,
            "SET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 3\r\n\r\na=b"
        ),
        451
    );
    // A session exists now: another id is 454, PLAY without one too.
    assert_eq!(status(&mut server, "SETUP rtsp://h/live/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=1-2\r\n\r\n"), 200);
    assert_eq!(
        status(
            &mut server,
            "PLAY rtsp://h/live RTSP/1.0\r\nCSeq: 3\r\nSession: nope\r\n\r\n"
        ),
        454
    );
    assert_eq!(
        status(
            &mut server,
            "PLAY rtsp://h/live RTSP/1.0\r\nCSeq: 3\r\n\r\n"
        ),
        454
    );
    let id = server.connection.session_id().unwrap().to_string();
    let play = format!("PLAY rtsp://h/live RTSP/1.0\r\nCSeq: 4\r\nSession: {id}\r\n\r\n");
    assert_eq!(status(&mut server, &play), 200);
    // A second PLAY is answered but starts nothing new.
    assert_eq!(server.send(&play).event, None);
    let setup = format!("SETUP rtsp://h/live/trackID=1 RTSP/1.0\r\nCSeq: 5\r\nSession: {id}\r\nTransport: RTP/AVP;unicast;client_port=3-4\r\n\r\n");
    assert_eq!(status(&mut server, &setup), 455);
}

#[test]
fn before_the_first_key_frame_describe_says_why() {
    let mut server = Server::new();
    server.description = None;
    let handled = server.send("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    assert_eq!(handled.response.status, 503);
    assert_eq!(handled.response.body, b"no key frame yet\r\n");
}

struct One;

impl Verifier for One {
    fn check_password(&self, user: &str, password: &str) -> bool {
        (user, password) == ("viewer", "pass")
    }

    fn digest_ha1(&self, user: &str, realm: &str) -> Option<[u8; 16]> {
        (user == "viewer").then(|| ha1(user, realm, "pass"))
    }
}

#[test]
fn authentication_when_required() {
    let mut server = Server::new();
    server.auth = AuthPolicy::Required {
        realm: "Makara".into(),
        verifier: Arc::new(One),
    };
    // OPTIONS needs none.
    let options = server.send("OPTIONS rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    assert_eq!(options.response.status, 200);
    let refused = server.send("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    assert_eq!(refused.response.status, 401);
    let challenges: Vec<&str> = refused
        .response
        .headers
        .iter()
        .filter(|(n, _)| n == "WWW-Authenticate")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        challenges,
        [
            "Digest realm=\"Makara\", nonce=\"c0ffee\", algorithm=MD5",
            "Basic realm=\"Makara\""
        ]
    );
    // "viewer:wrong", then "viewer:pass".
    let wrong = server.send("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Basic dmlld2VyOndyb25n\r\n\r\n");
    assert_eq!(wrong.response.status, 401);
    let right = server.send("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 4\r\nAuthorization: Basic dmlld2VyOnBhc3M=\r\n\r\n");
    assert_eq!(right.response.status, 200);
    assert_eq!(server.connection.user(), Some("viewer"));
}

#[test]
fn digest_authentication() {
    let mut server = Server::new();
    server.auth = AuthPolicy::Required {
        realm: "Makara".into(),
        verifier: Arc::new(One),
    };
    let ha1 = crate::sdp::hex(&ha1("viewer", "Makara", "pass"));
    let response =
        super::auth::tests_support::response(&ha1, "c0ffee", "DESCRIBE", "rtsp://h/live");
    let header = format!(
        "Digest username=\"viewer\", realm=\"Makara\", nonce=\"c0ffee\", uri=\"rtsp://h/live\", response=\"{response}\""
    );
    let request =
        format!("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nAuthorization: {header}\r\n\r\n");
    assert_eq!(server.send(&request).response.status, 200);
    // The same credentials for another method do not pass.
    let request =
        format!("PLAY rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: {header}\r\n\r\n");
    assert_eq!(server.send(&request).response.status, 401);
}

#[test]
fn malformed_bytes_get_an_answer() {
    let mut out = Vec::new();
    malformed(&RequestError::BadVersion("RTSP/2.0".into())).write(&mut out);
    assert!(out.starts_with(b"RTSP/1.0 505 RTSP Version Not Supported\r\n"));
}

#[test]
fn admits_tells_whether_a_login_would_pass() {
    let mut server = Server::new();
    let auth = AuthPolicy::Required {
        realm: "Makara".into(),
        verifier: Arc::new(One),
    };
    let parse = |text: &str| request::parse(text.as_bytes()).unwrap().unwrap().0;
    let bare = parse("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    let good = parse("DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Basic dmlld2VyOnBhc3M=\r\n\r\n");
    let options = parse("OPTIONS rtsp://h/live RTSP/1.0\r\nCSeq: 3\r\n\r\n");
    assert!(!server.connection.admits(&bare, &auth));
    assert!(server.connection.admits(&good, &auth));
    assert!(server.connection.admits(&options, &auth));
    assert!(server.connection.admits(&bare, &AuthPolicy::Open));
}
