//! SRT inputs against peers on 127.0.0.1: makara-srt sockets, and
//! srt-live-transmit (srt-tools) as a peer this project did not write.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use makara_config::{SrtMode, SrtRequest};
use makara_srt::{KeyLength, SrtListener, SrtSettings, SrtSocket};

use super::*;

const PASSPHRASE: &str = "correct-horse-battery";

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn srt_config(srt: SrtRequest) -> InputConfig {
    InputRequest {
        stream_type: Some(InputType::Srt),
        srt,
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

fn listener_config(port: u16, passphrase: Option<&str>) -> InputConfig {
    srt_config(SrtRequest {
        mode: Some(SrtMode::Listener),
        local_port: Some(port.into()),
        passphrase: passphrase.map(str::to_string),
        ..SrtRequest::default()
    })
}

fn listener_input(port: u16, passphrase: Option<&str>) -> TsInput {
    TsInput::open(&listener_config(port, passphrase)).unwrap()
}

fn caller_input(port: u16, passphrase: Option<&str>) -> TsInput {
    TsInput::open(&srt_config(SrtRequest {
        mode: Some(SrtMode::Caller),
        address: Some("127.0.0.1".into()),
        remote_port: Some(port.into()),
        passphrase: passphrase.map(str::to_string),
        ..SrtRequest::default()
    }))
    .unwrap()
}

fn settings(passphrase: Option<&str>, key_length: KeyLength) -> SrtSettings {
    SrtSettings {
        passphrase: passphrase.map(str::to_string),
        key_length,
        ..SrtSettings::default()
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Sends `packets` in 1316-byte messages, a millisecond apart.
fn send_packets(socket: &mut SrtSocket, packets: &[Packet]) {
    for message in packets.chunks(7) {
        socket.send(&message.concat()).unwrap();
        thread::sleep(Duration::from_millis(1));
    }
}

/// Reads until the input has been silent `quiet` after its last packet,
/// or `limit` passed.
fn read_until_quiet(input: &mut TsInput, quiet: Duration, limit: Duration) -> Vec<Packet> {
    let start = Instant::now();
    let mut last = None::<Instant>;
    let mut out = Vec::new();
    while start.elapsed() < limit && last.is_none_or(|t| t.elapsed() < quiet) {
        let before = out.len();
        input.read(Duration::from_millis(50), &mut out).unwrap();
        if out.len() > before {
            last = Some(Instant::now());
        }
    }
    out
}

/// Reads for `period`, returning the last report's error seen.
fn read_for(input: &mut TsInput, period: Duration) -> Vec<Packet> {
    let start = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < period {
        input.read(Duration::from_millis(50), &mut out).unwrap();
    }
    out
}

/// Reads for `period`; then the input must not be receiving, and give
/// `error` as its last error.
fn assert_not_receiving_after(input: &mut TsInput, period: Duration, error: &str) {
    read_for(input, period);
    let report = input.report();
    assert!(!report.receiving);
    assert_eq!(report.last_error.as_deref(), Some(error));
}

#[test]
fn a_listener_input_receives_a_makara_caller_byte_for_byte() {
    let port = free_port();
    let mut input = listener_input(port, None);
    assert_eq!(input.label(), format!("srt://:{port} (listener)"));
    let packets = stream(280, &[15, 100, 201]);
    let sent = packets.clone();
    let sender = thread::spawn(move || {
        let mut socket =
            SrtSocket::call(local(port), &SrtSettings::default(), Duration::from_secs(3)).unwrap();
        send_packets(&mut socket, &sent);
        // Stay connected while the input reads and reports.
        thread::sleep(Duration::from_millis(1500));
    });
    let out = read_packets(&mut input, packets.len());
    assert_eq!(out, packets);
    let report = input.report();
    assert_eq!(report.continuity_errors, 3);
    assert_eq!(report.sync_losses, 0);
    assert!(report.receiving);
    let link = report.srt.expect("link statistics while connected");
    assert!(link.packets_received >= 40, "{link:?}");
    assert!(link.buffer_delay_ms >= 120, "{link:?}");
    sender.join().unwrap();
}

#[test]
fn a_listener_input_receives_srt_live_transmit_with_aes_256() {
    let port = free_port();
    let mut input = listener_input(port, Some(PASSPHRASE));
    let packets = stream(700, &[]);
    let target = format!("srt://127.0.0.1:{port}?passphrase={PASSPHRASE}&pbkeylen=32");
    let mut peer = srt_live_transmit(&["file://con", &target]);
    let mut stdin = peer.stdin.take().unwrap();
    let bytes = packets.concat();
    // srt-live-transmit drops what it reads before its link is up: write
    // once the input has taken the caller.
    let (connected, go) = std::sync::mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        if go.recv_timeout(Duration::from_secs(10)).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(200));
        for chunk in bytes.chunks(1316) {
            if stdin.write_all(chunk).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(1));
        }
        // Keep stdin open (no end of stream) until the input has read.
        thread::sleep(Duration::from_secs(2));
    });
    let start = Instant::now();
    while input.source.connections() == 0 && start.elapsed() < Duration::from_secs(5) {
        input
            .read(Duration::from_millis(20), &mut Vec::new())
            .unwrap();
    }
    connected.send(()).unwrap();
    let out = read_until_quiet(
        &mut input,
        Duration::from_millis(800),
        Duration::from_secs(10),
    );
    let report = input.report();
    let _ = peer.kill();
    let _ = peer.wait();
    writer.join().unwrap();
    assert_eq!(out.len(), packets.len());
    assert!(out == packets, "the packets differ from those sent");
    assert_eq!(report.continuity_errors, 0);
    assert!(report.srt.is_some());
}

