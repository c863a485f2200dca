//! The hardware watchdog in `makarad serve`: fed only while the supervisor
//! thread answers (`docs/boards.md`).
//!
//! Two threads. `watchdog` opens the device (which arms it) once the
//! supervisor runs, and every [`PROBE_INTERVAL`] asks `watchdog-probe` to
//! send [`Command::Ping`], which the supervisor thread itself answers; it
//! feeds the device while [`WatchdogFeeder::should_feed`] says the last
//! answer is recent enough. The probe blocks in [`Handle::call`] while the
//! supervisor hangs, so it has a thread of its own and the feeding
//! decision never waits for it: a hung supervisor stops the feeding
//! [`PROBE_DEADLINE`] after its last answer, and the watchdog resets the
//! box one driver timeout later.
//!
//! A clean stop of makarad (SIGTERM, SIGINT, or `serve` ending with an
//! error once the watchdog is open) drops the [`WatchdogThread`], which
//! writes the magic `V` and closes: the watchdog is disarmed, and `/init`
//! restarts makarad, which arms it again. A crash or a kill closes the
//! device without the `V`: the watchdog stays armed, and the box resets
//! one timeout later unless the makarad `/init` starts again opens and
//! feeds it in time (it does, within a second or two of a crash).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use makara_board::feeder::{Answer, PROBE_DEADLINE, PROBE_INTERVAL};
use makara_board::{Watchdog, WatchdogFeeder, WatchdogInfo};
use makara_supervisor::{Command, Handle, Reply};

/// `--watchdog`: a device other than the profile's, or none at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchdogSetting {
    /// No watchdog, whatever the profile says.
    None,
    /// This device instead of the profile's.
    Device(PathBuf),
}

impl WatchdogSetting {
    /// `none`, or a path.
    pub fn parse(text: &str) -> Result<WatchdogSetting, String> {
        match text {
            "" => Err("give a device path or 'none'".into()),
            "none" => Ok(WatchdogSetting::None),
            path => Ok(WatchdogSetting::Device(PathBuf::from(path))),
        }
    }
}

/// What reaches the feeding thread.
enum Event {
    /// The supervisor answered a probe at this instant.
    Answered(Instant),
    /// A probe failed without an answer (the supervisor is gone).
    Failed(String),
    /// makarad stops cleanly: disarm.
    Stop,
}

/// The running watchdog threads. Dropping it is the clean stop: the
/// device gets its magic `V` and is closed.
pub struct WatchdogThread {
    events: Sender<Event>,
    thread: Option<JoinHandle<()>>,
}

/// Opens `device` and feeds it while `supervisor` answers. A device that
/// cannot be opened is logged, once, and the box serves without a
/// watchdog.
pub fn start(device: &Path, supervisor: &Handle) -> Option<WatchdogThread> {
    let info = WatchdogInfo::read(
        device,
        Path::new(makara_board::watchdog::SYS_CLASS_WATCHDOG),
    );
    let watchdog = match Watchdog::open(device) {
        Ok(watchdog) => watchdog,
        Err(e) => {
            tracing::error!("{e}; serving without a hardware watchdog");
            return None;
        }
    };
    let (events, inbox) = mpsc::channel();
    let (asks, probe_inbox) = mpsc::channel();
    let answers = events.clone();
    let prober = supervisor.clone();
    let probe = thread::Builder::new()
        .name("watchdog-probe".into())
        .spawn(move || probe_loop(&prober, &probe_inbox, &answers));
    if let Err(e) = probe {
        // Not fed, it would reset the box: disarm before giving up.
        let _ = watchdog.close();
        tracing::error!("watchdog: no thread for its probe: {e}; serving without it");
        return None;
    }
    let spawned = thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || feed_loop(watchdog, &inbox, &asks));
    let thread = match spawned {
        Ok(thread) => thread,
        Err(e) => {
            tracing::error!("watchdog: no thread to feed it: {e}; it stays armed");
            return None;
        }
    };
    tracing::info!(
        device = %device.display(),
        identity = info.identity.as_deref().unwrap_or("?"),
        timeout_secs = info.timeout_secs.map_or("?".to_owned(), |t| t.to_string()),
        "watchdog armed: fed every {} s while the supervisor answers within {} s",
        PROBE_INTERVAL.as_secs(),
        PROBE_DEADLINE.as_secs()
    );
    Some(WatchdogThread {
        events,
        thread: Some(thread),
    })
}

