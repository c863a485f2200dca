//! makara-srt against itself over loopback: caller/listener, rendezvous,
//! encryption, stream ids, refusals, timeouts, peer close, statistics.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use common::{bounded, free_addr, messages, receive, send_paced};
use makara_srt::{KeyLength, RejectReason, SrtError, SrtListener, SrtSettings, SrtSocket};

const CONNECT: Duration = Duration::from_secs(3);
const LIMIT: Duration = Duration::from_secs(30);

fn loopback_any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn encrypted(passphrase: &str, key_length: KeyLength) -> SrtSettings {
    SrtSettings {
        passphrase: Some(passphrase.into()),
        key_length,
        ..SrtSettings::default()
    }
}

/// A listener with `listen`, a caller with `call`; the accepted socket and
/// the caller's result.
fn connect(
    listen: SrtSettings,
    call: SrtSettings,
) -> (Option<SrtSocket>, Result<SrtSocket, SrtError>) {
    let listener = SrtListener::bind(loopback_any_port(), &listen).expect("bind");
    let addr = listener.local_addr();
    let caller = thread::spawn(move || SrtSocket::call(addr, &call, CONNECT));
    let accepted = listener
        .accept(CONNECT + Duration::from_secs(1))
        .expect("accept");
    (accepted, caller.join().unwrap())
}

/// Sends 300 messages from `from` to `to` and checks they arrive whole,
/// in order.
fn check_transfer(from: &mut SrtSocket, to: &mut SrtSocket) {
    let msgs = messages(300);
    thread::scope(|s| {
        let rx = s.spawn(|| receive(to, msgs.len(), Duration::from_secs(10)));
        send_paced(from, &msgs);
        let got = rx.join().unwrap();
        assert_eq!(got.len(), msgs.len(), "messages received");
        assert!(got == msgs, "the payload changed on the way");
    });
}

#[test]
fn caller_sends_to_listener_and_back() {
    bounded(LIMIT, || {
        let (accepted, caller) = connect(SrtSettings::default(), SrtSettings::default());
        let mut accepted = accepted.expect("a caller");
        let mut caller = caller.expect("call");
        assert_eq!(caller.key_length_bytes(), None);
        assert_eq!(accepted.peer(), caller_local(&accepted));
        check_transfer(&mut caller, &mut accepted);
        check_transfer(&mut accepted, &mut caller);
    });
}

/// The accepted socket's peer is the caller on loopback.
fn caller_local(accepted: &SrtSocket) -> SocketAddr {
    let peer = accepted.peer();
    assert!(peer.ip().is_loopback(), "{peer}");
    peer
}

#[test]
fn aes128_and_aes256_carry_the_payload_unchanged() {
    bounded(LIMIT, || {
        for (key, bytes) in [(KeyLength::Aes128, 16), (KeyLength::Aes256, 32)] {
            let pass = "correct horse battery";
            // The listener sends and sets the key length; the caller takes it.
            let (accepted, caller) =
                connect(encrypted(pass, key), encrypted(pass, KeyLength::Auto));
            let mut accepted = accepted.expect("a caller");
            let mut caller = caller.expect("call");
            assert_eq!(accepted.key_length_bytes(), Some(bytes), "{key:?}");
            assert_eq!(caller.key_length_bytes(), Some(bytes), "{key:?}");
            check_transfer(&mut accepted, &mut caller);
        }
    });
}

#[test]
fn rendezvous_connects_both_ways_encrypted() {
    bounded(LIMIT, || {
        let (a, b) = (free_addr(), free_addr());
        let settings = encrypted("rendezvous-secret", KeyLength::Aes256);
        let s2 = settings.clone();
        let other = thread::spawn(move || SrtSocket::rendezvous(b, a, &s2, CONNECT));
        let mut one = SrtSocket::rendezvous(a, b, &settings, CONNECT).expect("rendezvous a");
        let mut two = other.join().unwrap().expect("rendezvous b");
        assert_eq!(one.peer(), b);
        assert_eq!(one.key_length_bytes(), Some(32));
        check_transfer(&mut one, &mut two);
        check_transfer(&mut two, &mut one);
    });
}

