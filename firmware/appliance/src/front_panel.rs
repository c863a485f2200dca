//! The front panel in `makarad serve` (`docs/front-panel.md`): a thread of
//! its own that opens the panel's line (`--panel`, or the board profile's
//! `front_panel`), shows [`Screens`] on it, feeds it a fresh [`PanelView`]
//! about once a second and after every action, and carries out what the
//! user confirms through the same code as the serial console: streams and
//! presets through [`crate::operator`], the API switch through
//! [`crate::keys::set_api`], the network through [`NetworkPlace::change`].
//!
//! A panel that is absent, refuses to open or closes is logged and tried
//! again with backoff; serving goes on regardless. The thread never holds
//! the supervisor up: it only calls its [`Handle`], as the API does.

mod line;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use makara_access::AccessStore;
use makara_board::Nic;
use makara_panel::{
    Outcome, Panel, PanelAction, PanelView, PresetEntry, Screens, SerialPanel, StreamEntry,
    StreamState,
};
use makara_supervisor::Handle;

use crate::network::{ChangeError, NetworkPlace};
use crate::operator;

pub use line::{chosen, PanelLine, PanelSetting};

/// How often the view is built again while no key comes.
pub const VIEW_EVERY: Duration = Duration::from_secs(1);
/// The longest wait for a key, so that the end of serving is seen soon.
const KEY_WAIT: Duration = Duration::from_millis(200);
/// The first wait before the line is opened again, doubled each time it
/// fails, up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// What the panel shows when an apply command failed after the file was
/// saved (the reason goes to the log).
const APPLIES_AT_BOOT: &str = "Saved; applies at the next boot";

/// What the panel works on.
#[derive(Debug, Clone)]
pub struct PanelWork {
    pub supervisor: Handle,
    /// makarad's data directory, where the API switch is kept.
    pub data_dir: PathBuf,
    /// `network.conf` and the command that applies it.
    pub network: NetworkPlace,
}

/// The running panel thread.
#[derive(Debug)]
pub struct PanelThread {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl PanelThread {
    /// Stops the thread and waits for it: within [`KEY_WAIT`], or when the
    /// action under way is done. Its handle of the supervisor goes with it.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Release);
        if self.thread.join().is_err() {
            tracing::error!("front panel: the thread panicked");
        }
    }
}

/// Starts the panel thread on `line`.
pub fn start(line: PanelLine, work: PanelWork) -> std::io::Result<PanelThread> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    tracing::info!("front panel on {line}");
    let thread = thread::Builder::new()
        .name("front-panel".into())
        .spawn(move || run(&line, Worker::new(work), &stopping))?;
    Ok(PanelThread { stop, thread })
}

/// Opens the line and runs sessions on it until `stop`, opening it again
/// with backoff whenever it cannot be opened or a session ends.
fn run(line: &PanelLine, mut worker: Worker, stop: &AtomicBool) {
    let mut backoff = MIN_BACKOFF;
    let mut last_failure = String::new();
    while !stop.load(Ordering::Acquire) {
        match line.open() {
            Ok(opened) => {
                tracing::info!("front panel: {line} opened");
                backoff = MIN_BACKOFF;
                last_failure.clear();
                let mut panel = SerialPanel::new(opened);
                match session(&mut panel, &mut worker, stop) {
                    Ok(()) => {}
                    Err(e) => tracing::warn!("front panel: {line}: {e}; opening it again"),
                }
            }
            Err(e) => {
                let text = e.to_string();
                if text != last_failure {
                    tracing::warn!(
                        "front panel: cannot open {line}: {text}; trying again every {} s at most",
                        MAX_BACKOFF.as_secs()
                    );
                    last_failure = text;
                } else {
                    tracing::debug!("front panel: cannot open {line}: {text}");
                }
            }
        }
        pause(stop, backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    tracing::debug!("front panel: stopped");
}

/// Shows the screens on `panel` and answers its keys until `stop` (then
/// `Ok`) or until the line fails.
fn session(panel: &mut impl Panel, worker: &mut Worker, stop: &AtomicBool) -> std::io::Result<()> {
    let mut screens = Screens::new(worker.view());
    let mut next_view = Instant::now() + VIEW_EVERY;
    panel.show(&screens.rows())?;
    while !stop.load(Ordering::Acquire) {
        let wait = next_view.saturating_duration_since(Instant::now());
        if let Some(key) = panel.next_key(wait.min(KEY_WAIT))? {
            if let Some(action) = screens.key(key) {
                // "Loading..." while it is carried out.
                panel.show(&screens.rows())?;
                let outcome = worker.carry_out(&action);
                screens.set_view(worker.view());
                screens.finished(outcome);
                next_view = Instant::now() + VIEW_EVERY;
            }
        }
        if Instant::now() >= next_view {
            screens.set_view(worker.view());
            next_view = Instant::now() + VIEW_EVERY;
        }
        panel.show(&screens.rows())?;
    }
    Ok(())
}

/// Sleeps `time`, or less once `stop` is set.
fn pause(stop: &AtomicBool, time: Duration) {
    let end = Instant::now() + time;
    while !stop.load(Ordering::Acquire) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(KEY_WAIT));
    }
}

/// Builds views and carries out actions; remembers the last view, which
/// stands in for a part that cannot be read, and what it complained of.
#[derive(Debug)]
struct Worker {
    work: PanelWork,
    last: PanelView,
    /// What could not be read, by part, as last logged.
    complaints: HashMap<&'static str, String>,
}

