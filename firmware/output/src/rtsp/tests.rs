//! An RTSP output on a loopback port, fed transport streams from our own
//! muxer and asked by a hand-written client.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::mux::{MuxConfig, Muxer};
use makara_rtsp::interleaved::{self, Incoming};
use makara_rtsp::{rtcp, AuthPolicy};

use super::*;

fn settings(path: &str) -> RtspSettings {
    RtspSettings {
        name: "to VMS".into(),
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        path: path.into(),
        auth: AuthPolicy::Open,
        tos: 0,
        ttl: 64,
    }
}

const SPS: [u8; 8] = [0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9, 0x40, 0x50];
const PPS: [u8; 4] = [0x68, 0xEB, 0xE3, 0xCB];

/// An ADTS frame: AAC-LC, 48 kHz, stereo, around `raw`.
fn adts(raw: &[u8]) -> Vec<u8> {
    let len = raw.len() + 7;
    let mut out = vec![
        0xFF,
        0xF1,
        (1 << 6) | (3 << 2),
        (2 << 6) | (len >> 11) as u8,
        (len >> 3) as u8,
        ((len & 7) << 5) as u8 | 0x1F,
        0xFC,
    ];
    out.extend_from_slice(raw);
    out
}

/// `count` frames of H.264 (a key frame every fifth, large enough to be
/// cut in FU-A fragments) with an AAC frame each, as transport packets.
fn stream(first: u64, count: u64) -> Vec<[u8; 188]> {
    let mut config = MuxConfig::new(20_000_000);
    config.video = Some((0x100, VideoCodec::H264));
    config.audio = Some((0x101, AudioCodec::AacAdts));
    let mut muxer = Muxer::new(config.validate().unwrap(), Pcr27M(0));
    for n in first..first + count {
        let mut data = vec![0, 0, 0, 1, 0x09, 0xF0];
        if n % 5 == 0 {
            for set in [&SPS[..], &PPS[..]] {
                data.extend_from_slice(&[0, 0, 0, 1]);
                data.extend_from_slice(set);
            }
            data.extend_from_slice(&[0, 0, 0, 1, 0x65]);
        } else {
            data.extend_from_slice(&[0, 0, 0, 1, 0x41]);
        }
        data.extend((0..3000).map(|i| (i % 200) as u8 + 1));
        let pts = 90_000 + n * 3_600;
        muxer.push_video(&EncodedVideo {
            data,
            pts: Clock90k(pts),
            dts: Clock90k(pts),
            keyframe: n % 5 == 0,
        });
        muxer.push_audio(&EncodedAudio {
            data: adts(&[n as u8; 200]),
            pts: Clock90k(pts),
        });
    }
    let mut out = Vec::new();
    while muxer.queued_bytes() > 0 {
        let next = muxer.next_departure();
        muxer.fill_until(next, &mut out);
    }
    let until = Pcr27M(muxer.next_departure().0 + 27_000_000 / 5);
    muxer.fill_until(until, &mut out);
    out.into_iter().map(|(_, p)| p).collect()
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    cseq: u32,
}

