//! The front panel of issue 13: a 2×20 character LCD and five keys (up,
//! down, left, right, enter), behind a small trait ([`Panel`]) with one
//! driver for a panel on a serial line ([`SerialPanel`]).
//!
//! - [`protocol`]: the line protocol, sans-IO. The device sends
//!   `KEY <name>` and `HELLO`; the appliance sends `LCD <row> <text>`.
//!   Reading is bounded and never panics.
//! - [`Screens`]: the screens and what the keys do on them, a pure state
//!   machine fed the caller's [`PanelView`] and keys, giving back the two
//!   rows to show and the [`PanelAction`]s the user confirmed.
//! - [`Panel`], [`SerialPanel`]: showing rows and waiting for keys on a
//!   tty or socket the caller opened.
//!
//! `docs/front-panel.md` describes the protocol and draws every screen.
//! This crate knows nothing of the supervisor: the appliance builds the
//! views and carries out the actions.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod panel;
pub mod protocol;
mod screens;
mod view;

pub use panel::{Panel, SerialPanel};
pub use protocol::{Key, LineError, LineReader, Message};
pub use screens::{Screen, Screens, DEFAULT_PREFIX, MAX_PREFIX};
pub use view::{
    Network, Outcome, PanelAction, PanelView, PresetEntry, StaticNetwork, StreamEntry, StreamState,
};
