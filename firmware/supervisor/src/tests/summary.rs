//! The saved configuration read beside a running supervisor.

use makara_store::Slots;

use super::*;
use crate::{saved_summary, OpenError, SavedPreset, SavedStream, SavedSummary};

#[test]
fn names_states_counts_and_presets_come_from_the_saved_document() {
    let rig = Rig::new("summary");
    let demo = rig.add_chain("Demo");
    let spare = rig.add_stream(auto_start(stream(
        "Spare",
        &demo.input,
        None,
        &[&demo.output],
    )));
    rig.start(&demo.stream);
    let morning = rig.save_preset("Morning");
    rig.save_preset("Evening");
    rig.update_preset(&morning, false, Some(true));
    rig.stop(&spare); // a no-op on a stopped stream: it stays stopped

    // Read while the supervisor runs, as the console does.
    let summary = saved_summary(rig.dir()).expect("readable");
    assert_eq!(
        summary,
        SavedSummary {
            streams: vec![
                SavedStream {
                    name: "Demo".into(),
                    started: true,
                    auto_start: false,
                },
                SavedStream {
                    name: "Spare".into(),
                    started: false,
                    auto_start: true,
                },
            ],
            inputs: 1,
            outputs: 1,
            transcoders: 1,
            presets: vec![
                SavedPreset {
                    name: "Morning".into(),
                    is_default: true,
                },
                SavedPreset {
                    name: "Evening".into(),
                    is_default: false,
                },
            ],
        }
    );
    // Reading changed nothing the supervisor sees.
    assert_eq!(rig.streams().len(), 2);
    assert_eq!(rig.state(&demo.stream), StreamState::Active);
}

#[test]
fn a_fresh_or_absent_data_directory_has_an_empty_configuration() {
    let dir = TestDir::new("supervisor-summary-fresh");
    let absent = dir.join("absent");
    assert_eq!(saved_summary(&absent).unwrap(), SavedSummary::default());
    assert!(!absent.exists(), "reading must not create the directory");
    assert_eq!(saved_summary(dir.path()).unwrap(), SavedSummary::default());
}

#[test]
fn a_damaged_or_foreign_document_is_an_error() {
    let dir = TestDir::new("supervisor-summary-bad");
    let mut slots = Slots::new(dir.path(), "config");
    slots.save(b"current = [not toml").unwrap();
    assert!(matches!(
        saved_summary(dir.path()),
        Err(OpenError::Decode { .. })
    ));
    // A later firmware's document is not guessed at, even where this
    // firmware's types cannot decode it.
    let later = "format = 2\n[[current.streams]]\nid = \"x\"\nvalue = { name = \"Later\" }\n";
    slots.save(later.as_bytes()).unwrap();
    assert!(matches!(
        saved_summary(dir.path()),
        Err(OpenError::Format { found: 2, .. })
    ));
}
