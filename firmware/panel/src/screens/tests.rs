//! The screens with no device: every screen's rows (golden), every key on
//! every screen, questions, actions under way, the network editor, and
//! views that change under the user.

use std::net::Ipv4Addr;

use super::*;
use crate::protocol::COLUMNS;
use crate::view::{Network, PresetEntry, StaticNetwork, StreamEntry, StreamState};
use Key::{Down, Enter, Left, Right, Up};

fn stream(id: &str, name: &str, state: StreamState, kbps: Option<u32>) -> StreamEntry {
    StreamEntry {
        id: id.into(),
        name: name.into(),
        state,
        output_kbps: kbps,
    }
}

fn preset(id: &str, name: &str, is_default: bool, loaded: bool) -> PresetEntry {
    PresetEntry {
        id: id.into(),
        name: name.into(),
        is_default,
        loaded,
    }
}

fn view() -> PanelView {
    PanelView {
        box_name: "encoder-7".into(),
        address: Some(Ipv4Addr::new(192, 0, 2, 50)),
        network: Network::Dhcp,
        streams: vec![
            stream("s1", "Camera one", StreamState::Active, Some(4012)),
            stream("s2", "Slides", StreamState::Stopped, None),
            stream("s3", "Backup feed", StreamState::Waiting, None),
        ],
        presets: vec![
            preset("p1", "Morning", true, false),
            preset("p2", "Evening", false, true),
        ],
        api_enabled: true,
    }
}

fn static_view() -> PanelView {
    PanelView {
        network: Network::Static(StaticNetwork {
            address: Ipv4Addr::new(192, 0, 2, 50),
            prefix: 24,
            gateway: Some(Ipv4Addr::new(192, 0, 2, 1)),
        }),
        ..view()
    }
}

/// Presses `keys`; returns the actions they gave.
fn press(screens: &mut Screens, keys: &[Key]) -> Vec<PanelAction> {
    keys.iter().filter_map(|&key| screens.key(key)).collect()
}

/// Screens of `view` on `screen`, reached with right from home.
fn on(view: PanelView, screen: Screen) -> Screens {
    let mut screens = Screens::new(view);
    while screens.screen() != screen {
        assert_eq!(press(&mut screens, &[Right]), []);
    }
    screens
}

#[track_caller]
fn check(screens: &Screens, expect: [&str; 2]) {
    let rows = screens.rows();
    assert_eq!([rows[0].as_str(), rows[1].as_str()], expect);
}

const HOME: [&str; 2] = ["encoder-7     1 live", "IP 192.0.2.50       "];
const STREAM_1: [&str; 2] = ["1/3 Camera one      ", "active   4012 kbit/s"];
const STREAM_2: [&str; 2] = ["2/3 Slides          ", "stopped             "];
const STREAM_3: [&str; 2] = ["3/3 Backup feed     ", "waiting             "];
const PRESET_1: [&str; 2] = ["Preset 1/2          ", "Morning      default"];
const PRESET_2: [&str; 2] = ["Preset 2/2    loaded", "Evening             "];
const NETWORK: [&str; 2] = ["Network         DHCP", "192.0.2.50          "];
const NETWORK_GW: [&str; 2] = ["Network         DHCP", "gw from DHCP        "];
const API: [&str; 2] = ["API               on", "enter: turn off     "];
const NO: &str = ">no   yes           ";
const YES: &str = " no  >yes           ";

#[test]
fn every_screen_golden() {
    check(&on(view(), Screen::Home), HOME);
    check(&on(view(), Screen::Streams), STREAM_1);
    check(&on(view(), Screen::Presets), PRESET_1);
    check(&on(view(), Screen::Network), NETWORK);
    check(&on(view(), Screen::Api), API);

    let mut screens = on(view(), Screen::Streams);
    press(&mut screens, &[Down]);
    check(&screens, STREAM_2);
    press(&mut screens, &[Down]);
    check(&screens, STREAM_3);
    let mut screens = on(view(), Screen::Presets);
    press(&mut screens, &[Down]);
    check(&screens, PRESET_2);

    let mut screens = on(static_view(), Screen::Network);
    check(&screens, ["Network       static", "192.0.2.50/24       "]);
    press(&mut screens, &[Down]);
    check(&screens, ["Network       static", "gw 192.0.2.1        "]);

    let bare = PanelView {
        box_name: "makara".into(),
        ..PanelView::default()
    };
    check(
        &on(bare.clone(), Screen::Home),
        ["makara        0 live", "IP none             "],
    );
    check(
        &on(bare.clone(), Screen::Streams),
        ["Streams             ", "none                "],
    );
    check(
        &on(bare.clone(), Screen::Presets),
        ["Presets             ", "none saved          "],
    );
    check(
        &on(bare.clone(), Screen::Network),
        ["Network         DHCP", "no address          "],
    );
    check(
        &on(bare, Screen::Api),
        ["API              off", "enter: turn on      "],
    );
}

