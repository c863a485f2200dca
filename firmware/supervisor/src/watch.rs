//! The watch: a thread that notices what happens without a command, for
//! the event log and the recordings.
//!
//! - The recorder's notices: a recording that finished on its own (a full
//!   disk, a failed write) has its taps taken off and its event recorded
//!   at once.
//! - Every [`CHECK_EVERY`], the running streams as the engine reports
//!   them: a network input that stops or starts receiving again (input
//!   lost, recovered), a stream that was active and is waiting (failed,
//!   with the engine's reason) or active again (recovered). And any
//!   finished recording whose notice was missed.
//!
//! It wakes every [`TICK`] at most (the stop flag is seen within it) and
//! holds the engine's lock only to copy the states.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use makara_config::Id;
use makara_recorder::Finished;

use crate::events::EventKind;
use crate::resources::Resources;
use crate::shared::Shared;
use crate::views::StreamState;

/// The longest the watch sleeps: how soon it sees the stop flag.
const TICK: Duration = Duration::from_millis(100);
/// How often the streams are looked at.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Starts the watch; it ends once `shared.stopping` is set.
pub(crate) fn spawn(shared: Arc<Shared>) -> io::Result<JoinHandle<()>> {
    let notices = shared
        .recordings
        .recorder()
        .ok()
        .map(makara_recorder::Recorder::subscribe);
    let mut watch = Watch {
        shared,
        notices,
        seen: HashMap::new(),
    };
    thread::Builder::new()
        .name("watch".into())
        .spawn(move || watch.run())
}

struct Watch {
    shared: Arc<Shared>,
    notices: Option<Receiver<Finished>>,
    /// What each running stream looked like at the last check.
    seen: HashMap<Id, Seen>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    state: StreamState,
    /// A network input's `receiving`; `None` for other sources.
    receiving: Option<bool>,
    /// A network input's count of losses.
    losses: u64,
    /// Its "input lost" was recorded, and no "recovered" since.
    lost: bool,
    /// Its "stream failed" was recorded, and no "recovered" since.
    failed: bool,
    /// The engine's count of the stream's failed runs.
    failures: u64,
}

/// A running stream as the engine reports it now.
struct Look {
    id: Id,
    state: StreamState,
    problem: Option<String>,
    /// A network input's report.
    input: Option<InputLook>,
    /// Runs that failed and were retried since the stream started.
    failures: u64,
}

/// A network input as the stream reports it now.
struct InputLook {
    receiving: bool,
    error: Option<String>,
    /// Times it stopped receiving since the stream started.
    losses: u64,
}

impl Watch {
    fn run(&mut self) {
        let mut last_check = Instant::now();
        while !self.shared.stopping.load(Ordering::Acquire) {
            self.wait_for_notice();
            if last_check.elapsed() >= CHECK_EVERY {
                last_check = Instant::now();
                self.check_streams();
                let shared = &self.shared;
                shared.recordings.sweep(&shared.engine, &shared.events);
            }
        }
    }

    /// Handles the next notice, or sleeps for a tick.
    fn wait_for_notice(&mut self) {
        let Some(notices) = &self.notices else {
            thread::sleep(TICK);
            return;
        };
        match notices.recv_timeout(TICK) {
            Ok(notice) => {
                let shared = &self.shared;
                shared
                    .recordings
                    .notice(&shared.engine, &shared.events, &notice);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.notices = None,
        }
    }

    fn check_streams(&mut self) {
        let Some(snapshot) = self.shared.snapshot() else {
            return;
        };
        let looks = self.look(&snapshot.doc.current);
        let mut seen = HashMap::with_capacity(looks.len());
        for look in looks {
            let before = self.seen.get(&look.id).copied();
            let now = self.compare(&snapshot.doc.current, before, &look);
            seen.insert(look.id, now);
        }
        self.seen = seen;
    }

    /// Every running stream, with the engine's lock held only for this.
    fn look(&self, resources: &Resources) -> Vec<Look> {
        let engine = self.shared.engine.lock();
        let streams = resources.streams.iter();
        streams
            .filter_map(|(id, _)| {
                let state = engine.state(id)?;
                let (input, problem, failures) = match engine.stats(id) {
                    Some((stats, problem)) => {
                        let input = stats.input.map(|i| InputLook {
                            receiving: i.receiving,
                            error: i.last_error,
                            losses: i.losses,
                        });
                        (input, problem, stats.failures)
                    }
                    None => (None, None, 0),
                };
                Some(Look {
                    id: id.clone(),
                    state,
                    problem,
                    input,
                    failures,
                })
            })
            .collect()
    }

    /// Records what changed since `before` and returns what is seen now.
    fn compare(&self, resources: &Resources, before: Option<Seen>, look: &Look) -> Seen {
        let events = &self.shared.events;
        let Some(stream) = resources.streams.get(&look.id) else {
            return seen_first(look);
        };
        let mut now = before.unwrap_or_else(|| seen_first(look));
        now.state = look.state;
        if let Some(input) = &look.input {
            let input_name = resources
                .inputs
                .get(&stream.input)
                .map_or_else(|| stream.input.to_string(), |i| i.name.clone());
            let receiving = input.receiving;
            let was_receiving = before.and_then(|b| b.receiving) == Some(true);
            // The count catches a loss that began and maybe ended between
            // two looks: a sender that stopped soon after it started.
            let lost_since = input.losses > before.map_or(0, |b| b.losses);
            if (was_receiving && !receiving) || (lost_since && !now.lost) {
                let why = match &input.error {
                    Some(why) if !receiving => why.as_str(),
                    _ => "it stopped receiving",
                };
                let detail = format!("{why} (stream '{}')", stream.name);
                events.record(
                    EventKind::InputLost,
                    Some(&stream.input),
                    &input_name,
                    detail,
                );
                now.lost = true;
            } else if receiving && now.lost {
                let detail = format!("stream '{}'", stream.name);
                let kind = EventKind::InputRecovered;
                events.record(kind, Some(&stream.input), &input_name, detail);
                now.lost = false;
            }
            now.receiving = Some(receiving);
            now.losses = input.losses;
        }
        let was_active = before.is_some_and(|b| b.state == StreamState::Active);
        let input_down = look.input.as_ref().is_some_and(|i| !i.receiving);
        // As with input losses, the count catches a failed run that was
        // retried and running again before this look.
        let failed_since = look.failures > before.map_or(0, |b| b.failures);
        let stopped_delivering = was_active && look.state == StreamState::Waiting && !input_down;
        if stopped_delivering || (failed_since && !now.failed) {
            let why = match &look.problem {
                Some(why) => why.as_str(),
                None if failed_since => "it failed and was restarted",
                None => "it stopped delivering",
            };
            events.record(EventKind::StreamFailed, Some(&look.id), &stream.name, why);
            now.failed = true;
        } else if look.state == StreamState::Active && now.failed {
            let kind = EventKind::StreamRecovered;
            events.record(kind, Some(&look.id), &stream.name, "");
            now.failed = false;
        }
        now.failures = look.failures;
        now
    }
}

fn seen_first(look: &Look) -> Seen {
    Seen {
        state: look.state,
        receiving: look.input.as_ref().map(|i| i.receiving),
        losses: 0,
        lost: false,
        failed: false,
        failures: 0,
    }
}