impl Client {
    fn connect(output: &RtspOutput) -> Client {
        let stream = TcpStream::connect(output.local_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Client {
            stream,
            buf: Vec::new(),
            cseq: 0,
        }
    }

    fn request(&mut self, method: &str, uri: &str, headers: &str) -> makara_rtsp::Response {
        self.cseq += 1;
        let text = format!(
            "{method} {uri} RTSP/1.0\r\nCSeq: {}\r\n{headers}\r\n",
            self.cseq
        );
        self.stream.write_all(text.as_bytes()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(response) = self.response() {
                return response;
            }
            assert!(Instant::now() < deadline, "no answer to {method}");
            self.fill();
        }
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        if let Ok(n) = self.stream.read(&mut chunk) {
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// A response at the front of the buffer, frames before it skipped.
    fn response(&mut self) -> Option<makara_rtsp::Response> {
        while let Ok(Some((Incoming::Frame { .. }, used))) = interleaved::parse(&self.buf) {
            self.buf.drain(..used);
        }
        let text = String::from_utf8_lossy(&self.buf).to_string();
        let end = text.find("\r\n\r\n")? + 4;
        let mut lines = text[..end].lines();
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let mut response = makara_rtsp::Response::new(status);
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':')?;
            response = response.header(name, value.trim());
        }
        let len: usize = response
            .get("Content-Length")
            .map_or(0, |l| l.parse().unwrap());
        if self.buf.len() < end + len {
            return None;
        }
        response.body = self.buf[end..end + len].to_vec();
        self.buf.drain(..end + len);
        Some(response)
    }

    /// Interleaved frames until `count` have come or 5 s pass.
    fn frames(&mut self, count: usize) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while out.len() < count && Instant::now() < deadline {
            match interleaved::parse(&self.buf) {
                Ok(Some((Incoming::Frame { channel, data }, used))) => {
                    out.push((channel, data));
                    self.buf.drain(..used);
                }
                _ => self.fill(),
            }
        }
        out
    }
}

#[test]
fn a_port_in_use_fails_the_open_clearly() {
    let first = RtspOutput::open(settings("a")).unwrap();
    let mut second = settings("b");
    second.port = first.local_addr().port();
    let error = RtspOutput::open(second).unwrap_err().to_string();
    assert!(
        error.contains("to VMS") && error.contains("is in use"),
        "{error}"
    );
}

#[test]
fn describe_before_the_first_key_frame_waits_then_says_why() {
    let output = RtspOutput::open(settings("live")).unwrap();
    let mut client = Client::connect(&output);
    let started = Instant::now();
    let response = client.request(
        "DESCRIBE",
        &format!("rtsp://{}/live", output.local_addr()),
        "",
    );
    assert_eq!(response.status, 503);
    assert!(started.elapsed() >= DESCRIBE_WAIT);
    let body = String::from_utf8(response.body).unwrap();
    assert!(body.contains("not started"), "{body}");
}

#[test]
fn an_unknown_path_is_404() {
    let output = RtspOutput::open(settings("live")).unwrap();
    let mut client = Client::connect(&output);
    let response = client.request(
        "DESCRIBE",
        &format!("rtsp://{}/other", output.local_addr()),
        "",
    );
    assert_eq!(response.status, 404);
}

#[test]
fn an_interleaved_client_plays_from_a_key_frame() {
    let mut output = RtspOutput::open(settings("live")).unwrap();
    let packets = stream(0, 7);
    output.send(packets.iter());
    let base = format!("rtsp://{}/live", output.local_addr());
    let mut client = Client::connect(&output);
    let describe = client.request("DESCRIBE", &base, "Accept: application/sdp\r\n");
    assert_eq!(describe.status, 200);
    let sdp = String::from_utf8(describe.body).unwrap();
    assert!(sdp.contains("a=rtpmap:96 H264/90000"), "{sdp}");
    assert!(
        sdp.contains("profile-level-id=64001f;sprop-parameter-sets=Z2QAH6zZQFA=,aOvjyw=="),
        "{sdp}"
    );
    assert!(
        sdp.contains("a=rtpmap:97 MPEG4-GENERIC/48000/2") && sdp.contains("config=1190"),
        "{sdp}"
    );
    let setup = client.request(
        "SETUP",
        &format!("{base}/trackID=0"),
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n",
    );
    assert_eq!(setup.status, 200);
    let session = setup
        .get("Session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let setup = client.request(
        "SETUP",
        &format!("{base}/trackID=1"),
        &format!("Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\nSession: {session}\r\n"),
    );
    assert_eq!(setup.status, 200);
    let play = client.request(
        "PLAY",
        &format!("{base}/"),
        &format!("Session: {session}\r\n"),
    );
    assert_eq!(play.status, 200);
    let rtp_info = play.get("RTP-Info").unwrap().to_string();

    // Frames 7-9 are not key frames: nothing comes before frame 10.
    output.send(stream(7, 8).iter());
    let frames = client.frames(20);
    let (first_channel, first) = &frames[0];
    assert_eq!(*first_channel, 1, "a sender report first");
    assert!(rtcp::parse_sender_info(first).is_some());
    let video: Vec<&Vec<u8>> = frames
        .iter()
        .filter(|(c, _)| *c == 0)
        .map(|(_, d)| d)
        .collect();
    // The key frame's SPS comes first, with the sequence number RTP-Info
    // announced.
    assert_eq!(video[0][12], 0x67);
    let seq = u16::from_be_bytes([video[0][2], video[0][3]]);
    assert!(
        rtp_info.contains(&format!("trackID=0;seq={seq};")),
        "{rtp_info} vs {seq}"
    );
    // Then the PPS, then FU-A fragments of the IDR slice, the last marked.
    assert_eq!(video[1][12], 0x68);
    assert_eq!(video[2][12..14], [0x7C, 0x85]);
    assert_eq!(video[3][12..14], [0x7C, 0x05]);
    assert_eq!(video[4][12..14], [0x7C, 0x45]);
    assert_eq!(video[4][1] & 0x80, 0x80);
    assert!(
        frames
            .iter()
            .any(|(c, d)| *c == 2 && d[12..14] == [0x00, 0x10]),
        "AAC"
    );

    let teardown = client.request(
        "TEARDOWN",
        &format!("{base}/"),
        &format!("Session: {session}\r\n"),
    );
    assert_eq!(teardown.status, 200);
}

