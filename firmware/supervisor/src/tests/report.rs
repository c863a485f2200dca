//! System and server reports.

use super::*;
use crate::NoMediaEngine;

#[test]
fn system_reports_the_firmware_version() {
    let rig = Rig::with_engine("system", Box::new(NoMediaEngine));
    match rig.call(Command::System) {
        Ok(Reply::System(view)) => {
            assert_eq!(view.version, env!("CARGO_PKG_VERSION"));
            assert!(!view.version.is_empty());
            assert!(!view.hostname.is_empty());
        }
        other => panic!("expected System, got {other:?}"),
    }
}

/// A port of `device` with one mode, 1920x1080i29.97.
fn port(number: u32, device: &str, name: &str) -> makara_media::CapturePort {
    let mode = makara_media::CaptureMode {
        width: 1920,
        height: 1080,
        frame_rate: Some((30000, 1001)),
        interlaced: true,
        id: "1080i59.94".into(),
    };
    makara_media::CapturePort {
        number,
        device: device.into(),
        name: name.into(),
        kind: makara_media::PortKind::DigitalVideo,
        current: Some(mode.clone()),
        modes: vec![mode],
        running: None,
    }
}

#[test]
fn system_reports_the_engines_decklink_ports_apart_from_its_capture_ports() {
    let rig = Rig::new("system-decklink");
    let v4l2 = vec![port(0, "/dev/video0", "HDMI")];
    let decklink = vec![
        port(0, "DeckLink Duo (1)", "SDI"),
        port(1, "DeckLink Duo (2)", "SDI"),
    ];
    {
        let mut engine = rig.probe.lock();
        engine.capture_ports = v4l2.clone();
        engine.decklink_ports = decklink.clone();
    }
    let view = match rig.call(Command::System) {
        Ok(Reply::System(view)) => view,
        other => panic!("expected System, got {other:?}"),
    };
    assert_eq!(view.capture.ports, v4l2);
    assert_eq!(view.decklink.ports, decklink);
    // Both families share the supervisor's start and heartbeat.
    assert_eq!(view.decklink.start_time, view.capture.start_time);
    assert_eq!(
        view.decklink.keep_alive_counter,
        view.capture.keep_alive_counter
    );
}

#[test]
fn system_without_decklink_ports_has_an_empty_decklink_family() {
    let rig = Rig::with_engine("system-no-decklink", Box::new(NoMediaEngine));
    match rig.call(Command::System) {
        Ok(Reply::System(view)) => {
            assert!(view.decklink.ports.is_empty());
            assert!(view.capture.ports.is_empty());
        }
        other => panic!("expected System, got {other:?}"),
    }
}

#[test]
fn server_reports_an_id_and_the_nics() {
    let rig = Rig::with_engine("server", Box::new(NoMediaEngine));
    let view = match rig.call(Command::Server) {
        Ok(Reply::Server(view)) => view,
        other => panic!("expected Server, got {other:?}"),
    };
    assert_eq!(view.id.len(), 12, "{:?}", view.id);
    assert!(
        view.id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{:?}",
        view.id
    );
    assert_eq!(view.id, view.id.to_ascii_lowercase());
    let names: Vec<&str> = view.nics.iter().map(|n| n.name.as_str()).collect();
    assert!(names.contains(&"lo"), "{names:?}");
    // Stable from one call to the next.
    match rig.call(Command::Server) {
        Ok(Reply::Server(again)) => assert_eq!(again.id, view.id),
        other => panic!("expected Server, got {other:?}"),
    }
}