/// What each key does on each screen, from the screen's first entry.
#[test]
fn every_key_on_every_screen() {
    let stop = ["Stop Camera one?    ", NO];
    let load = ["Load Morning?       ", NO];
    let mode = ["Network mode        ", ">DHCP  static  back "];
    let api_off = ["Turn API off?       ", NO];
    let table: [(Screen, [[&str; 2]; 5]); 5] = [
        // up, down, left, right, enter
        (Screen::Home, [HOME, HOME, API, STREAM_1, HOME]),
        (Screen::Streams, [STREAM_3, STREAM_2, HOME, PRESET_1, stop]),
        (
            Screen::Presets,
            [PRESET_2, PRESET_2, STREAM_1, NETWORK, load],
        ),
        (
            Screen::Network,
            [NETWORK_GW, NETWORK_GW, PRESET_1, API, mode],
        ),
        (Screen::Api, [API, API, NETWORK, HOME, api_off]),
    ];
    for (screen, after) in table {
        for (key, expect) in [Up, Down, Left, Right, Enter].into_iter().zip(after) {
            let mut screens = on(view(), screen);
            assert_eq!(screens.key(key), None, "{screen:?} {key:?}");
            let rows = screens.rows();
            assert_eq!(
                [rows[0].as_str(), rows[1].as_str()],
                expect,
                "{screen:?} {key:?}"
            );
        }
    }
}

#[test]
fn left_and_right_go_round() {
    let mut screens = Screens::new(view());
    let mut seen = vec![];
    for _ in 0..5 {
        press(&mut screens, &[Right]);
        seen.push(screens.screen());
    }
    assert_eq!(
        seen,
        [
            Screen::Streams,
            Screen::Presets,
            Screen::Network,
            Screen::Api,
            Screen::Home
        ]
    );
    press(&mut screens, &[Left]);
    assert_eq!(screens.screen(), Screen::Api);
}

#[test]
fn actions_only_after_yes() {
    let mut screens = on(view(), Screen::Presets);
    // Enter asks; enter again answers no.
    assert_eq!(press(&mut screens, &[Enter, Enter]), []);
    check(&screens, PRESET_1);
    // The arrows move the mark; none acts.
    press(&mut screens, &[Enter, Right]);
    check(&screens, ["Load Morning?       ", YES]);
    press(&mut screens, &[Left]);
    check(&screens, ["Load Morning?       ", NO]);
    press(&mut screens, &[Up]);
    check(&screens, ["Load Morning?       ", YES]);
    press(&mut screens, &[Down, Down]);
    check(&screens, ["Load Morning?       ", YES]);
    let load = PanelAction::LoadPreset {
        id: "p1".into(),
        name: "Morning".into(),
    };
    assert_eq!(press(&mut screens, &[Enter]), std::slice::from_ref(&load));
    assert_eq!(screens.pending(), Some(&load));
    check(&screens, ["Load Morning        ", "Loading...          "]);
    // Keys do nothing while the caller works.
    assert_eq!(press(&mut screens, &[Enter, Right, Enter, Left]), []);
    check(&screens, ["Load Morning        ", "Loading...          "]);
    screens.finished(Outcome::Done);
    assert_eq!(screens.pending(), None);
    check(&screens, PRESET_1);
    // Reports without an action pending change nothing.
    screens.finished(Outcome::Failed("late".into()));
    check(&screens, PRESET_1);
}

