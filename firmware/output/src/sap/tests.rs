use std::net::UdpSocket;
use std::time::Duration;

use makara_config::{OutputRequest, SapRequest};

use super::*;

/// An output to `stream` announcing to a loopback SAP listener.
fn announcing(stream: &str, listener: &UdpSocket) -> UdpSettings {
    let port = listener.local_addr().unwrap().port();
    let out = OutputRequest {
        url: Some(stream.into()),
        ttl: Some(12),
        sap: Some(SapRequest {
            transmit: Some(true),
            address: Some("127.0.0.1".into()),
            port: Some(i64::from(port)),
            keywords: Some("news".into()),
            ..SapRequest::default()
        }),
        ..OutputRequest::default()
    }
    .validate()
    .unwrap();
    UdpSettings::from_output(&out).unwrap()
}

fn receive(listener: &UdpSocket) -> Vec<u8> {
    listener
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = listener.recv(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn settings_only_when_transmitting() {
    let config = |transmit| SapConfig {
        transmit,
        address: "224.2.127.254".into(),
        port: 9875,
        session_name: None,
        session_description: None,
        keywords: None,
        author: None,
    };
    assert_eq!(SapSettings::from_config(&config(false)).unwrap(), None);
    let on = SapSettings::from_config(&config(true)).unwrap().unwrap();
    assert_eq!(on.destination, "224.2.127.254:9875".parse().unwrap());
}

#[test]
fn an_output_without_sap_has_no_announcer() {
    let out = OutputRequest {
        url: Some("udp://127.0.0.1:5000".into()),
        ..OutputRequest::default()
    }
    .validate()
    .unwrap();
    let settings = UdpSettings::from_output(&out).unwrap();
    assert!(SapAnnouncer::open(&settings, "s", 1, SystemTime::now())
        .unwrap()
        .is_none());
}

#[test]
fn announces_then_deletes_the_output_s_session() {
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let output = announcing("udp://239.255.10.20:5004", &listener);
    let started = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let announcer = SapAnnouncer::open(&output, "Camera 1", 2_000_001, started)
        .unwrap()
        .unwrap();
    let id = 1_700_000_000 + NTP_UNIX_OFFSET;
    let expected_sdp = Session {
        origin: "127.0.0.1".parse().unwrap(),
        session_id: id,
        version: id,
        name: "Camera 1",
        description: None,
        keywords: Some("news"),
        author: None,
        destination: "239.255.10.20:5004".parse().unwrap(),
        ttl: 12,
        bitrate_kbps: 2001,
    }
    .sdp();
    let hash = message_id_hash(expected_sdp.as_bytes()).to_be_bytes();

    announcer.announce().unwrap();
    let packet = receive(&listener);
    assert_eq!(packet[..8], [0x20, 0, hash[0], hash[1], 127, 0, 0, 1]);
    assert_eq!(&packet[8..24], b"application/sdp\0");
    assert_eq!(std::str::from_utf8(&packet[24..]).unwrap(), expected_sdp);

    announcer.delete().unwrap();
    let packet = receive(&listener);
    assert_eq!(packet[..8], [0x24, 0, hash[0], hash[1], 127, 0, 0, 1]);
    let origin = format!("o=- {id} {id} IN IP4 127.0.0.1\r\n");
    assert_eq!(&packet[24..], origin.as_bytes());
}

#[test]
fn ntp_time_counts_from_1900() {
    assert_eq!(ntp_seconds(UNIX_EPOCH), 2_208_988_800);
}
