//! The screen state machine: what the LCD shows and what the keys do, with
//! no device and no clock. The caller gives it views of the box
//! ([`Screens::set_view`]) and keys ([`Screens::key`]), shows its
//! [`Screens::rows`], and carries out the [`PanelAction`]s it returns,
//! reporting each with [`Screens::finished`].
//!
//! Left and right go round the screens (home, streams, presets, network,
//! API); up and down choose within a screen's list; enter acts on what is
//! shown. Everything that changes the box asks first (`no` / `yes`, `no`
//! chosen), then shows what it is doing until the caller reports, and a
//! failure until the next key. `docs/front-panel.md` draws every screen.

mod edit;
mod render;
mod text;

#[cfg(test)]
mod tests;

pub use edit::{DEFAULT_PREFIX, MAX_PREFIX};

use crate::protocol::Key;
use crate::view::{Outcome, PanelAction, PanelView, StreamState};
use edit::{Edited, Editor};

/// The screens, in the order right goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Box name, active streams, IP address.
    Home,
    /// One stream at a time: name, state, bitrate.
    Streams,
    /// One preset at a time.
    Presets,
    /// IP mode, address and gateway.
    Network,
    /// The API's switch.
    Api,
}

impl Screen {
    /// Every screen, in the order right goes through them.
    pub const ALL: [Screen; 5] = [
        Screen::Home,
        Screen::Streams,
        Screen::Presets,
        Screen::Network,
        Screen::Api,
    ];

    fn next(self, by: isize) -> Screen {
        let at = Screen::ALL.iter().position(|&s| s == self).unwrap_or(0) as isize;
        Screen::ALL[(at + by).rem_euclid(Screen::ALL.len() as isize) as usize]
    }
}

/// Which line of the network screen shows below its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NetLine {
    Address,
    Gateway,
}

/// What the keys do now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Moving between and within screens.
    Browse,
    /// Editing the network configuration.
    Edit(Editor),
    /// Asking before an action.
    Confirm { action: PanelAction, yes: bool },
    /// The caller is carrying the action out; keys do nothing.
    Pending(PanelAction),
    /// A note or failure on both rows, until the next key.
    Notice([String; 2]),
}

/// A place in a list that follows its entry (by id) when the list
/// changes, and stays in the list when the entry goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Cursor {
    at: usize,
    id: Option<String>,
}

impl Cursor {
    fn follow<'a>(&mut self, ids: impl Iterator<Item = &'a str>) {
        let ids: Vec<&str> = ids.collect();
        if let Some(at) = ids.iter().position(|&id| Some(id) == self.id.as_deref()) {
            self.at = at;
        } else {
            self.at = self.at.min(ids.len().saturating_sub(1));
        }
        self.id = ids.get(self.at).map(|id| id.to_string());
    }

    /// Moves by one, going round at either end.
    fn step<'a>(&mut self, ids: impl Iterator<Item = &'a str>, by: isize) {
        let ids: Vec<&str> = ids.collect();
        if ids.is_empty() {
            return;
        }
        self.at = (self.at as isize + by).rem_euclid(ids.len() as isize) as usize;
        self.id = Some(ids[self.at].to_string());
    }
}

/// The panel's state: the last view, where the user is, and what the keys
/// do there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screens {
    view: PanelView,
    screen: Screen,
    stream: Cursor,
    preset: Cursor,
    net_line: NetLine,
    mode: Mode,
}

impl Screens {
    /// The home screen of `view`.
    pub fn new(view: PanelView) -> Screens {
        let mut screens = Screens {
            view: PanelView::default(),
            screen: Screen::Home,
            stream: Cursor::default(),
            preset: Cursor::default(),
            net_line: NetLine::Address,
            mode: Mode::Browse,
        };
        screens.set_view(view);
        screens
    }

    /// Takes a newer view. The stream and preset shown stay the same ones
    /// while they exist; when one goes, its place in the list is shown.
    /// A question, an edit or an action under way is left as it is.
    pub fn set_view(&mut self, view: PanelView) {
        self.view = view;
        self.stream
            .follow(self.view.streams.iter().map(|s| s.id.as_str()));
        self.preset
            .follow(self.view.presets.iter().map(|p| p.id.as_str()));
    }

    /// The last view given.
    pub fn view(&self) -> &PanelView {
        &self.view
    }

    /// The screen shown (or under the question, edit or notice shown).
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// Whether an action returned by [`Screens::key`] awaits
    /// [`Screens::finished`].
    pub fn pending(&self) -> Option<&PanelAction> {
        match &self.mode {
            Mode::Pending(action) => Some(action),
            _ => None,
        }
    }