impl Drop for WatchdogThread {
    fn drop(&mut self) {
        let _ = self.events.send(Event::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends a ping for every ask, and says when the answer came.
fn probe_loop(supervisor: &Handle, asks: &Receiver<()>, events: &Sender<Event>) {
    for () in asks {
        let event = match supervisor.call(Command::Ping) {
            Ok(Reply::Pong) => Event::Answered(Instant::now()),
            Ok(other) => Event::Failed(format!("unexpected reply {other:?}")),
            Err(e) => Event::Failed(e.to_string()),
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

/// Probes every [`PROBE_INTERVAL`] (one probe out at a time) and feeds
/// while the feeder says so, until [`Event::Stop`].
fn feed_loop(mut watchdog: Watchdog, inbox: &Receiver<Event>, asks: &Sender<()>) {
    let mut feeder = WatchdogFeeder::new(PROBE_DEADLINE);
    let mut state = Feeding::default();
    let mut next_tick = Instant::now();
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match inbox.recv_timeout(wait) {
            Ok(Event::Answered(at)) => {
                state.in_flight = false;
                if let Answer::Late { waited } = feeder.probe_answered(at) {
                    tracing::warn!(
                        "watchdog: the supervisor answered after {:.1} s, later than {} s: not counted",
                        waited.as_secs_f64(),
                        PROBE_DEADLINE.as_secs()
                    );
                }
                continue;
            }
            Ok(Event::Failed(why)) => {
                state.in_flight = false;
                if !state.probe_failed {
                    tracing::error!("watchdog: the supervisor did not answer its probe: {why}");
                    state.probe_failed = true;
                }
                continue;
            }
            Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        next_tick += PROBE_INTERVAL;
        let now = Instant::now();
        if !state.in_flight && asks.send(()).is_ok() {
            feeder.probe_sent(now);
            state.in_flight = true;
        }
        if feeder.should_feed(now) {
            state.feed(&mut watchdog);
        } else {
            state.starve();
        }
    }
    match watchdog.close() {
        Ok(()) => tracing::info!("watchdog disarmed (magic close): makarad stops cleanly"),
        Err(e) => tracing::error!("{e}: the watchdog may still be armed"),
    }
}

/// What the feeding thread has said, so each change is logged once.
#[derive(Debug, Default)]
struct Feeding {
    /// A probe is out, unanswered.
    in_flight: bool,
    /// The watchdog was fed at least once.
    fed: bool,
    /// Feeding stopped for want of answers.
    starving: bool,
    /// A probe failed; said once.
    probe_failed: bool,
    /// A feed failed; said once.
    write_failed: bool,
}

impl Feeding {
    fn feed(&mut self, watchdog: &mut Watchdog) {
        match watchdog.keep_alive() {
            Ok(()) => self.write_failed = false,
            Err(e) if !self.write_failed => {
                tracing::error!("{e}");
                self.write_failed = true;
            }
            Err(_) => {}
        }
        if self.starving {
            tracing::warn!("watchdog: the supervisor answers again; feeding again");
        }
        self.fed = true;
        self.starving = false;
        self.probe_failed = false;
    }

    fn starve(&mut self) {
        if self.fed && !self.starving {
            tracing::error!(
                "watchdog: the supervisor has not answered for {} s: the watchdog is no longer fed, and resets the box when its timeout runs out",
                PROBE_DEADLINE.as_secs()
            );
        }
        self.starving = self.fed;
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Duration;

    use makara_supervisor::NoMediaEngine;
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn the_setting_is_a_path_or_none() {
        assert_eq!(WatchdogSetting::parse("none"), Ok(WatchdogSetting::None));
        assert_eq!(
            WatchdogSetting::parse("/dev/watchdog1"),
            Ok(WatchdogSetting::Device("/dev/watchdog1".into()))
        );
        assert!(WatchdogSetting::parse("").is_err());
    }

    #[test]
    fn a_device_that_cannot_be_opened_leaves_no_thread() {
        let dir = TestDir::new("watchdog-missing");
        let (supervisor, _thread) = Handle::start(dir.path(), Box::new(NoMediaEngine)).unwrap();
        assert!(start(&dir.path().join("no-such-device"), &supervisor).is_none());
    }

    /// A regular file stands in for the device: the feeds are NUL bytes,
    /// the clean stop a `V`. (The device itself is tested in QEMU:
    /// `tests/e2e/test_watchdog.py`.)
    #[test]
    fn an_answering_supervisor_is_fed_and_a_clean_stop_disarms() {
        let dir = TestDir::new("watchdog-feeds");
        let device = dir.write("watchdog", "");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let (supervisor, _thread) = Handle::start(&data, Box::new(NoMediaEngine)).unwrap();
        let fed = start(&device, &supervisor).expect("opened");
        let deadline = Instant::now() + Duration::from_secs(10);
        while fs::read(&device).unwrap().len() < 2 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        drop(fed);
        let written = fs::read(&device).unwrap();
        let (last, feeds) = written.split_last().unwrap();
        assert_eq!(*last, b'V', "{written:?}");
        assert!(feeds.len() >= 2, "{written:?}");
        assert!(feeds.iter().all(|b| *b == 0), "{written:?}");
    }

    /// A hung supervisor is not fed: a few probes in, the supervisor
    /// sleeps, and the file stops growing once the deadline passed. Takes
    /// about 13 s.
    #[test]
    fn a_hung_supervisor_is_not_fed_after_the_deadline() {
        let dir = TestDir::new("watchdog-hang");
        let device = dir.write("watchdog", "");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let (supervisor, _thread) = Handle::start(&data, Box::new(NoMediaEngine)).unwrap();
        let fed = start(&device, &supervisor).expect("opened");
        thread::sleep(Duration::from_millis(1500));
        let hang = supervisor.clone();
        let hanging = thread::spawn(move || {
            hang.call(Command::Hang(PROBE_DEADLINE + Duration::from_secs(5)))
        });
        thread::sleep(PROBE_DEADLINE + Duration::from_millis(1500));
        let starved = fs::read(&device).unwrap().len();
        thread::sleep(Duration::from_millis(2500));
        assert_eq!(fs::read(&device).unwrap().len(), starved, "fed while hung");
        // It answers again after the hang, and is fed again.
        assert!(matches!(hanging.join().unwrap(), Ok(Reply::Pong)));
        thread::sleep(Duration::from_millis(2500));
        assert!(fs::read(&device).unwrap().len() > starved, "not fed again");
        drop(fed);
        assert_eq!(fs::read(&device).unwrap().last(), Some(&b'V'));
    }
}