#[test]
fn a_wrong_passphrase_is_refused_as_such() {
    bounded(LIMIT, || {
        let (accepted, caller) = connect(
            encrypted("the right passphrase", KeyLength::Aes128),
            encrypted("a wrong passphrase", KeyLength::Aes128),
        );
        assert!(accepted.is_none());
        let err = caller.expect_err("a wrong passphrase connected");
        assert!(
            matches!(
                err,
                SrtError::Rejected {
                    reason: RejectReason::WrongPassphrase,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("the passphrase does not match"),
            "{err}"
        );
    });
}

#[test]
fn a_passphrase_on_one_side_only_is_refused() {
    bounded(LIMIT, || {
        let (accepted, caller) = connect(
            encrypted("only the listener has one", KeyLength::Auto),
            SrtSettings::default(),
        );
        assert!(accepted.is_none());
        let err = caller.expect_err("an unencrypted caller connected");
        assert!(
            err.to_string()
                .contains("one side has a passphrase and the other none"),
            "{err}"
        );
    });
}

fn with_stream_id(id: Option<&str>) -> SrtSettings {
    SrtSettings {
        stream_id: id.map(str::to_owned),
        ..SrtSettings::default()
    }
}

#[test]
fn a_listener_with_a_stream_id_takes_only_that_one() {
    bounded(LIMIT, || {
        let listener = SrtListener::bind(loopback_any_port(), &with_stream_id(Some("live/cam1")))
            .expect("bind");
        let addr = listener.local_addr();
        for wrong in [Some("live/cam2"), None] {
            let err = SrtSocket::call(addr, &with_stream_id(wrong), CONNECT)
                .expect_err("a wrong stream id connected");
            assert!(
                matches!(
                    err,
                    SrtError::Rejected {
                        reason: RejectReason::StreamIdRefused { .. },
                        ..
                    }
                ),
                "{wrong:?}: {err:?}"
            );
            assert!(err.to_string().contains("stream id"), "{err}");
        }
        let caller = thread::spawn(move || {
            SrtSocket::call(addr, &with_stream_id(Some("live/cam1")), CONNECT)
        });
        let accepted = listener.accept(CONNECT).expect("accept").expect("a caller");
        caller.join().unwrap().expect("the right stream id");
        assert_eq!(accepted.stream_id().as_deref(), Some("live/cam1"));
    });
}

#[test]
fn a_listener_without_a_stream_id_takes_any_and_tells_it() {
    bounded(LIMIT, || {
        let (accepted, caller) =
            connect(SrtSettings::default(), with_stream_id(Some("#!::r=feed")));
        caller.expect("call");
        assert_eq!(
            accepted.expect("a caller").stream_id().as_deref(),
            Some("#!::r=feed")
        );
        let (accepted, caller) = connect(SrtSettings::default(), with_stream_id(None));
        caller.expect("call");
        assert_eq!(accepted.expect("a caller").stream_id(), None);
    });
}

#[test]
fn calling_a_port_nobody_listens_on_times_out_in_time() {
    bounded(LIMIT, || {
        let nobody = free_addr();
        let timeout = Duration::from_millis(1500);
        let start = Instant::now();
        let err = SrtSocket::call(nobody, &SrtSettings::default(), timeout).expect_err("connected");
        let took = start.elapsed();
        assert!(matches!(err, SrtError::TimedOut { .. }), "{err:?}");
        assert!(err.to_string().contains(&nobody.to_string()), "{err}");
        assert!(took >= Duration::from_secs(1), "gave up after {took:?}");
        assert!(took < Duration::from_secs(5), "took {took:?}");
    });
}

#[test]
fn a_rendezvous_nobody_answers_times_out_in_time() {
    bounded(LIMIT, || {
        let timeout = Duration::from_secs(2);
        let start = Instant::now();
        let err = SrtSocket::rendezvous(free_addr(), free_addr(), &SrtSettings::default(), timeout)
            .expect_err("connected");
        assert!(matches!(err, SrtError::TimedOut { .. }), "{err:?}");
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "took {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn recv_sees_the_peer_close() {
    bounded(LIMIT, || {
        let (accepted, caller) = connect(SrtSettings::default(), SrtSettings::default());
        let mut accepted = accepted.expect("a caller");
        let mut caller = caller.expect("call");
        check_transfer(&mut caller, &mut accepted);
        drop(caller);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 1316];
        loop {
            match accepted.recv(&mut buf, Duration::from_millis(200)) {
                Err(SrtError::Closed { peer }) => {
                    assert_eq!(peer, accepted.peer());
                    break;
                }
                Ok(None) => assert!(Instant::now() < deadline, "the close was not seen"),
                other => panic!("unexpected {other:?}"),
            }
        }
        // And a send on it says so too.
        assert!(matches!(
            accepted.send(&[0u8; 188]),
            Err(SrtError::Closed { .. })
        ));
    });
}

#[test]
fn recv_waits_no_longer_than_its_timeout() {
    bounded(LIMIT, || {
        let (accepted, caller) = connect(SrtSettings::default(), SrtSettings::default());
        let mut accepted = accepted.expect("a caller");
        let _caller = caller.expect("call");
        let start = Instant::now();
        let mut buf = [0u8; 1316];
        assert_eq!(
            accepted.recv(&mut buf, Duration::from_millis(300)).unwrap(),
            None
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    });
}

#[test]
fn stats_count_the_packets_and_the_agreed_latency() {
    bounded(LIMIT, || {
        let listen = SrtSettings {
            latency_ms: 250,
            ..SrtSettings::default()
        };
        let call = SrtSettings {
            latency_ms: 80,
            ..SrtSettings::default()
        };
        let (accepted, caller) = connect(listen, call);
        let mut accepted = accepted.expect("a caller");
        let mut caller = caller.expect("call");
        check_transfer(&mut caller, &mut accepted);
        // The receiver has counted them all; the sender's count includes
        // every message it was handed.
        let rx = accepted.stats();
        let tx = caller.stats();
        assert_eq!(tx.packets_sent, 300, "{tx:?}");
        assert_eq!(rx.packets_received, 300, "{rx:?}");
        assert_eq!(tx.packets_dropped, 0, "{tx:?}");
        // Latency: the larger of the two proposals, in both directions.
        assert_eq!(rx.buffer_delay_ms, 250, "{rx:?}");
        assert_eq!(tx.buffer_delay_ms, 250, "{tx:?}");
        assert!(tx.rtt_ms >= 0.0 && tx.rtt_ms < 1000.0, "{tx:?}");
        assert!(tx.send_rate_kbps > 0.0, "{tx:?}");
    });
}

#[test]
fn a_port_in_use_fails_at_bind() {
    bounded(LIMIT, || {
        let first = SrtListener::bind(loopback_any_port(), &SrtSettings::default()).expect("bind");
        let err = SrtListener::bind(first.local_addr(), &SrtSettings::default())
            .expect_err("bound twice");
        assert!(matches!(err, SrtError::AddressInUse { .. }), "{err:?}");
        assert!(err.to_string().contains("in use"), "{err}");

        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = SrtListener::bind(udp.local_addr().unwrap(), &SrtSettings::default())
            .expect_err("bound a port a UDP socket holds");
        assert!(matches!(err, SrtError::AddressInUse { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&udp.local_addr().unwrap().to_string()),
            "{err}"
        );
    });
}

#[test]
fn a_dropped_listener_frees_its_port_at_once() {
    bounded(LIMIT, || {
        let first = SrtListener::bind(loopback_any_port(), &SrtSettings::default()).expect("bind");
        let addr = first.local_addr();
        drop(first);
        let again = SrtListener::bind(addr, &SrtSettings::default()).expect("bind again");
        let caller = thread::spawn(move || SrtSocket::call(addr, &SrtSettings::default(), CONNECT));
        let accepted = again.accept(CONNECT).expect("accept");
        caller.join().unwrap().expect("call");
        assert!(accepted.is_some());
    });
}

#[test]
fn settings_libsrt_would_refuse_fail_before_any_socket() {
    let short = encrypted("short", KeyLength::Aes128);
    let err = SrtSocket::call(free_addr(), &short, CONNECT).expect_err("short passphrase");
    assert!(matches!(err, SrtError::Setting(_)), "{err:?}");
    assert!(err.to_string().contains("10 to 79"), "{err}");
}

#[test]
fn too_long_a_message_is_refused() {
    bounded(LIMIT, || {
        let (_accepted, caller) = connect(SrtSettings::default(), SrtSettings::default());
        let mut caller = caller.expect("call");
        let err = caller.send(&[0u8; 1317]).expect_err("sent 1317 bytes");
        assert!(
            matches!(
                err,
                SrtError::MessageTooLong {
                    len: 1317,
                    max: 1316
                }
            ),
            "{err:?}"
        );
    });
}

#[test]
fn a_small_buffer_gets_whole_messages_or_an_error() {
    bounded(LIMIT, || {
        let (accepted, caller) = connect(SrtSettings::default(), SrtSettings::default());
        let mut accepted = accepted.expect("a caller");
        let mut caller = caller.expect("call");
        caller.send(&[7u8; 188]).unwrap();
        caller.send(&[9u8; 1316]).unwrap();
        let mut small = [0u8; 200];
        let n = accepted.recv(&mut small, Duration::from_secs(3)).unwrap();
        assert_eq!(n, Some(188));
        assert!(small[..188].iter().all(|&b| b == 7));
        let err = accepted
            .recv(&mut small, Duration::from_secs(3))
            .expect_err("cut a message");
        assert!(
            matches!(
                err,
                SrtError::BufferTooSmall {
                    len: 1316,
                    capacity: 200,
                    ..
                }
            ),
            "{err:?}"
        );
    });
}

#[test]
fn ipv6_loopback_and_a_dual_stack_listener() {
    bounded(LIMIT, || {
        for (bind, call_ip) in [("[::1]:0", "::1"), ("[::]:0", "127.0.0.1")] {
            let listener =
                SrtListener::bind(bind.parse().unwrap(), &SrtSettings::default()).expect(bind);
            let port = listener.local_addr().port();
            let remote = SocketAddr::new(call_ip.parse().unwrap(), port);
            let caller =
                thread::spawn(move || SrtSocket::call(remote, &SrtSettings::default(), CONNECT));
            let accepted = listener.accept(CONNECT).expect("accept");
            let mut caller = caller.join().unwrap().expect(bind);
            let mut accepted = accepted.expect("a caller");
            check_transfer(&mut caller, &mut accepted);
        }
    });
}

#[test]
fn sockets_and_listeners_move_between_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<SrtSocket>();
    send_and_sync::<SrtListener>();
    send_and_sync::<SrtError>();
}
