//! How each screen, question and action under way looks on the LCD
//! (`docs/front-panel.md` draws them).

use super::text::{question, row, spread};
use super::NetLine;
use crate::view::{Network, PanelAction, PanelView, StreamState};

/// Above this many kbit/s, a rate is shown in Mbit/s.
const MAX_KBPS_SHOWN: u32 = 99_999;

/// The box name and how many streams are active; the IP address.
pub(super) fn home(view: &PanelView) -> [String; 2] {
    let active = view
        .streams
        .iter()
        .filter(|s| s.state == StreamState::Active)
        .count();
    let address = view
        .address
        .map_or_else(|| "none".to_string(), |a| a.to_string());
    [
        spread(&view.box_name, &format!("{active} live")),
        row(&format!("IP {address}")),
    ]
}

/// Stream `at` of the list: its place and name; its state and rate.
pub(super) fn stream(view: &PanelView, at: usize) -> [String; 2] {
    let Some(stream) = view.streams.get(at) else {
        return [row("Streams"), row("none")];
    };
    let rate = stream.output_kbps.map(rate).unwrap_or_default();
    [
        row(&format!(
            "{}/{} {}",
            at + 1,
            view.streams.len(),
            stream.name
        )),
        spread(stream.state.word(), &rate),
    ]
}

fn rate(kbps: u32) -> String {
    if kbps > MAX_KBPS_SHOWN {
        format!("{} Mbit/s", kbps / 1000)
    } else {
        format!("{kbps} kbit/s")
    }
}

/// Preset `at` of the list: its place and whether it is loaded; its name
/// and whether it is the boot (default) preset.
pub(super) fn preset(view: &PanelView, at: usize) -> [String; 2] {
    let Some(preset) = view.presets.get(at) else {
        return [row("Presets"), row("none saved")];
    };
    let place = format!("Preset {}/{}", at + 1, view.presets.len());
    [
        spread(&place, if preset.loaded { "loaded" } else { "" }),
        spread(&preset.name, if preset.is_default { "default" } else { "" }),
    ]
}

/// The IP mode; the address (or the gateway, after up or down).
pub(super) fn network(view: &PanelView, line: NetLine) -> [String; 2] {
    let (mode, below) = match (view.network, line) {
        (Network::Dhcp, NetLine::Address) => (
            "DHCP",
            view.address
                .map_or_else(|| "no address".to_string(), |a| a.to_string()),
        ),
        (Network::Dhcp, NetLine::Gateway) => ("DHCP", "gw from DHCP".to_string()),
        (Network::Static(c), NetLine::Address) => ("static", format!("{}/{}", c.address, c.prefix)),
        (Network::Static(c), NetLine::Gateway) => (
            "static",
            c.gateway
                .map_or_else(|| "gw none".to_string(), |g| format!("gw {g}")),
        ),
    };
    [spread("Network", mode), row(&below)]
}

/// The API switch, and what enter does to it.
pub(super) fn api(view: &PanelView) -> [String; 2] {
    let (now, enter) = match view.api_enabled {
        true => ("on", "enter: turn off"),
        false => ("off", "enter: turn on"),
    };
    [spread("API", now), row(enter)]
}

/// The question before `action`, `yes` or `no` marked.
pub(super) fn confirm(action: &PanelAction, yes: bool) -> [String; 2] {
    let mark = |chosen: bool| if chosen { '>' } else { ' ' };
    [
        question(&subject(action)),
        row(&format!("{}no  {}yes", mark(!yes), mark(yes))),
    ]
}

/// `action` under way.
pub(super) fn pending(action: &PanelAction) -> [String; 2] {
    let doing = match action {
        PanelAction::LoadPreset { .. } => "Loading...",
        PanelAction::StartStream { .. } => "Starting...",
        PanelAction::StopStream { .. } => "Stopping...",
        PanelAction::SetApi(_) | PanelAction::SetNetwork(_) => "Saving...",
    };
    [row(&subject(action)), row(doing)]
}

/// What `action` does, in a few words.
fn subject(action: &PanelAction) -> String {
    match action {
        PanelAction::LoadPreset { name, .. } => format!("Load {name}"),
        PanelAction::StartStream { name, .. } => format!("Start {name}"),
        PanelAction::StopStream { name, .. } => format!("Stop {name}"),
        PanelAction::SetApi(true) => "Turn API on".into(),
        PanelAction::SetApi(false) => "Turn API off".into(),
        PanelAction::SetNetwork(Network::Dhcp) => "Use DHCP".into(),
        PanelAction::SetNetwork(Network::Static(c)) => format!("{}/{}", c.address, c.prefix),
    }
}
