//! SRT outputs against libsrt peers on 127.0.0.1: a listener serving two
//! callers the same messages, a caller losing its listener and finding it
//! again, and a refused passphrase in the report. Every wait is bounded.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

use makara_config::SrtEncryption;
use makara_output::srt::MAX_CALLERS;
use makara_output::{OutputError, SrtOutputSettings, SrtRole, SrtSender, TS_PACKET_LEN};
use makara_srt::{KeyLength, SrtListener, SrtSettings, SrtSocket};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(10);

fn settings(role: SrtRole) -> SrtOutputSettings {
    SrtOutputSettings {
        name: "out".into(),
        role,
        latency_ms: 60,
        passphrase: None,
        encryption: SrtEncryption::None,
        stream_id: None,
        ttl: 64,
        tos: 184,
        packets_per_message: 7,
    }
}

/// A listener output on 127.0.0.1:`port` (0: a free port).
fn listener_output(port: u16) -> Result<SrtSender, OutputError> {
    SrtSender::open(settings(SrtRole::Listener {
        bind: LOCALHOST,
        port,
    }))
}

fn peer_settings() -> SrtSettings {
    SrtSettings {
        latency_ms: 60,
        ..SrtSettings::default()
    }
}

/// Seven TS packets, each carrying `n` and its place in the message.
fn message(n: u8) -> Vec<[u8; TS_PACKET_LEN]> {
    (0..7u8)
        .map(|i| {
            let mut p = [n; TS_PACKET_LEN];
            p[0] = 0x47;
            p[1] = i;
            p
        })
        .collect()
}

/// Waits until `done` holds, for at most [`WAIT`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Receives messages until one carries `n`; returns it.
fn receive_message(socket: &mut SrtSocket, n: u8) -> Vec<u8> {
    let start = Instant::now();
    let mut buf = [0u8; 1500];
    loop {
        assert!(start.elapsed() < WAIT, "message {n} never came");
        if let Some(len) = socket.recv(&mut buf, Duration::from_millis(200)).unwrap() {
            if buf[2] == n {
                return buf[..len].to_vec();
            }
        }
    }
}

#[test]
fn a_listener_output_sends_the_same_messages_to_every_caller() {
    let mut out = listener_output(0).unwrap();
    let status = out.status();
    let local = out.local_addr().unwrap();
    assert_eq!(
        status.waiting_reason().unwrap(),
        format!("no caller connected to srt://127.0.0.1:{}", local.port()) + " (listener)"
    );
    let mut a = SrtSocket::call(local, &peer_settings(), WAIT).unwrap();
    let mut b = SrtSocket::call(local, &peer_settings(), WAIT).unwrap();
    wait_until("two callers", || status.report().links.len() == 2);
    assert!(status.delivering());

    let sent = out.send(message(1).iter());
    assert_eq!(sent, 1316);
    let expected = message(1).concat();
    assert_eq!(receive_message(&mut a, 1), expected);
    assert_eq!(receive_message(&mut b, 1), expected);

    // One caller leaves; the other goes on receiving.
    drop(a);
    let mut n = 2;
    wait_until("the caller that left to be dropped", || {
        out.send(message(n).iter());
        n = n.wrapping_add(1).max(2);
        status.report().links.len() == 1
    });
    out.send(message(200).iter());
    assert_eq!(receive_message(&mut b, 200), message(200).concat());
    assert!(status.delivering());
}

#[test]
fn a_caller_output_connects_again_when_its_listener_comes_back() {
    let listener = SrtListener::bind(SocketAddr::new(LOCALHOST, 0), &peer_settings()).unwrap();
    let port = listener.local_addr().port();
    let mut out = SrtSender::open(settings(SrtRole::Caller {
        host: "127.0.0.1".into(),
        port,
    }))
    .unwrap();
    let status = out.status();
    let mut peer = listener.accept(WAIT).unwrap().expect("the output calls");
    wait_until("the output to count its peer", || status.delivering());
    out.send(message(1).iter());
    receive_message(&mut peer, 1);

    drop(peer);
    drop(listener);
    wait_until("the output to find its peer gone", || {
        out.send(message(2).iter());
        !status.delivering()
    });
    let reason = status.waiting_reason().unwrap();
    let prefix = format!("SRT caller to 127.0.0.1:{port}: ");
    assert!(reason.starts_with(&prefix), "{reason}");
    assert!(!reason[prefix.len()..].contains("SRT caller"), "{reason}");
    assert!(
        reason.ends_with("; reconnecting") || reason.ends_with("; retrying"),
        "{reason}"
    );

    // The listener is back on the same port (libsrt may hold it briefly).
    let start = Instant::now();
    let listener = loop {
        match SrtListener::bind(SocketAddr::new(LOCALHOST, port), &peer_settings()) {
            Ok(l) => break l,
            Err(e) => assert!(start.elapsed() < WAIT, "cannot listen again: {e}"),
        }
        thread::sleep(Duration::from_millis(100));
    };
    let mut peer = listener
        .accept(WAIT)
        .unwrap()
        .expect("the output calls again");
    wait_until("the output to count its new peer", || status.delivering());
    assert_eq!(status.waiting_reason(), None);
    out.send(message(3).iter());
    assert_eq!(receive_message(&mut peer, 3), message(3).concat());
}