#[test]
fn start_stop_and_api_actions() {
    let mut screens = on(view(), Screen::Streams);
    let stop = press(&mut screens, &[Enter, Right, Enter]);
    assert_eq!(
        stop,
        [PanelAction::StopStream {
            id: "s1".into(),
            name: "Camera one".into()
        }]
    );
    check(&screens, ["Stop Camera one     ", "Stopping...         "]);
    screens.finished(Outcome::Done);
    press(&mut screens, &[Down]);
    check(&screens, STREAM_2);
    press(&mut screens, &[Enter]);
    check(&screens, ["Start Slides?       ", NO]);
    let start = press(&mut screens, &[Right, Enter]);
    assert_eq!(
        start,
        [PanelAction::StartStream {
            id: "s2".into(),
            name: "Slides".into()
        }]
    );
    check(&screens, ["Start Slides        ", "Starting...         "]);
    screens.finished(Outcome::Done);
    // A waiting stream is running: enter stops it.
    press(&mut screens, &[Down, Enter]);
    check(&screens, ["Stop Backup feed?   ", NO]);

    let mut screens = on(view(), Screen::Api);
    assert_eq!(
        press(&mut screens, &[Enter, Right, Enter]),
        [PanelAction::SetApi(false)]
    );
    check(&screens, ["Turn API off        ", "Saving...           "]);
    screens.finished(Outcome::Done);
    screens.set_view(PanelView {
        api_enabled: false,
        ..view()
    });
    check(&screens, ["API              off", "enter: turn on      "]);
    press(&mut screens, &[Enter]);
    check(&screens, ["Turn API on?        ", NO]);
    assert_eq!(
        press(&mut screens, &[Up, Enter]),
        [PanelAction::SetApi(true)]
    );
}

#[test]
fn failures_and_notes_stay_until_a_key() {
    let mut screens = on(view(), Screen::Streams);
    press(&mut screens, &[Down, Enter, Right, Enter]);
    screens.finished(Outcome::Failed("no media engine in this build".into()));
    check(&screens, ["Failed: no media    ", "engine in this build"]);
    // The key that dismisses it does nothing else.
    assert_eq!(press(&mut screens, &[Enter]), []);
    check(&screens, STREAM_2);

    press(&mut screens, &[Enter, Right, Enter]);
    screens.finished(Outcome::Note("Applies at reboot".into()));
    check(&screens, ["Applies at reboot   ", "                    "]);
    press(&mut screens, &[Right]);
    check(&screens, STREAM_2);
}

#[test]
fn long_and_foreign_names_are_cut_and_mapped() {
    let mut v = view();
    v.box_name = "studio-b-encoder-with-a-long-name".into();
    v.streams[0].name = "Caf\u{e9} \u{2013} the morning show, camera 2".into();
    v.streams[0].output_kbps = Some(250_000);
    v.presets[0].name = "A preset with a long name".into();
    v.presets[1].name = "Evening \\ late ~".into();
    check(
        &on(v.clone(), Screen::Home),
        ["studio-b-enco 1 live", "IP 192.0.2.50       "],
    );
    check(
        &on(v.clone(), Screen::Streams),
        ["1/3 Caf? ? the morni", "active    250 Mbit/s"],
    );
    let mut screens = on(v.clone(), Screen::Presets);
    check(&screens, ["Preset 1/2          ", "A preset wit default"]);
    press(&mut screens, &[Down]);
    check(&screens, ["Preset 2/2    loaded", "Evening ? late ?    "]);
    press(&mut screens, &[Up, Enter]);
    check(&screens, ["Load A preset with ?", NO]);
}

