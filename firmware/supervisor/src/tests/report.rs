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