impl Worker {
    fn new(work: PanelWork) -> Worker {
        Worker {
            work,
            last: PanelView {
                box_name: makara_board::hostname(),
                ..PanelView::default()
            },
            complaints: HashMap::new(),
        }
    }

    /// The box as it is now.
    fn view(&mut self) -> PanelView {
        let supervisor = &self.work.supervisor;
        let address = makara_board::list_nics()
            .map(|nics| box_address(&nics))
            .map_err(|e| e.to_string());
        let network = self.work.network.read().map(|conf| conf.network);
        let streams = operator::streams(supervisor).map(|lines| {
            (lines.into_iter())
                .map(|s| stream_entry(&s))
                .collect::<Vec<_>>()
        });
        let presets = operator::presets(supervisor).map(|presets| {
            (presets.into_iter())
                .map(|p| PresetEntry {
                    id: p.id.to_string(),
                    name: p.name,
                    is_default: p.is_default,
                    // The supervisor does not keep which preset was loaded
                    // last, so no preset is said to be.
                    loaded: false,
                })
                .collect::<Vec<_>>()
        });
        let api = AccessStore::open(&self.work.data_dir)
            .load()
            .map(|state| state.enabled);
        let view = PanelView {
            box_name: makara_board::hostname(),
            address: self.or_last("the address", address, |v| v.address),
            network: self.or_last("network.conf", network, |v| v.network),
            streams: self.or_last("the streams", streams, |v| v.streams.clone()),
            presets: self.or_last("the presets", presets, |v| v.presets.clone()),
            api_enabled: self.or_last("the API switch", api, |v| v.api_enabled),
        };
        self.last = view.clone();
        view
    }

    /// `result`'s value, or the last view's when it failed: a failure is
    /// logged when it is new, and its end when it ends.
    fn or_last<T, E: std::fmt::Display>(
        &mut self,
        part: &'static str,
        result: Result<T, E>,
        last: impl FnOnce(&PanelView) -> T,
    ) -> T {
        match result {
            Ok(value) => {
                if self.complaints.remove(part).is_some() {
                    tracing::info!("front panel: {part} can be read again");
                }
                value
            }
            Err(e) => {
                let text = e.to_string();
                if self.complaints.get(part) != Some(&text) {
                    tracing::warn!(
                        "front panel: cannot read {part}: {text}; showing the last known"
                    );
                    self.complaints.insert(part, text);
                }
                last(&self.last)
            }
        }
    }

    /// Carries out what the user confirmed, and says how it went; each
    /// action and its outcome is logged.
    fn carry_out(&self, action: &PanelAction) -> Outcome {
        let what = describe(action);
        tracing::info!("front panel: {what}");
        let supervisor = &self.work.supervisor;
        let operated = |r: Result<(), operator::OperatorError>| r.map_err(|e| e.to_string());
        let result = match action {
            PanelAction::LoadPreset { name, .. } => {
                operated(operator::load_preset(supervisor, name))
            }
            PanelAction::StartStream { id, .. } => operated(operator::start_stream(supervisor, id)),
            PanelAction::StopStream { id, .. } => operated(operator::stop_stream(supervisor, id)),
            PanelAction::SetApi(on) => {
                crate::keys::set_api(&self.work.data_dir, *on, &mut std::io::sink())
                    .map_err(|e| e.to_string())
            }
            PanelAction::SetNetwork(network) => match self.work.network.change(*network, None) {
                Ok(()) => Ok(()),
                Err(e @ ChangeError::Apply { .. }) => {
                    tracing::warn!("front panel: {what}: {e}");
                    return Outcome::Note(APPLIES_AT_BOOT.into());
                }
                Err(e) => Err(e.to_string()),
            },
        };
        match result {
            Ok(()) => {
                tracing::info!("front panel: {what}: done");
                Outcome::Done
            }
            Err(why) => {
                tracing::warn!("front panel: {what}: failed: {why}");
                Outcome::Failed(why)
            }
        }
    }
}

/// The action in words, for the log.
fn describe(action: &PanelAction) -> String {
    match action {
        PanelAction::LoadPreset { name, .. } => format!("load preset '{name}'"),
        PanelAction::StartStream { name, .. } => format!("start stream '{name}'"),
        PanelAction::StopStream { name, .. } => format!("stop stream '{name}'"),
        PanelAction::SetApi(true) => "turn the API on".into(),
        PanelAction::SetApi(false) => "turn the API off".into(),
        PanelAction::SetNetwork(network) => format!("set the network to {network}"),
    }
}

/// The box's IPv4 address: the first of the first interface that is up,
/// not loopback, and has one.
fn box_address(nics: &[Nic]) -> Option<Ipv4Addr> {
    nics.iter()
        .filter(|nic| nic.up && !nic.loopback)
        .find_map(|nic| {
            let first = nic.ipv4.first()?;
            first.split('/').next()?.parse().ok()
        })
}

/// A stream as the panel lists it. Streams are acted on by name (as the
/// console does), so the name is its id.
fn stream_entry(stream: &operator::StreamLine) -> StreamEntry {
    let state = match stream.state {
        makara_supervisor::StreamState::Active => StreamState::Active,
        makara_supervisor::StreamState::Waiting => StreamState::Waiting,
        makara_supervisor::StreamState::Stopped => StreamState::Stopped,
    };
    let output_kbps = match state {
        StreamState::Stopped => None,
        // Saturates: a rate beyond u32 is shown as the largest.
        _ => stream.output_kbps.map(|kbps| kbps.round().max(0.0) as u32),
    };
    StreamEntry {
        id: stream.name.clone(),
        name: stream.name.clone(),
        state,
        output_kbps,
    }
}