    /// Handles one key; returns the action the user just confirmed, which
    /// the caller carries out before calling [`Screens::finished`].
    pub fn key(&mut self, key: Key) -> Option<PanelAction> {
        match std::mem::replace(&mut self.mode, Mode::Browse) {
            Mode::Browse => self.browse(key),
            // The key only dismisses it.
            Mode::Notice(_) => None,
            Mode::Pending(action) => {
                self.mode = Mode::Pending(action);
                None
            }
            Mode::Confirm { action, yes } => {
                let yes = match key {
                    Key::Enter if yes => {
                        self.mode = Mode::Pending(action.clone());
                        return Some(action);
                    }
                    Key::Enter => return None,
                    Key::Left => false,
                    Key::Right => true,
                    Key::Up | Key::Down => !yes,
                };
                self.mode = Mode::Confirm { action, yes };
                None
            }
            Mode::Edit(mut editor) => {
                match editor.key(key) {
                    Edited::Stay => self.mode = Mode::Edit(editor),
                    Edited::Cancel => {}
                    Edited::Done(network) => self.ask(PanelAction::SetNetwork(network)),
                }
                None
            }
        }
    }

    /// The caller's report on the pending action. Without one pending,
    /// nothing changes.
    pub fn finished(&mut self, outcome: Outcome) {
        if !matches!(self.mode, Mode::Pending(_)) {
            return;
        }
        self.mode = match outcome {
            Outcome::Done => Mode::Browse,
            Outcome::Note(note) => Mode::Notice(text::wrap(&note)),
            Outcome::Failed(why) => Mode::Notice(text::wrap(&format!("Failed: {why}"))),
        };
    }

    /// The two rows to show, each 20 characters the LCD can show.
    pub fn rows(&self) -> [String; 2] {
        match &self.mode {
            Mode::Browse => self.browse_rows(),
            Mode::Edit(editor) => editor.rows(),
            Mode::Confirm { action, yes } => render::confirm(action, *yes),
            Mode::Pending(action) => render::pending(action),
            Mode::Notice(rows) => rows.clone(),
        }
    }

    fn browse(&mut self, key: Key) -> Option<PanelAction> {
        let streams = self.view.streams.iter().map(|s| s.id.as_str());
        let presets = self.view.presets.iter().map(|p| p.id.as_str());
        match (self.screen, key) {
            (_, Key::Left) => self.screen = self.screen.next(-1),
            (_, Key::Right) => self.screen = self.screen.next(1),
            (Screen::Streams, Key::Up) => self.stream.step(streams, -1),
            (Screen::Streams, Key::Down) => self.stream.step(streams, 1),
            (Screen::Presets, Key::Up) => self.preset.step(presets, -1),
            (Screen::Presets, Key::Down) => self.preset.step(presets, 1),
            (Screen::Network, Key::Up | Key::Down) => {
                self.net_line = match self.net_line {
                    NetLine::Address => NetLine::Gateway,
                    NetLine::Gateway => NetLine::Address,
                }
            }
            (Screen::Streams, Key::Enter) => {
                if let Some(stream) = self.view.streams.get(self.stream.at) {
                    let (id, name) = (stream.id.clone(), stream.name.clone());
                    self.ask(match stream.state {
                        StreamState::Stopped => PanelAction::StartStream { id, name },
                        StreamState::Active | StreamState::Waiting => {
                            PanelAction::StopStream { id, name }
                        }
                    });
                }
            }
            (Screen::Presets, Key::Enter) => {
                if let Some(preset) = self.view.presets.get(self.preset.at) {
                    self.ask(PanelAction::LoadPreset {
                        id: preset.id.clone(),
                        name: preset.name.clone(),
                    });
                }
            }
            (Screen::Network, Key::Enter) => self.mode = Mode::Edit(Editor::new(&self.view)),
            (Screen::Api, Key::Enter) => self.ask(PanelAction::SetApi(!self.view.api_enabled)),
            (Screen::Home | Screen::Api, Key::Up | Key::Down) | (Screen::Home, Key::Enter) => {}
        }
        None
    }

    fn ask(&mut self, action: PanelAction) {
        self.mode = Mode::Confirm { action, yes: false };
    }

    fn browse_rows(&self) -> [String; 2] {
        let view = &self.view;
        match self.screen {
            Screen::Home => render::home(view),
            Screen::Streams => render::stream(view, self.stream.at),
            Screen::Presets => render::preset(view, self.preset.at),
            Screen::Network => render::network(view, self.net_line),
            Screen::Api => render::api(view),
        }
    }
}
