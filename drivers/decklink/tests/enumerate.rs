//! Enumeration through the real path: the shim dlopens a fake
//! libDeckLinkAPI.so (`tests/fake/fake_decklink.cpp`), built by
//! `common` against the vendored SDK headers, and walks its COM objects.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{fake, two_devices};
use makara_decklink::{
    Connection, DeckLinkApi, EnumerateError, FrameRate, InputDeviceError, OpenError, Scan,
};

fn no_devices() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    fake("libDeckLinkAPI-none.so", &["FAKE_NO_DEVICES"], &CELL)
}

fn null_iterator() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    fake("libDeckLinkAPI-null.so", &["FAKE_NULL_ITERATOR"], &CELL)
}

#[test]
fn the_fake_cards_are_listed_with_their_connectors_and_modes() {
    let api = DeckLinkApi::open(two_devices()).unwrap();
    let devices = api.devices().unwrap();
    assert_eq!(devices.len(), 2);

    let duo = &devices[0];
    assert_eq!(duo.model_name, "DeckLink Duo 2");
    assert_eq!(duo.display_name, "DeckLink Duo (1)");
    assert!(duo.can_capture);
    assert_eq!(duo.inputs, vec![Connection::Sdi]);
    assert!(duo.detects_input_format);
    let modes: Vec<_> = duo
        .modes
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.code.to_string(),
                m.width,
                m.height,
                m.frame_rate,
                m.scan,
            )
        })
        .collect();
    assert_eq!(
        modes,
        vec![
            (
                "NTSC",
                "ntsc".to_owned(),
                720,
                486,
                FrameRate {
                    num: 30000,
                    den: 1001
                },
                Scan::LowerFieldFirst
            ),
            (
                "1080i50",
                "Hi50".to_owned(),
                1920,
                1080,
                FrameRate {
                    num: 25000,
                    den: 1000
                },
                Scan::UpperFieldFirst
            ),
            (
                "1080p59.94",
                "Hp59".to_owned(),
                1920,
                1080,
                FrameRate {
                    num: 60000,
                    den: 1001
                },
                Scan::Progressive
            ),
            (
                "PAL",
                "pal ".to_owned(),
                720,
                576,
                FrameRate {
                    num: 25000,
                    den: 1000
                },
                Scan::UpperFieldFirst
            ),
            (
                "720p50",
                "hp50".to_owned(),
                1280,
                720,
                FrameRate {
                    num: 50000,
                    den: 1000
                },
                Scan::Progressive
            ),
        ]
    );

    let monitor = &devices[1];
    assert_eq!(monitor.model_name, "DeckLink Mini Monitor");
    assert!(!monitor.can_capture);
    assert!(monitor.inputs.is_empty());
    assert!(monitor.modes.is_empty());
}

#[test]
fn enumeration_can_be_repeated_on_one_handle() {
    let api = DeckLinkApi::open(two_devices()).unwrap();
    assert_eq!(api.devices().unwrap(), api.devices().unwrap());
}

#[test]
fn an_input_is_found_by_index_and_an_output_only_card_is_refused() {
    let api = DeckLinkApi::open(two_devices()).unwrap();
    assert_eq!(api.input_device(0).unwrap().model_name, "DeckLink Duo 2");
    assert_eq!(
        api.input_device(1).unwrap_err(),
        InputDeviceError::CannotCapture {
            index: 1,
            model: "DeckLink Mini Monitor".to_owned()
        }
    );
    assert_eq!(
        api.input_device(2).unwrap_err(),
        InputDeviceError::NoSuchDevice { index: 2, count: 2 }
    );
}

#[test]
fn a_machine_without_cards_lists_none_and_has_no_input() {
    let api = DeckLinkApi::open(no_devices()).unwrap();
    assert_eq!(api.devices().unwrap(), vec![]);
    let err = api.input_device(0).unwrap_err();
    assert_eq!(err, InputDeviceError::NoDevice);
    assert_eq!(err.to_string(), "no DeckLink device");
}

#[test]
fn a_missing_library_says_so_with_the_loaders_reason() {
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/libDeckLinkAPI.so");
    let err = DeckLinkApi::open(&missing).unwrap_err();
    let OpenError::NotFound { library, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(library, &missing.display().to_string());
    assert!(reason.contains("No such file or directory"), "{reason}");
    assert!(
        err.to_string()
            .starts_with(&format!("{} not found: ", missing.display())),
        "{err}"
    );
}

#[test]
fn a_library_without_the_entry_point_is_refused() {
    // A shared library every machine has (the shim links it) and with no
    // DeckLink symbols.
    let err = DeckLinkApi::open(Path::new("libstdc++.so.6")).unwrap_err();
    let OpenError::NoEntryPoint { reason, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        reason.contains("CreateDeckLinkIteratorInstance_0003"),
        "{reason}"
    );
}

#[test]
fn a_driver_that_gives_no_iterator_is_an_error_not_an_empty_list() {
    let api = DeckLinkApi::open(null_iterator()).unwrap();
    let err = api.devices().unwrap_err();
    assert!(matches!(err, EnumerateError::NoIterator { .. }), "{err:?}");
    assert!(
        matches!(api.input_device(0), Err(InputDeviceError::Enumerate(_))),
        "the input start reports the driver's failure, not a missing card"
    );
}
