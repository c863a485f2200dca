//! makara-srt against libsrt's own tool, srt-live-transmit (package
//! srt-tools, which scripts/test installs), over loopback: each direction
//! and mode with and without encryption, byte for byte.

mod common;

use std::fs::{self, File};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{bounded, free_addr, messages, receive, send_paced, ChildGuard};
use makara_srt::{KeyLength, SrtError, SrtListener, SrtSettings, SrtSocket};
use makara_test_support::TestDir;

const LIMIT: Duration = Duration::from_secs(40);
const PASSPHRASE: &str = "interop-passphrase";

fn encrypted(key_length: KeyLength) -> SrtSettings {
    SrtSettings {
        passphrase: Some(PASSPHRASE.into()),
        key_length,
        ..SrtSettings::default()
    }
}

/// An `srt://` URI for srt-live-transmit.
fn uri(addr: SocketAddr, mode: &str, passphrase: Option<&str>, key_bytes: u32) -> String {
    let mut uri = format!("srt://{}:{}?mode={mode}", addr.ip(), addr.port());
    if let Some(p) = passphrase {
        uri.push_str(&format!("&passphrase={p}&pbkeylen={key_bytes}"));
    }
    uri
}

/// Starts srt-live-transmit (no reconnecting, quiet, 1316-byte reads)
/// from `input` to `output`; its stdout goes to `stdout`.
fn live_transmit(input: &str, output: &str, stdin: Stdio, stdout: &Path) -> ChildGuard {
    live_transmit_chunks(1316, input, output, stdin, stdout)
}

