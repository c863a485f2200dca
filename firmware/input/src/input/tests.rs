//! TsInput over real sockets, on 127.0.0.1 only (multicast: in a network
//! namespace of the test's own, see `multicast`).

use std::net::{SocketAddr, UdpSocket};
use std::thread;

use makara_config::{InputRequest, InputType};

use super::*;
use crate::source::Source;
use crate::test_stream::{garbage, stream};
use crate::udp::{UdpPlan, UdpReceiver};

mod multicast;
mod srt;

/// A unicast input on a free port of 127.0.0.1, and its address.
fn loopback_input() -> (TsInput, SocketAddr) {
    let plan = UdpPlan {
        address: "127.0.0.1:0".parse().unwrap(),
        interface: None,
    };
    let receiver = UdpReceiver::open("udp://127.0.0.1:0", &plan).unwrap();
    let address = receiver.local_addr().unwrap();
    let label = format!("udp://{address}");
    (
        TsInput::with_source(Source::Udp { receiver, label }),
        address,
    )
}

fn sender() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

/// Reads until `count` packets came or 5 s passed.
fn read_packets(input: &mut TsInput, count: usize) -> Vec<Packet> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut out = Vec::new();
    while out.len() < count && Instant::now() < deadline {
        input.read(Duration::from_millis(100), &mut out).unwrap();
    }
    out
}

fn udp_config(url: &str, interface: Option<&str>) -> InputConfig {
    InputRequest {
        url: Some(url.into()),
        stream_type: Some(InputType::Mpeg2Ts),
        interface: interface.map(str::to_string),
        ..InputRequest::default()
    }
    .validate()
    .unwrap()
}

#[test]
fn garbage_is_skipped_and_continuity_errors_counted_exactly() {
    let (mut input, address) = loopback_input();
    // Three continuity errors: one on PID 0x100, two on 0x101.
    let packets = stream(70, &[10, 33, 51]);
    let mut datagrams: Vec<Vec<u8>> = packets.chunks(7).map(|c| c.concat()).collect();
    datagrams[3].splice(0..0, garbage(40)); // before the packets
    datagrams.insert(6, garbage(500)); // a datagram of garbage alone
    datagrams[9].splice(3 * 188..3 * 188, garbage(25)); // between packets
    let tx = sender();
    for d in &datagrams {
        tx.send_to(d, address).unwrap();
    }
    let out = read_packets(&mut input, packets.len());
    assert_eq!(out, packets);
    let report = input.report();
    assert_eq!(report.packets, 70);
    // The packets' bytes; the 565 of garbage show as sync losses.
    assert_eq!(report.bytes, 70 * 188);
    assert_eq!(report.continuity_errors, 3);
    assert_eq!(report.sync_losses, 3);
    assert!(report.receiving);
    assert_eq!(report.last_error, None);
    assert_eq!(report.srt, None);
}

#[test]
fn datagrams_of_any_size_give_the_same_packets() {
    let (mut input, address) = loopback_input();
    let packets = stream(400, &[]);
    let bytes = packets.concat();
    let tx = sender();
    // Cut anywhere, then one datagram near the UDP maximum.
    for chunk in bytes[..100 * 188].chunks(1000) {
        tx.send_to(chunk, address).unwrap();
    }
    tx.send_to(&bytes[100 * 188..], address).unwrap();
    let out = read_packets(&mut input, packets.len());
    assert_eq!(out, packets);
    let report = input.report();
    assert_eq!((report.continuity_errors, report.sync_losses), (0, 0));
}

#[test]
fn rtp_headers_are_taken_off_without_sync_losses() {
    let (mut input, address) = loopback_input();
    let packets = stream(70, &[]);
    let tx = sender();
    for (sequence, chunk) in packets.chunks(7).enumerate() {
        // RFC 3550 version 2, payload type 33 (MP2T, RFC 2250).
        let mut datagram = vec![0x80, 33, 0, sequence as u8, 0, 0, 0, 0, 1, 2, 3, 4];
        datagram.extend(chunk.concat());
        tx.send_to(&datagram, address).unwrap();
    }
    let out = read_packets(&mut input, packets.len());
    assert_eq!(out, packets);
    let report = input.report();
    assert_eq!((report.continuity_errors, report.sync_losses), (0, 0));
}