#[test]
fn a_listener_input_takes_no_caller_with_another_passphrase() {
    let port = free_port();
    let mut input = listener_input(port, Some(PASSPHRASE));
    let target = format!("srt://127.0.0.1:{port}?passphrase=not-the-same-one&pbkeylen=32");
    let mut peer = srt_live_transmit(&["file://con", &target]);
    let mut stdin = peer.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let message = stream(7, &[]).concat();
        for _ in 0..300 {
            if stdin.write_all(&message).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
    });
    let out = read_for(&mut input, Duration::from_millis(1500));
    let report = input.report();
    let _ = peer.kill();
    let _ = peer.wait();
    writer.join().unwrap();
    assert!(out.is_empty());
    assert_eq!(input.source.connections(), 0);
    assert_eq!(report.srt, None);
    let text = report.last_error.unwrap_or_default();
    let expected = format!("no packets on srt://:{port} (listener) for ");
    assert!(
        text.starts_with(&expected) && text.ends_with(" s (no caller connected)"),
        "{text}"
    );
}

#[test]
fn a_caller_input_is_told_the_passphrase_does_not_match() {
    let listener = SrtListener::bind(
        local(0),
        &settings(Some("another passphrase"), KeyLength::Aes128),
    )
    .unwrap();
    let port = listener.local_addr().port();
    let mut input = caller_input(port, Some(PASSPHRASE));
    let rejected = format!(
        "SRT caller to 127.0.0.1:{port}: rejected: the passphrase does not match; retrying"
    );
    assert_not_receiving_after(&mut input, Duration::from_millis(1500), &rejected);
    drop(listener);
}

#[test]
fn a_caller_input_with_nobody_to_call_says_so() {
    let port = free_port();
    let mut input = caller_input(port, None);
    assert_eq!(input.label(), format!("srt://127.0.0.1:{port} (caller)"));
    let no_answer = format!(
        "SRT caller to 127.0.0.1:{port}: no answer within 3 s: check that the peer runs in \
         listener mode and that UDP gets through; retrying"
    );
    assert_not_receiving_after(&mut input, Duration::from_millis(3600), &no_answer);
}