/// The same, reading `chunk` bytes at a time (one message each).
fn live_transmit_chunks(
    chunk: usize,
    input: &str,
    output: &str,
    stdin: Stdio,
    stdout: &Path,
) -> ChildGuard {
    let chunk = format!("-chunk:{chunk}");
    // -t: it exits by itself after the test's time limit, even if a test
    // thread that timed out never drops the guard.
    let exit_after = format!("-t:{}", LIMIT.as_secs() + 5);
    let child = Command::new("srt-live-transmit")
        .args(["-a:no", "-q", &exit_after, &chunk, input, output])
        .stdin(stdin)
        .stdout(File::create(stdout).expect("create the output file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("srt-live-transmit is needed (Debian package srt-tools; scripts/test installs it)");
    ChildGuard(child)
}

/// Our listener on a free port of 127.0.0.1.
fn our_listener(settings: &SrtSettings) -> SrtListener {
    SrtListener::bind("127.0.0.1:0".parse().unwrap(), settings).expect("bind")
}

/// The socket of srt-live-transmit's call to `listener`, within 10 s.
fn accept_their_call(listener: &SrtListener) -> SrtSocket {
    listener
        .accept(Duration::from_secs(10))
        .expect("accept")
        .expect("srt-live-transmit did not call")
}

/// Writes `msgs` to the stdin of `sender` (srt-live-transmit reading
/// `file://con`), one a millisecond, while `socket` receives them for at
/// most `within`; what `socket` received. Called only after the
/// handshake: srt-live-transmit drops what it reads before it is
/// connected.
fn feed_their_sender(
    sender: &mut ChildGuard,
    socket: &mut SrtSocket,
    msgs: &[Vec<u8>],
    within: Duration,
) -> Vec<Vec<u8>> {
    thread::scope(|s| {
        let rx = s.spawn(|| receive(socket, msgs.len(), within));
        let mut stdin = sender.0.stdin.take().unwrap();
        for m in msgs {
            stdin.write_all(m).expect("feed srt-live-transmit");
            thread::sleep(Duration::from_millis(1));
        }
        let got = rx.join().unwrap();
        drop(stdin);
        got
    })
}

/// Sends 500 messages on `socket`, closes it, lets the receiving
/// srt-live-transmit finish, and checks its output is what was sent.
fn send_and_compare(mut socket: SrtSocket, receiver: ChildGuard, out: &Path) {
    let msgs = messages(500);
    send_paced(&mut socket, &msgs);
    finish_and_compare(socket, receiver, out, &msgs.concat());
}

/// Closes `socket` once what was sent has had time to arrive, lets
/// srt-live-transmit finish, and compares. (Its output is buffered, so
/// the file's size cannot tell when everything came.)
fn finish_and_compare(socket: SrtSocket, mut receiver: ChildGuard, out: &Path, expected: &[u8]) {
    // The latency (120 ms) and a wide margin for a loaded machine.
    thread::sleep(Duration::from_millis(1500));
    drop(socket);
    receiver.wait_exit(Duration::from_secs(5));
    drop(receiver);
    let got = fs::read(out).unwrap();
    assert_eq!(
        got.len(),
        expected.len(),
        "bytes written by srt-live-transmit"
    );
    assert!(got == expected, "the payload changed on the way");
}

#[test]
fn their_caller_reads_our_listener_with_aes128_and_aes256() {
    bounded(LIMIT, || {
        for (key, bytes) in [(KeyLength::Aes128, 16), (KeyLength::Aes256, 32)] {
            let dir = TestDir::new("srt-interop");
            let out = dir.join("out.ts");
            let listener = our_listener(&encrypted(key));
            let their = uri(listener.local_addr(), "caller", Some(PASSPHRASE), bytes);
            let receiver = live_transmit(&their, "file://con", Stdio::null(), &out);
            let socket = accept_their_call(&listener);
            assert_eq!(socket.key_length_bytes(), Some(bytes), "{key:?}");
            send_and_compare(socket, receiver, &out);
        }
    });
}

/// Calls `remote` until it answers (srt-live-transmit takes a moment to
/// start listening), for at most 10 s.
fn call_until_up(remote: SocketAddr, settings: &SrtSettings) -> SrtSocket {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match SrtSocket::call(remote, settings, Duration::from_secs(1)) {
            Ok(socket) => return socket,
            Err(e @ SrtError::Rejected { .. }) => panic!("{e}"),
            Err(e) => assert!(
                Instant::now() < deadline,
                "their listener never answered: {e}"
            ),
        }
    }
}

#[test]
fn our_caller_feeds_their_listener() {
    bounded(LIMIT, || {
        for (key, bytes) in [(None, 0), (Some(KeyLength::Aes256), 32)] {
            let dir = TestDir::new("srt-interop");
            let out = dir.join("out.ts");
            let addr = free_addr();
            let passphrase = key.map(|_| PASSPHRASE);
            let their = uri(addr, "listener", passphrase, bytes);
            let receiver = live_transmit(&their, "file://con", Stdio::null(), &out);
            let settings = match key {
                Some(key) => encrypted(key),
                None => SrtSettings::default(),
            };
            let socket = call_until_up(addr, &settings);
            assert_eq!(socket.key_length_bytes(), key.map(|_| bytes));
            send_and_compare(socket, receiver, &out);
        }
    });
}

#[test]
fn we_meet_their_rendezvous_encrypted() {
    bounded(LIMIT, || {
        let dir = TestDir::new("srt-interop");
        let out = dir.join("out.ts");
        let (ours, theirs) = (free_addr(), free_addr());
        // Their URI names our address; `port` is the one they send from.
        let their = format!(
            "{}&port={}",
            uri(ours, "rendezvous", Some(PASSPHRASE), 16),
            theirs.port()
        );
        let receiver = live_transmit(&their, "file://con", Stdio::null(), &out);
        let socket = SrtSocket::rendezvous(
            ours,
            theirs,
            &encrypted(KeyLength::Aes128),
            Duration::from_secs(10),
        )
        .expect("rendezvous with srt-live-transmit");
        assert_eq!(socket.key_length_bytes(), Some(16));
        send_and_compare(socket, receiver, &out);
    });
}

#[test]
fn their_caller_with_a_wrong_passphrase_gets_nothing() {
    bounded(LIMIT, || {
        let dir = TestDir::new("srt-interop");
        let out = dir.join("out.ts");
        let listener = our_listener(&encrypted(KeyLength::Aes128));
        let their = uri(
            listener.local_addr(),
            "caller",
            Some("not-the-passphrase"),
            16,
        );
        let mut receiver = live_transmit(&their, "file://con", Stdio::null(), &out);
        let accepted = listener.accept(Duration::from_secs(4)).expect("accept");
        assert!(
            accepted.is_none(),
            "a caller with the wrong passphrase was accepted"
        );
        receiver.wait_exit(Duration::from_secs(5));
        drop(receiver);
        assert_eq!(fs::read(&out).unwrap().len(), 0);
    });
}

#[test]
fn their_caller_feeds_our_listener_encrypted() {
    bounded(LIMIT, || {
        let dir = TestDir::new("srt-interop");
        let out = dir.join("stdout");
        let listener = our_listener(&encrypted(KeyLength::Auto));
        let their = uri(listener.local_addr(), "caller", Some(PASSPHRASE), 32);
        let mut sender = live_transmit("file://con", &their, Stdio::piped(), &out);
        let mut socket = accept_their_call(&listener);
        // Their key length, taken by our listener left at Auto.
        assert_eq!(socket.key_length_bytes(), Some(32));
        let msgs = messages(500);
        let got = feed_their_sender(&mut sender, &mut socket, &msgs, Duration::from_secs(15));
        assert_eq!(got.len(), msgs.len(), "messages received");
        assert!(got == msgs, "the payload changed on the way");
    });
}

#[test]
fn we_receive_the_largest_live_messages_a_peer_may_send() {
    bounded(LIMIT, || {
        let dir = TestDir::new("srt-interop");
        let out = dir.join("stdout");
        let listener = our_listener(&SrtSettings::default());
        let their = uri(listener.local_addr(), "caller", None, 0);
        // srt-live-transmit's default: 1456-byte messages, the live maximum.
        let mut sender = live_transmit_chunks(1456, "file://con", &their, Stdio::piped(), &out);
        let mut socket = accept_their_call(&listener);
        let msgs: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 1456]).collect();
        let got = feed_their_sender(&mut sender, &mut socket, &msgs, Duration::from_secs(10));
        assert!(
            got == msgs,
            "{} messages of 1456 bytes came through",
            got.len()
        );
    });
}