#[test]
fn more_clients_than_allowed_are_told_why() {
    let output = RtspOutput::open(settings("live")).unwrap();
    let mut clients: Vec<Client> = (0..MAX_CLIENTS).map(|_| Client::connect(&output)).collect();
    let uri = format!("rtsp://{}/live", output.local_addr());
    assert_eq!(clients[0].request("OPTIONS", &uri, "").status, 200);
    let mut extra = Client::connect(&output);
    let refused = extra.request("OPTIONS", &uri, "");
    assert_eq!(refused.status, 503);
    assert!(String::from_utf8(refused.body)
        .unwrap()
        .contains("16 clients"));
    assert_eq!(
        clients[MAX_CLIENTS - 1].request("OPTIONS", &uri, "").status,
        200
    );
}

struct Nobody;

impl makara_rtsp::Verifier for Nobody {
    fn check_password(&self, _: &str, _: &str) -> bool {
        false
    }

    fn digest_ha1(&self, _: &str, _: &str) -> Option<[u8; 16]> {
        None
    }
}

#[test]
fn a_client_guessing_passwords_is_closed_after_five() {
    let mut guarded = settings("live");
    guarded.auth = AuthPolicy::Required {
        realm: "Makara".into(),
        verifier: std::sync::Arc::new(Nobody),
    };
    let output = RtspOutput::open(guarded).unwrap();
    let mut client = Client::connect(&output);
    let uri = format!("rtsp://{}/live", output.local_addr());
    assert_eq!(client.request("DESCRIBE", &uri, "").status, 401);
    for _ in 0..5 {
        let guess = client.request("DESCRIBE", &uri, "Authorization: Basic YTpi\r\n");
        assert_eq!(guess.status, 401);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut byte = [0u8; 1];
    loop {
        match client.stream.read(&mut byte) {
            Ok(0) => break,
            _ => assert!(Instant::now() < deadline, "still open"),
        }
    }
}

#[test]
fn before_a_key_frame_the_503_says_so() {
    let mut output = RtspOutput::open(settings("live")).unwrap();
    // Frames 1-3: a program, but no key frame and no parameter sets.
    output.send(stream(1, 3).iter());
    let mut client = Client::connect(&output);
    let response = client.request(
        "DESCRIBE",
        &format!("rtsp://{}/live", output.local_addr()),
        "",
    );
    assert_eq!(response.status, 503);
    let body = String::from_utf8(response.body).unwrap();
    assert!(body.contains("first key frame"), "{body}");
}