/// A makara-srt listener sending a stream to each caller until told to
/// stop, then closing.
struct SendingListener {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SendingListener {
    fn start(port: u16, first_seed: usize) -> SendingListener {
        let listener = SrtListener::bind(local(port), &SrtSettings::default()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = thread::spawn(move || {
            let mut caller = None;
            let mut counter = first_seed;
            while !stopping.load(Ordering::Relaxed) {
                if caller.is_none() {
                    caller = listener.accept(Duration::from_millis(20)).unwrap();
                    continue;
                }
                let packets = stream(7, &[]);
                let message: Vec<u8> = packets
                    .iter()
                    .flat_map(|p| {
                        let mut p = *p;
                        p[4] = counter as u8;
                        counter += 1;
                        p
                    })
                    .collect();
                if let Some(socket) = caller.as_mut() {
                    if socket.send(&message).is_err() {
                        caller = None;
                    }
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        SendingListener {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SendingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

/// Reads until packets come, at most `limit`; how long that took.
fn time_to_packets(input: &mut TsInput, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < limit {
        input.read(Duration::from_millis(20), &mut out).unwrap();
        if !out.is_empty() {
            return Some(start.elapsed());
        }
    }
    None
}

#[test]
fn a_caller_input_reconnects_when_its_listener_returns() {
    let port = free_port();
    let mut input = caller_input(port, None);
    let listener = SendingListener::start(port, 0);
    assert!(time_to_packets(&mut input, Duration::from_secs(5)).is_some());
    assert!(input.report().receiving);
    drop(listener);
    // Gone for a second: the input notices and keeps trying.
    read_for(&mut input, Duration::from_millis(1000));
    let report = input.report();
    let text = report.last_error.clone().unwrap_or_default();
    assert!(
        text.starts_with(&format!("SRT caller to 127.0.0.1:{port}: ")),
        "{report:?}"
    );
    assert_eq!(report.srt, None);
    let _listener = SendingListener::start(port, 1000);
    let recovered = time_to_packets(&mut input, Duration::from_secs(5))
        .expect("no packets after the listener returned");
    assert!(recovered < Duration::from_secs(2), "took {recovered:?}");
    let report = input.report();
    assert!(report.receiving);
    assert_eq!(report.last_error, None);
}

#[test]
fn a_caller_input_recovers_from_a_killed_listener() {
    // srt-live-transmit killed with SIGKILL closes nothing: the input
    // must notice the silence itself, and find the new listener.
    let port = free_port();
    let mut input = caller_input(port, None);
    let (mut first, first_writer) = live_transmit_listener(port);
    assert!(time_to_packets(&mut input, Duration::from_secs(5)).is_some());
    first.kill().unwrap();
    first.wait().unwrap();
    first_writer.join().unwrap();
    read_for(&mut input, Duration::from_millis(300));
    let (mut second, second_writer) = live_transmit_listener(port);
    let recovered = time_to_packets(&mut input, Duration::from_secs(6));
    second.kill().unwrap();
    second.wait().unwrap();
    second_writer.join().unwrap();
    let recovered = recovered.expect("no packets after the listener returned");
    assert!(recovered < Duration::from_secs(2), "took {recovered:?}");
}

#[test]
fn a_listener_input_refuses_a_second_caller_and_takes_the_next() {
    let port = free_port();
    let mut input = listener_input(port, None);
    let call =
        move || SrtSocket::call(local(port), &SrtSettings::default(), Duration::from_secs(3));
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let first = thread::spawn(move || {
        let mut socket = call().unwrap();
        let packets = stream(7, &[]).concat();
        while !stopping.load(Ordering::Relaxed) {
            socket.send(&packets).unwrap();
            thread::sleep(Duration::from_millis(5));
        }
    });
    assert!(time_to_packets(&mut input, Duration::from_secs(5)).is_some());
    let second = thread::spawn(move || {
        let mut socket = call().unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 1500];
        loop {
            match socket.recv(&mut buf, Duration::from_millis(100)) {
                Err(_) => return Some(start.elapsed()),
                Ok(_) if start.elapsed() > Duration::from_secs(8) => return None,
                Ok(_) => {}
            }
        }
    });
    let out = read_for(&mut input, Duration::from_millis(1500));
    assert!(!out.is_empty(), "the first caller kept delivering");
    let refused = second.join().unwrap();
    assert!(refused.is_some(), "the second caller was never closed");
    stop.store(true, Ordering::Relaxed);
    first.join().unwrap();
    // The first caller left: the next one is accepted.
    let packets = stream(70, &[]);
    let sent = packets.clone();
    let third = thread::spawn(move || {
        let mut socket = call().unwrap();
        send_packets(&mut socket, &sent);
        thread::sleep(Duration::from_millis(1000));
    });
    let deadline = Instant::now() + Duration::from_secs(6);
    let mut out = Vec::new();
    while !out.ends_with(&packets) && Instant::now() < deadline {
        input.read(Duration::from_millis(50), &mut out).unwrap();
    }
    third.join().unwrap();
    assert!(
        out.ends_with(&packets),
        "the third caller's packets did not arrive"
    );
    assert_eq!(input.source.connections(), 2);
}

#[test]
fn a_rendezvous_input_meets_its_peer() {
    let (ours, theirs) = (free_port(), free_port());
    let mut input = TsInput::open(&srt_config(SrtRequest {
        mode: Some(SrtMode::Rendezvous),
        address: Some("127.0.0.1".into()),
        remote_port: Some(theirs.into()),
        local_port: Some(ours.into()),
        ..SrtRequest::default()
    }))
    .unwrap();
    assert_eq!(
        input.label(),
        format!("srt://127.0.0.1:{theirs} (rendezvous from :{ours})")
    );
    let packets = stream(140, &[50]);
    let sent = packets.clone();
    let peer = thread::spawn(move || {
        let mut socket = SrtSocket::rendezvous(
            local(theirs),
            local(ours),
            &SrtSettings::default(),
            Duration::from_secs(5),
        )
        .unwrap();
        send_packets(&mut socket, &sent);
        thread::sleep(Duration::from_millis(1000));
    });
    let out = read_packets(&mut input, packets.len());
    peer.join().unwrap();
    assert_eq!(out, packets);
    assert_eq!(input.report().continuity_errors, 1);
}

#[test]
fn open_refuses_a_listener_port_in_use() {
    let taken = SrtListener::bind(local(0), &SrtSettings::default()).unwrap();
    let port = taken.local_addr().port();
    let error = TsInput::open(&listener_config(port, None)).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("srt://:{port} (listener): port {port} is in use by another input or program")
    );
}

fn srt_live_transmit(args: &[&str]) -> Child {
    Command::new("srt-live-transmit")
        .args(["-q", "-chunk:1316"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("srt-live-transmit (Debian's srt-tools) is needed; scripts/test installs it")
}

/// srt-live-transmit listening on `port`, fed a stream on its stdin until
/// it dies.
fn live_transmit_listener(port: u16) -> (Child, thread::JoinHandle<()>) {
    let target = format!("srt://:{port}?mode=listener");
    let mut child = srt_live_transmit(&["file://con", &target]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let message = stream(7, &[]).concat();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if stdin.write_all(&message).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
    });
    (child, writer)
}

#[test]
fn a_listener_input_replaces_a_silent_caller_with_a_newcomer() {
    let port = free_port();
    let mut input = listener_input(port, None);
    let call = move || {
        SrtSocket::call(local(port), &SrtSettings::default(), Duration::from_secs(3)).unwrap()
    };
    // The first caller sends, then falls silent without closing (as a
    // sender that died would).
    let mut first = call();
    send_packets(&mut first, &stream(14, &[]));
    assert_eq!(read_packets(&mut input, 14).len(), 14);
    read_for(&mut input, Duration::from_millis(1300));
    let packets = stream(70, &[]);
    let sent = packets.clone();
    let second = thread::spawn(move || {
        let mut socket = call();
        send_packets(&mut socket, &sent);
        thread::sleep(Duration::from_millis(1000));
    });
    let out = read_packets(&mut input, packets.len());
    second.join().unwrap();
    drop(first);
    assert_eq!(out, packets);
    assert_eq!(input.source.connections(), 2);
}