#[test]
fn a_wrong_passphrase_is_the_reason_a_caller_output_waits() {
    let listener_settings = SrtSettings {
        passphrase: Some("the right passphrase".into()),
        key_length: KeyLength::Aes128,
        ..peer_settings()
    };
    let listener = SrtListener::bind(SocketAddr::new(LOCALHOST, 0), &listener_settings).unwrap();
    let port = listener.local_addr().port();
    let out = SrtSender::open(SrtOutputSettings {
        passphrase: Some("a wrong passphrase".into()),
        encryption: SrtEncryption::Aes128,
        ..settings(SrtRole::Caller {
            host: "127.0.0.1".into(),
            port,
        })
    })
    .unwrap();
    let status = out.status();
    wait_until("the refusal", || {
        assert_eq!(
            listener
                .accept(Duration::from_millis(50))
                .unwrap()
                .map(|_| ()),
            None
        );
        status
            .waiting_reason()
            .is_some_and(|r| r.contains("passphrase"))
    });
    assert_eq!(
        status.waiting_reason().unwrap(),
        format!(
            "SRT caller to 127.0.0.1:{port}: rejected: the passphrase does not match; retrying"
        )
    );
    assert!(!status.delivering());
}

#[test]
fn a_port_in_use_fails_the_open() {
    let first = listener_output(0).unwrap();
    let port = first.local_addr().unwrap().port();
    let e = listener_output(port).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&format!("srt://127.0.0.1:{port} (listener)")),
        "{text}"
    );
    assert!(text.contains("in use"), "{text}");
}

#[test]
fn a_listener_output_refuses_callers_beyond_its_limit_and_keeps_the_rest() {
    let mut out = listener_output(0).unwrap();
    let status = out.status();
    let local = out.local_addr().unwrap();
    // The one too many may find itself closed as its call completes.
    let mut refused = 0;
    let mut callers: Vec<SrtSocket> = (0..=MAX_CALLERS)
        .filter_map(|_| match SrtSocket::call(local, &peer_settings(), WAIT) {
            Ok(caller) => Some(caller),
            Err(_) => {
                refused += 1;
                None
            }
        })
        .collect();
    wait_until("the output to take its limit", || {
        status.report().links.len() == MAX_CALLERS
    });
    // Give the accept thread time to take (and refuse) the last one too.
    thread::sleep(Duration::from_millis(300));
    assert_eq!(status.report().links.len(), MAX_CALLERS);

    out.send(message(7).iter());
    let mut served = 0;
    for caller in &mut callers {
        let start = Instant::now();
        let mut buf = [0u8; 1500];
        loop {
            assert!(
                start.elapsed() < WAIT,
                "a caller neither served nor refused"
            );
            match caller.recv(&mut buf, Duration::from_millis(100)) {
                Ok(Some(_)) => {
                    served += 1;
                    break;
                }
                Ok(None) => {}
                Err(_) => {
                    refused += 1;
                    break;
                }
            }
        }
    }
    assert_eq!((served, refused), (MAX_CALLERS, 1));
}

#[test]
fn a_rendezvous_output_meets_its_peer() {
    let here = free_udp_port();
    let there = free_udp_port();
    let mut out = SrtSender::open(settings(SrtRole::Rendezvous {
        host: "127.0.0.1".into(),
        port: there,
        local_port: here,
    }))
    .unwrap();
    let status = out.status();
    let mut peer = SrtSocket::rendezvous(
        SocketAddr::new(LOCALHOST, there),
        SocketAddr::new(LOCALHOST, here),
        &peer_settings(),
        WAIT,
    )
    .unwrap();
    wait_until("the output to meet its peer", || status.delivering());
    out.send(message(9).iter());
    assert_eq!(receive_message(&mut peer, 9), message(9).concat());
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
