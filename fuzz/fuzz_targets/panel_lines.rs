//! The front panel's input path (`makara-panel`): what a device sends on
//! the serial line, cut into reads of 1-255 bytes sized by the first byte,
//! through the line reader; every key then goes to the screens, which hear
//! at once how each action they return went, and every `HELLO` changes the
//! view under them. Checked: nothing panics; every push takes bytes and the
//! reader holds at most `MAX_LINE`; the input read whole says the same as
//! in reads; every row is 20 characters the LCD shows; an action comes only
//! from enter.

#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use makara_panel::protocol::{COLUMNS, MAX_LINE};
use makara_panel::{
    Key, LineError, LineReader, Message, Network, Outcome, PanelView, PresetEntry, Screens,
    StaticNetwork, StreamEntry, StreamState,
};

fuzz_target!(|data: &[u8]| {
    let [cut, input @ ..] = data else {
        return;
    };
    let said = read(input, usize::from(*cut).max(1));
    assert_eq!(
        said,
        read(input, input.len().max(1)),
        "reads changed the lines"
    );

    let mut screens = Screens::new(view(0));
    let mut hellos = 0;
    for message in said.iter().flatten() {
        match *message {
            Message::Hello => {
                hellos += 1;
                screens.set_view(view(hellos));
            }
            Message::Key(key) => {
                if screens.key(key).is_some() {
                    assert_eq!(key, Key::Enter);
                    screens.finished(match hellos % 3 {
                        0 => Outcome::Done,
                        1 => Outcome::Note("Applies at reboot".into()),
                        _ => Outcome::Failed("no media engine in this build".into()),
                    });
                }
            }
        }
        for row in screens.rows() {
            assert_eq!(row.len(), COLUMNS);
            assert!(row
                .bytes()
                .all(|b| (b' '..=b'}').contains(&b) && b != b'\\'));
        }
    }
});

fn read(input: &[u8], cut: usize) -> Vec<Result<Message, LineError>> {
    let mut reader = LineReader::new();
    let mut said = Vec::new();
    for mut piece in input.chunks(cut) {
        while !piece.is_empty() {
            let (used, got) = reader.push(piece);
            assert!(used > 0 && used <= piece.len());
            assert!(reader.held() <= MAX_LINE);
            said.extend(got);
            piece = &piece[used..];
        }
    }
    said
}

/// A box whose streams, presets and network change with `n`.
fn view(n: usize) -> PanelView {
    let names = ["Camera one", "Slides", "Caf\u{e9} \\ ~ a long stream name"];
    let states = [
        StreamState::Active,
        StreamState::Stopped,
        StreamState::Waiting,
    ];
    PanelView {
        box_name: "encoder-7".into(),
        address: (n % 4 != 3).then(|| Ipv4Addr::new(192, 0, 2, 50)),
        network: match n % 2 {
            0 => Network::Dhcp,
            _ => Network::Static(StaticNetwork {
                address: Ipv4Addr::new(192, 0, 2, 50),
                prefix: 24,
                gateway: Some(Ipv4Addr::new(192, 0, 2, 1)),
            }),
        },
        streams: (0..(n + 2) % 4)
            .map(|i| StreamEntry {
                id: format!("s{i}"),
                name: names[i % 3].into(),
                state: states[(i + n) % 3],
                output_kbps: Some(4000 * i as u32 * n as u32),
            })
            .collect(),
        presets: (0..(n + 1) % 3)
            .map(|i| PresetEntry {
                id: format!("p{i}"),
                name: names[(i + 1) % 3].into(),
                is_default: i == 0,
                loaded: i == n % 2,
            })
            .collect(),
        api_enabled: n % 2 == 0,
    }
}