/// Sends a signal to a child process with kill(1).
fn signal(child: &ChildGuard, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} failed");
}

#[test]
fn a_stalled_caller_does_not_hold_up_sends_to_another() {
    bounded(LIMIT, || {
        let dir = TestDir::new("srt-interop");
        let listener = our_listener(&SrtSettings::default());
        let their = uri(listener.local_addr(), "caller", None, 0);
        let stalled_out = dir.join("stalled.ts");
        let stalled_peer = live_transmit(&their, "file://con", Stdio::null(), &stalled_out);
        let mut stalled = accept_their_call(&listener);
        let live_out = dir.join("live.ts");
        let live_peer = live_transmit(&their, "file://con", Stdio::null(), &live_out);
        let mut live = accept_their_call(&listener);

        // Frozen: its libsrt neither acknowledges nor reads any more.
        signal(&stalled_peer, "-STOP");
        // About 10 000 messages a second (100 Mbit/s) for a second: more
        // than the stalled link's send buffer (8192 packets) takes before
        // libsrt starts giving up on old ones, so a send that waited for
        // room would hang here.
        let msgs = messages(10_000);
        let mut slowest = Duration::ZERO;
        let mut stalled_closed = false;
        for (i, m) in msgs.iter().enumerate() {
            let start = Instant::now();
            live.send(m).expect("send to the live caller");
            match stalled.send(m) {
                Ok(()) => {}
                Err(SrtError::Closed { .. }) => stalled_closed = true,
                Err(e) => panic!("send to the stalled caller: {e}"),
            }
            slowest = slowest.max(start.elapsed());
            if i % 10 == 9 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        // Thawed before any assertion, so it can exit by itself (-t) even
        // if this test fails in a way that skips the guard.
        signal(&stalled_peer, "-CONT");
        assert!(
            slowest < Duration::from_millis(500),
            "a send took {slowest:?}"
        );
        // The stalled link gave up on messages (too late, or no room) or
        // broke; the live one got everything.
        let stalled_stats = stalled.stats();
        assert!(
            stalled_closed || stalled_stats.packets_dropped > 0,
            "the stalled link dropped nothing: {stalled_stats:?}"
        );
        finish_and_compare(live, live_peer, &live_out, &msgs.concat());
    });
}