/// The twelve digits the address editor shows on its first row.
fn digits_shown(screens: &Screens) -> Vec<u8> {
    screens.rows()[0][5..]
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// Types `address` (as twelve digits, "192000002060") into the digit
/// editor, its caret on the first digit; leaves the caret on the last.
fn type_address(screens: &mut Screens, address: &str) {
    let shown = digits_shown(screens);
    for (at, want) in address.bytes().map(|b| b - b'0').enumerate() {
        let ups = (want + 10 - shown[at]) % 10;
        press(screens, &vec![Up; usize::from(ups)]);
        press(screens, &[Right]);
    }
    assert_eq!(
        digits_shown(screens),
        address.bytes().map(|b| b - b'0').collect::<Vec<_>>()
    );
}

/// A static view's network editor, on the address's first digit.
fn editing_address() -> Screens {
    let mut screens = on(static_view(), Screen::Network);
    press(&mut screens, &[Enter]);
    check(&screens, ["Network mode        ", " DHCP >static  back "]);
    press(&mut screens, &[Enter]);
    check(&screens, ["Addr 192.000.002.050", "     ^              "]);
    screens
}

#[test]
fn edit_digits_wrap_and_the_caret_moves() {
    let mut screens = editing_address();
    press(&mut screens, &[Up]);
    check(&screens, ["Addr 292.000.002.050", "     ^              "]);
    press(&mut screens, &[Down, Down, Down]);
    check(&screens, ["Addr 992.000.002.050", "     ^              "]);
    press(&mut screens, &[Up]);
    check(&screens, ["Addr 092.000.002.050", "     ^              "]);
    press(&mut screens, &[Up]);
    // The caret skips the dots and stops at the last digit.
    press(&mut screens, &[Right, Right, Right]);
    check(&screens, ["Addr 192.000.002.050", "         ^          "]);
    press(&mut screens, &[Right; 20]);
    check(&screens, ["Addr 192.000.002.050", "                   ^"]);
    press(&mut screens, &[Down]);
    check(&screens, ["Addr 192.000.002.059", "                   ^"]);
    // Left from the first digit goes back to the mode.
    press(&mut screens, &[Left; 11]);
    check(&screens, ["Addr 192.000.002.059", "     ^              "]);
    press(&mut screens, &[Left]);
    check(&screens, ["Network mode        ", " DHCP >static  back "]);
    // What was typed is kept.
    press(&mut screens, &[Enter]);
    check(&screens, ["Addr 192.000.002.059", "     ^              "]);
}

#[test]
fn edit_refuses_bad_addresses_until_a_key() {
    for (typed, refusal) in [
        ("300000002050", "Octet over 255      "),
        ("192000002256", "Octet over 255      "),
        ("000000002050", "Not a host address  "),
        ("127000000001", "Not a host address  "),
        ("224000000001", "Not a host address  "),
        ("255255255255", "Not a host address  "),
    ] {
        let mut screens = editing_address();
        type_address(&mut screens, typed);
        press(&mut screens, &[Enter]);
        assert_eq!(screens.rows()[1], refusal, "{typed}");
        // The next key only dismisses the refusal.
        press(&mut screens, &[Up]);
        assert_eq!(screens.rows()[1], "                   ^", "{typed}");
        assert_eq!(screens.rows()[0][5..].replace('.', ""), typed);
    }
}

#[test]
fn edit_prefix_stays_in_1_to_32() {
    let mut screens = editing_address();
    press(&mut screens, &[Enter]);
    check(&screens, ["Prefix /24          ", "        ^^          "]);
    press(&mut screens, &[Up; 20]);
    check(&screens, ["Prefix /32          ", "        ^^          "]);
    press(&mut screens, &[Down; 40]);
    check(&screens, ["Prefix /1           ", "        ^           "]);
    // Right does nothing; left goes back to the address's last digit.
    press(&mut screens, &[Right, Up]);
    check(&screens, ["Prefix /2           ", "        ^           "]);
    press(&mut screens, &[Left]);
    check(&screens, ["Addr 192.000.002.050", "                   ^"]);
    press(&mut screens, &[Enter, Down]);
    check(&screens, ["Prefix /1           ", "        ^           "]);
    // A /1 host address is a host address; on to the gateway.
    press(&mut screens, &[Enter]);
    check(&screens, ["Gw   192.000.002.001", "     ^              "]);
}

#[test]
fn edit_refuses_the_subnet_and_broadcast_addresses() {
    for (typed, prefix_keys, refusal) in [
        ("192000002000", vec![], "Subnet's own address"),
        ("192000002255", vec![], "Broadcast address   "),
        ("010000000000", vec![Down; 16], "Subnet's own address"),
    ] {
        let mut screens = editing_address();
        type_address(&mut screens, typed);
        press(&mut screens, &[Enter]);
        press(&mut screens, &prefix_keys);
        press(&mut screens, &[Enter]);
        assert_eq!(screens.rows()[1], refusal, "{typed}");
    }
    // On /31 and /32 every address is a host.
    let mut screens = editing_address();
    type_address(&mut screens, "192000002000");
    press(&mut screens, &[Enter, Up, Up, Up, Up, Up, Up, Up, Enter]);
    check(&screens, ["Gw   192.000.002.001", "     ^              "]);
}

#[test]
fn edit_checks_the_gateway() {
    for (typed, refusal) in [
        ("192000003001", "Gateway off subnet  "),
        ("192000002050", "Gateway is the box  "),
        ("192000002255", "Broadcast address   "),
        ("127000000001", "Not a host address  "),
        ("192000002999", "Octet over 255      "),
    ] {
        let mut screens = editing_address();
        press(&mut screens, &[Enter, Enter]);
        type_address(&mut screens, typed);
        press(&mut screens, &[Enter]);
        assert_eq!(screens.rows()[1], refusal, "{typed}");
        // Left from the first digit goes back to the prefix.
        press(&mut screens, &[Left]);
        press(&mut screens, &[Left; 12]);
        check(&screens, ["Prefix /24          ", "        ^^          "]);
    }
}

#[test]
fn a_static_address_is_set_after_yes() {
    let mut screens = editing_address();
    type_address(&mut screens, "192000002060");
    press(&mut screens, &[Enter, Up, Enter]);
    check(&screens, ["Gw   192.000.002.001", "     ^              "]);
    // All zeros: no gateway.
    type_address(&mut screens, "000000000000");
    assert_eq!(press(&mut screens, &[Enter]), []);
    check(&screens, ["192.0.2.60/25?      ", NO]);
    let expect = PanelAction::SetNetwork(Network::Static(StaticNetwork {
        address: Ipv4Addr::new(192, 0, 2, 60),
        prefix: 25,
        gateway: None,
    }));
    assert_eq!(press(&mut screens, &[Right, Enter]), [expect]);
    check(&screens, ["192.0.2.60/25       ", "Saving...           "]);
    screens.finished(Outcome::Note("Applies at reboot".into()));
    press(&mut screens, &[Enter]);
    check(&screens, ["Network       static", "192.0.2.50/24       "]);

    // With a gateway; "no" at the question changes nothing.
    let mut screens = editing_address();
    press(&mut screens, &[Enter, Enter, Enter]);
    check(&screens, ["192.0.2.50/24?      ", NO]);
    assert_eq!(press(&mut screens, &[Enter]), []);
    check(&screens, ["Network       static", "192.0.2.50/24       "]);
    press(&mut screens, &[Enter, Enter, Enter, Enter, Enter, Right]);
    let set = press(&mut screens, &[Enter]);
    assert_eq!(
        set,
        [PanelAction::SetNetwork(Network::Static(StaticNetwork {
            address: Ipv4Addr::new(192, 0, 2, 50),
            prefix: 24,
            gateway: Some(Ipv4Addr::new(192, 0, 2, 1)),
        }))]
    );
}

#[test]
fn dhcp_and_back_from_the_mode() {
    let mut screens = on(static_view(), Screen::Network);
    press(&mut screens, &[Enter, Left]);
    check(&screens, ["Network mode        ", ">DHCP  static  back "]);
    press(&mut screens, &[Enter]);
    check(&screens, ["Use DHCP?           ", NO]);
    assert_eq!(
        press(&mut screens, &[Right, Enter]),
        [PanelAction::SetNetwork(Network::Dhcp)]
    );
    check(&screens, ["Use DHCP            ", "Saving...           "]);
    screens.finished(Outcome::Done);

    // Back (also reached going round) leaves without a question.
    press(&mut screens, &[Enter, Right]);
    check(&screens, ["Network mode        ", " DHCP  static >back "]);
    press(&mut screens, &[Right]);
    check(&screens, ["Network mode        ", ">DHCP  static  back "]);
    press(&mut screens, &[Up]);
    assert_eq!(press(&mut screens, &[Enter]), []);
    check(&screens, ["Network       static", "192.0.2.50/24       "]);

    // From DHCP, the editor starts from the leased address and /24.
    let mut screens = on(view(), Screen::Network);
    press(&mut screens, &[Enter]);
    check(&screens, ["Network mode        ", ">DHCP  static  back "]);
    press(&mut screens, &[Right, Enter]);
    check(&screens, ["Addr 192.000.002.050", "     ^              "]);
    press(&mut screens, &[Enter]);
    check(&screens, ["Prefix /24          ", "        ^^          "]);
    press(&mut screens, &[Enter]);
    check(&screens, ["Gw   000.000.000.000", "     ^              "]);
}

#[test]
fn the_list_shrinks_under_the_cursor() {
    let mut screens = on(view(), Screen::Streams);
    press(&mut screens, &[Up]);
    check(&screens, STREAM_3);
    // The stream shown goes: its place in the shorter list is shown.
    let mut v = view();
    v.streams.remove(2);
    screens.set_view(v.clone());
    check(&screens, ["2/2 Slides          ", "stopped             "]);
    // A stream before it goes: the same stream stays shown.
    v.streams.remove(0);
    screens.set_view(v.clone());
    check(&screens, ["1/1 Slides          ", "stopped             "]);
    // None left: enter does nothing.
    v.streams.clear();
    screens.set_view(v.clone());
    check(&screens, ["Streams             ", "none                "]);
    assert_eq!(press(&mut screens, &[Enter, Up, Down, Enter]), []);
    check(&screens, ["Streams             ", "none                "]);
    // They come back: the first is shown.
    screens.set_view(view());
    check(&screens, STREAM_1);

    // The same for presets, and a preset added before the one shown.
    let mut screens = on(view(), Screen::Presets);
    press(&mut screens, &[Down]);
    let mut v = view();
    v.presets.insert(0, preset("p0", "Night", false, false));
    screens.set_view(v.clone());
    check(&screens, ["Preset 3/3    loaded", "Evening             "]);
    v.presets.truncate(1);
    screens.set_view(v);
    check(&screens, ["Preset 1/1          ", "Night               "]);
}

#[test]
fn views_change_under_a_question_and_an_action() {
    let mut screens = on(view(), Screen::Streams);
    press(&mut screens, &[Down, Enter]);
    check(&screens, ["Start Slides?       ", NO]);
    let mut v = view();
    v.streams.remove(1);
    screens.set_view(v.clone());
    // The question stands; the answer names the stream asked about.
    check(&screens, ["Start Slides?       ", NO]);
    let start = press(&mut screens, &[Right, Enter]);
    assert_eq!(
        start,
        [PanelAction::StartStream {
            id: "s2".into(),
            name: "Slides".into()
        }]
    );
    screens.set_view(view());
    check(&screens, ["Start Slides        ", "Starting...         "]);
    screens.finished(Outcome::Failed("no stream s2".into()));
    check(&screens, ["Failed: no stream s2", "                    "]);
    // While Slides was gone, the cursor took the stream in its place.
    press(&mut screens, &[Enter]);
    check(&screens, STREAM_3);

    // Home counts what the view says is active.
    let mut screens = Screens::new(view());
    let mut v = view();
    v.streams[1].state = StreamState::Active;
    v.streams[2].state = StreamState::Active;
    v.address = Some(Ipv4Addr::new(10, 200, 100, 255));
    screens.set_view(v);
    check(&screens, ["encoder-7     3 live", "IP 10.200.100.255   "]);
}

/// Pseudo-random keys, views and outcomes: every row is 20 characters the
/// LCD shows, and an action comes only from enter on a `yes`.
#[test]
fn random_walk_keeps_the_rules() {
    let mut seed = 0x2545_f491_u32;
    let mut random = |n: u32| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (seed >> 16) % n
    };
    let mut screens = Screens::new(static_view());
    let mut actions = 0;
    for step in 0..20_000 {
        let rows = screens.rows();
        for row in &rows {
            assert_eq!(row.chars().count(), COLUMNS, "{rows:?}");
            assert!(row
                .bytes()
                .all(|b| (b' '..=b'}').contains(&b) && b != b'\\'));
        }
        if screens.pending().is_some() {
            match random(3) {
                0 => screens.finished(Outcome::Done),
                1 => screens.finished(Outcome::Failed("it broke".into())),
                _ => {}
            }
        }
        if random(20) == 0 {
            let mut v = if random(2) == 0 {
                view()
            } else {
                static_view()
            };
            v.streams.truncate(random(4) as usize);
            v.presets.truncate(random(3) as usize);
            screens.set_view(v);
        }
        let key = Key::ALL[random(5) as usize];
        let asked_yes = rows[1] == YES && rows[0].trim_end().ends_with('?');
        if let Some(action) = screens.key(key) {
            assert!(
                key == Enter && asked_yes,
                "step {step}: {action:?} after {rows:?}"
            );
            assert_eq!(screens.pending(), Some(&action));
            actions += 1;
        }
    }
    assert!(actions > 10, "the walk reached few actions: {actions}");
}
