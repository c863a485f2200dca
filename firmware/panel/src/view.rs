//! What the screens show and what they ask for: the caller's snapshot of
//! the box ([`PanelView`]), the changes a user confirms on the panel
//! ([`PanelAction`]) and how the caller's attempt at one went
//! ([`Outcome`]). Ids are the caller's, as text; the panel only compares
//! them and hands them back.

use std::net::Ipv4Addr;

/// The box as the panel shows it, built by the caller as often as it
/// likes ([`crate::Screens::set_view`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PanelView {
    /// The host name (`makara` unless set).
    pub box_name: String,
    /// The IPv4 address the box has now, however it got it.
    pub address: Option<Ipv4Addr>,
    /// How the address is configured.
    pub network: Network,
    /// Every stream, in the caller's order.
    pub streams: Vec<StreamEntry>,
    /// Every preset, in the caller's order.
    pub presets: Vec<PresetEntry>,
    /// The API's on/off switch.
    pub api_enabled: bool,
}

pub use makara_board::netconf::{Network, StaticNetwork};

/// One stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The caller's id, handed back in actions.
    pub id: String,
    /// The stream's name.
    pub name: String,
    /// Whether it runs.
    pub state: StreamState,
    /// What the stream sends, while it runs and the caller knows.
    pub output_kbps: Option<u32>,
}

/// A stream's state, in the supervisor's three words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// Started, and sending.
    Active,
    /// Started, not sending yet (or retrying after a failure).
    Waiting,
    /// Not started.
    Stopped,
}

impl StreamState {
    /// The word the stream screen shows.
    pub fn word(self) -> &'static str {
        match self {
            StreamState::Active => "active",
            StreamState::Waiting => "waiting",
            StreamState::Stopped => "stopped",
        }
    }
}

/// One preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetEntry {
    /// The caller's id, handed back in actions.
    pub id: String,
    /// The preset's name.
    pub name: String,
    /// The preset loaded at boot.
    pub is_default: bool,
    /// The preset last loaded, if the caller knows.
    pub loaded: bool,
}

/// A change the user asked for on the panel and confirmed. The caller
/// carries it out and reports with [`crate::Screens::finished`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelAction {
    /// Load a preset (which stops every stream first).
    LoadPreset {
        /// The preset's id, from the view.
        id: String,
        /// Its name, for the log.
        name: String,
    },
    /// Start a stopped stream.
    StartStream {
        /// The stream's id, from the view.
        id: String,
        /// Its name, for the log.
        name: String,
    },
    /// Stop a running (active or waiting) stream.
    StopStream {
        /// The stream's id, from the view.
        id: String,
        /// Its name, for the log.
        name: String,
    },
    /// Switch the API on (`true`) or off.
    SetApi(bool),
    /// Configure the network this way.
    SetNetwork(Network),
}

/// How the caller's attempt at an action went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the next view shows it.
    Done,
    /// Done, with something the user should read (say, "Applies at
    /// reboot"), shown until the next key.
    Note(String),
    /// Not done, and why, shown until the next key.
    Failed(String),
}
