//! The board's LEDs in `makarad serve`: a thread that shows the appliance's
//! state through [`Leds::show`] once a second (which writes only what
//! changed), and turns them off when makarad stops (`docs/boards.md`).
//!
//! The state comes from the supervisor's stream list, a read answered from
//! its last snapshot: streaming while any stream is active; an alarm while
//! any started stream waits with a reason (its input lost, its start
//! failing and retried).

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use makara_board::profile::LedNames;
use makara_board::{ApplianceState, Leds};
use makara_supervisor::{Command, Handle, Kind, Reply, StreamState, StreamView};

/// How often the LEDs follow the state.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The running LED thread. Dropping it turns the LEDs off.
pub struct LedThread {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

/// Starts showing the state on `names` under `root` (normally
/// `/sys/class/leds`); `None` when the profile names no LED.
pub fn start(root: &Path, names: &LedNames, supervisor: &Handle) -> Option<LedThread> {
    let named: Vec<&str> = [&names.power, &names.stream, &names.alarm]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if named.is_empty() {
        tracing::info!("LEDs: the board has none");
        return None;
    }
    let mut leds = Leds::new(root, names);
    let supervisor = supervisor.clone();
    let (stop, stopping) = mpsc::channel::<()>();
    let spawned = thread::Builder::new()
        .name("leds".into())
        .spawn(move || loop {
            show(&mut leds, state_of(&supervisor));
            match stopping.recv_timeout(INTERVAL) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                    show(&mut leds, ApplianceState::default());
                    return;
                }
            }
        });
    match spawned {
        Ok(thread) => {
            tracing::info!(
                root = %root.display(),
                "LEDs: {} show power, streams and alarms",
                named.join(", ")
            );
            Some(LedThread {
                stop,
                thread: Some(thread),
            })
        }
        Err(e) => {
            tracing::error!("LEDs: no thread for them: {e}");
            None
        }
    }
}

impl Drop for LedThread {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `Leds::show` reports an LED's failure once per change of what it
/// shows, so every error it returns is worth a line.
fn show(leds: &mut Leds, state: ApplianceState) {
    if let Err(e) = leds.show(state) {
        tracing::warn!("LEDs: {e}");
    }
}

/// The appliance's state as the supervisor reports its streams. A
/// supervisor that cannot answer shows as powered, nothing more.
fn state_of(supervisor: &Handle) -> ApplianceState {
    match supervisor.call(Command::List(Kind::Stream)) {
        Ok(Reply::Streams(streams)) => state_of_streams(&streams),
        _ => ApplianceState {
            powered: true,
            ..ApplianceState::default()
        },
    }
}

fn state_of_streams(streams: &[StreamView]) -> ApplianceState {
    ApplianceState {
        powered: true,
        streaming: streams.iter().any(|s| s.state == StreamState::Active),
        alarm: streams
            .iter()
            .any(|s| s.state == StreamState::Waiting && s.last_error.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use makara_supervisor::NoMediaEngine;
    use makara_test_support::TestDir;

    use super::*;

    fn names(power: &str, stream: &str) -> LedNames {
        LedNames {
            power: Some(power.into()),
            stream: Some(stream.into()),
            alarm: None,
        }
    }

    fn led(dir: &TestDir, name: &str) {
        dir.write(format!("leds/{name}/brightness"), "0\n");
        dir.write(format!("leds/{name}/max_brightness"), "255\n");
        dir.write(format!("leds/{name}/trigger"), "[none] timer mmc0\n");
    }

    #[test]
    fn no_leds_no_thread() {
        let dir = TestDir::new("leds-none");
        let (supervisor, _thread) = Handle::start(dir.path(), Box::new(NoMediaEngine)).unwrap();
        assert!(start(dir.path(), &LedNames::default(), &supervisor).is_none());
    }

    /// Powered while it runs (no stream is active: the stream LED stays
    /// dark), all dark once it stops.
    #[test]
    fn power_is_lit_while_running_and_dark_after() {
        let dir = TestDir::new("leds-power");
        led(&dir, "PWR");
        led(&dir, "ACT");
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let (supervisor, _thread) = Handle::start(&data, Box::new(NoMediaEngine)).unwrap();
        let root = dir.path().join("leds");
        let running = start(&root, &names("PWR", "ACT"), &supervisor).expect("started");
        let brightness = |name: &str| fs::read_to_string(root.join(name).join("brightness"));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while brightness("PWR").unwrap() != "255" && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(brightness("PWR").unwrap(), "255");
        assert_eq!(
            fs::read_to_string(root.join("PWR/trigger")).unwrap(),
            "none"
        );
        assert_eq!(brightness("ACT").unwrap().trim(), "0");
        drop(running);
        assert_eq!(brightness("PWR").unwrap(), "0");
    }
}