#[test]
fn no_sender_means_not_receiving_with_a_reason() {
    let (mut input, address) = loopback_input();
    let report = input.report();
    assert!(!report.receiving);
    assert_eq!(report.last_error, None, "not in the first second");
    let mut out = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1200) {
        input.read(Duration::from_millis(100), &mut out).unwrap();
    }
    assert!(out.is_empty());
    let report = input.report();
    assert!(!report.receiving);
    let text = report.last_error.unwrap();
    let expected = format!("no packets on udp://{address} for ");
    assert!(
        text.starts_with(&expected) && text.ends_with(" s"),
        "{text}"
    );
}

#[test]
fn receiving_ends_a_second_after_the_last_packet() {
    let (mut input, address) = loopback_input();
    sender().send_to(&stream(7, &[]).concat(), address).unwrap();
    assert_eq!(read_packets(&mut input, 7).len(), 7);
    assert!(input.report().receiving);
    thread::sleep(Duration::from_millis(1300));
    let report = input.report();
    assert!(!report.receiving);
    let text = report.last_error.unwrap();
    assert!(
        text.starts_with(&format!("no packets on udp://{address} for ")),
        "{text}"
    );
}

#[test]
fn garbage_alone_is_told_apart_from_silence() {
    let (mut input, address) = loopback_input();
    let tx = sender();
    let mut out = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        tx.send_to(&garbage(1316), address).unwrap();
        input.read(Duration::from_millis(50), &mut out).unwrap();
    }
    assert!(out.is_empty());
    let report = input.report();
    assert!(!report.receiving);
    assert_eq!(report.sync_losses, 1);
    let text = report.last_error.unwrap();
    assert!(
        text.starts_with(&format!(
            "data arrives on udp://{address} but holds no transport stream packets"
        )),
        "{text}"
    );
}

#[test]
fn read_returns_once_packets_came() {
    let (mut input, address) = loopback_input();
    let send = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        sender().send_to(&stream(7, &[]).concat(), address).unwrap();
    });
    let start = Instant::now();
    let mut out = Vec::new();
    input.read(Duration::from_secs(10), &mut out).unwrap();
    let waited = start.elapsed();
    send.join().unwrap();
    assert_eq!(out.len(), 7);
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn read_waits_no_longer_than_its_timeout() {
    let (mut input, _) = loopback_input();
    let start = Instant::now();
    input
        .read(Duration::from_millis(300), &mut Vec::new())
        .unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
}

#[test]
fn open_refuses_a_port_in_use() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let url = format!("udp://127.0.0.1:{port}");
    let error = TsInput::open(&udp_config(&url, None)).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{url}: port {port} is in use by another input or program")
    );
}

#[test]
fn open_through_the_configuration_receives() {
    // A free port, found by binding and letting go.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("udp://127.0.0.1:{port}");
    let mut input = TsInput::open(&udp_config(&url, None)).unwrap();
    assert_eq!(input.label(), url);
    let packets = stream(14, &[]);
    sender()
        .send_to(&packets.concat(), ("127.0.0.1", port))
        .unwrap();
    assert_eq!(read_packets(&mut input, 14), packets);
}

#[test]
fn open_refuses_an_address_of_another_machine() {
    let error = TsInput::open(&udp_config("udp://192.0.2.1:5000", None)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "udp://192.0.2.1:5000: 192.0.2.1 is not an address of this appliance \
         (give one of its own, a multicast group, or 0.0.0.0)"
    );
}

#[test]
fn open_refuses_an_unknown_interface() {
    let config = udp_config("udp://239.1.1.1:5000", Some("nosuchnic0"));
    let error = TsInput::open(&config).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("udp://239.1.1.1:5000 on nosuchnic0: interface nosuchnic0 does not exist"),
        "{text}"
    );
}

#[test]
fn open_refuses_inputs_that_are_not_transport_streams() {
    let config = InputRequest {
        name: Some("bars".into()),
        stream_type: Some(InputType::TestPattern),
        ..InputRequest::default()
    }
    .validate()
    .unwrap();
    let error = TsInput::open(&config).unwrap_err();
    assert_eq!(
        error.to_string(),
        "input 'bars' is a TestPattern input, not a transport stream from the network (MPEG2TS or SRT)"
    );
}
