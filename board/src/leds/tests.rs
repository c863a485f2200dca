//! LEDs against a fake `/sys/class/leds`.

use std::fs;

use makara_test_support::TestDir;

use super::*;

/// An LED directory as the kernel shows it; `timer` among its triggers
/// or not (the timer trigger's own files are made up front, since a fake
/// tree cannot make them appear when the trigger is chosen).
fn led(tree: &TestDir, name: &str, max: u32, timer: bool) {
    let triggers = if timer {
        "none [mmc0] timer heartbeat"
    } else {
        "[none] mmc0"
    };
    tree.write(format!("leds/{name}/brightness"), "0\n");
    tree.write(format!("leds/{name}/max_brightness"), format!("{max}\n"));
    tree.write(format!("leds/{name}/trigger"), format!("{triggers}\n"));
    if timer {
        tree.write(format!("leds/{name}/delay_on"), "");
        tree.write(format!("leds/{name}/delay_off"), "");
    }
}

fn read(tree: &TestDir, name: &str, attribute: &str) -> String {
    fs::read_to_string(tree.join(format!("leds/{name}/{attribute}"))).unwrap()
}

#[test]
fn on_is_max_brightness_without_trigger_and_off_is_zero() {
    let tree = TestDir::new("leds");
    led(&tree, "PWR", 255, false);
    let leds = tree.join("leds");
    assert_eq!(set_led(&leds, "PWR", LedState::On).unwrap(), LedState::On);
    assert_eq!(read(&tree, "PWR", "brightness"), "255");
    assert_eq!(read(&tree, "PWR", "trigger"), "none");
    assert_eq!(set_led(&leds, "PWR", LedState::Off).unwrap(), LedState::Off);
    assert_eq!(read(&tree, "PWR", "brightness"), "0");
}

#[test]
fn blink_uses_the_timer_trigger() {
    let tree = TestDir::new("leds");
    led(&tree, "ACT", 1, true);
    let leds = tree.join("leds");
    assert_eq!(
        set_led(&leds, "ACT", LedState::Blink).unwrap(),
        LedState::Blink
    );
    assert_eq!(read(&tree, "ACT", "trigger"), "timer");
    assert_eq!(read(&tree, "ACT", "delay_on"), "500");
    assert_eq!(read(&tree, "ACT", "delay_off"), "500");
}

#[test]
fn blink_without_a_timer_trigger_is_steady() {
    let tree = TestDir::new("leds");
    led(&tree, "alarm", 1, false);
    let shown = set_led(&tree.join("leds"), "alarm", LedState::Blink).unwrap();
    assert_eq!(shown, LedState::On);
    assert_eq!(read(&tree, "alarm", "brightness"), "1");
}

#[test]
fn a_missing_led_is_an_error_naming_it() {
    let tree = TestDir::new("leds");
    fs::create_dir_all(tree.join("leds")).unwrap();
    let error = set_led(&tree.join("leds"), "nope", LedState::On).unwrap_err();
    assert_eq!(error.path, tree.join("leds/nope"));
    assert!(error.to_string().contains("leds/nope"), "{error}");
}

#[test]
fn the_state_maps_to_the_three_leds() {
    use LedState::{Blink, Off, On};
    let cases = [
        // powered, streaming, alarm -> power, stream, alarm
        ((true, false, false), (On, Off, Off)),
        ((true, true, false), (On, On, Off)),
        ((true, false, true), (On, Off, Blink)),
        ((true, true, true), (On, On, Blink)),
        ((false, true, true), (Off, Off, Off)),
    ];
    for ((powered, streaming, alarm), (power, stream, alarm_led)) in cases {
        let state = ApplianceState {
            powered,
            streaming,
            alarm,
        };
        let expected = LedStates {
            power,
            stream,
            alarm: alarm_led,
        };
        assert_eq!(led_states(state), expected, "{state:?}");
    }
}

#[test]
fn leds_write_only_what_changed_and_skip_absent_roles() {
    let tree = TestDir::new("leds");
    led(&tree, "PWR", 1, false);
    led(&tree, "ACT", 1, true);
    let names = LedNames {
        power: Some("PWR".to_owned()),
        stream: Some("ACT".to_owned()),
        alarm: None,
    };
    let mut leds = Leds::new(&tree.join("leds"), &names);
    let mut state = ApplianceState {
        powered: true,
        ..ApplianceState::default()
    };
    leds.show(state).unwrap();
    assert_eq!(read(&tree, "PWR", "brightness"), "1");
    assert_eq!(read(&tree, "ACT", "brightness"), "0");

    // Someone else dims PWR: an unchanged state does not touch it again.
    tree.write("leds/PWR/brightness", "0");
    state.streaming = true;
    leds.show(state).unwrap();
    assert_eq!(read(&tree, "PWR", "brightness"), "0");
    assert_eq!(read(&tree, "ACT", "brightness"), "1");
}

#[test]
fn a_failing_led_is_reported_once_and_the_others_are_still_set() {
    let tree = TestDir::new("leds");
    led(&tree, "PWR", 1, false);
    let names = LedNames {
        power: Some("PWR".to_owned()),
        stream: None,
        alarm: Some("gone".to_owned()),
    };
    let mut leds = Leds::new(&tree.join("leds"), &names);
    let state = ApplianceState {
        powered: true,
        streaming: false,
        alarm: true,
    };
    let error = leds.show(state).unwrap_err();
    assert_eq!(error.path, tree.join("leds/gone"));
    assert_eq!(read(&tree, "PWR", "brightness"), "1");
    assert!(leds.show(state).is_ok());
}
