//! Which board `makarad` runs on: the profile named by `--board`, else the
//! one that recognises the machine by DMI or device tree, else the
//! architecture's generic one (`docs/boards.md`), and what of it `serve`
//! uses: the supervisor's limits, the watchdog device and the LEDs.

use std::path::{Path, PathBuf};

use makara_board::Selection;
use makara_supervisor::BoardLimits;

use crate::exit::{ExitCode, Failure};
use crate::watchdog::WatchdogSetting;

/// The board of `--board NAME` (`None`: the running machine's), logged with
/// why it was chosen.
///
/// # Errors
///
/// An unknown name, listing the known ones; a machine no profile takes
/// (an architecture without a fallback).
pub fn choose(explicit: Option<&str>) -> Result<Selection, Failure> {
    let chosen = makara_board::choose(explicit, Path::new("/"))
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    let profile = &chosen.profile;
    let limits = &profile.limits;
    tracing::info!(
        board = %profile.name,
        max_streams = limits.max_streams,
        max_picture = %format!("{}x{}", limits.max_width, limits.max_height),
        "board {}: {} ({})",
        profile.name,
        profile.description,
        chosen.reason
    );
    Ok(chosen)
}

/// The supervisor's limits on this board.
pub fn limits(chosen: &Selection) -> BoardLimits {
    BoardLimits::from(&chosen.profile.limits)
}

/// The watchdog device to feed: `--watchdog` if given, else the profile's;
/// `None` for none, with where that was decided.
pub fn watchdog_device(
    chosen: &Selection,
    setting: Option<&WatchdogSetting>,
) -> (Option<PathBuf>, &'static str) {
    match setting {
        Some(WatchdogSetting::None) => (None, "--watchdog none"),
        Some(WatchdogSetting::Device(path)) => (Some(path.clone()), "--watchdog"),
        None => (chosen.profile.watchdog.clone(), "the board profile"),
    }
}

/// `name: description`, the console's `status` line.
pub fn describe(chosen: &Selection) -> String {
    format!("{}: {}", chosen.profile.name, chosen.profile.description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Selection {
        makara_board::choose(Some(name), Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn the_watchdog_flag_overrides_the_profile() {
        let qemu = named("qemu-x86_64");
        assert_eq!(
            watchdog_device(&qemu, None),
            (Some(PathBuf::from("/dev/watchdog")), "the board profile")
        );
        assert_eq!(
            watchdog_device(&qemu, Some(&WatchdogSetting::None)),
            (None, "--watchdog none")
        );
        let fake = WatchdogSetting::Device(PathBuf::from("/tmp/wd"));
        assert_eq!(
            watchdog_device(&qemu, Some(&fake)),
            (Some(PathBuf::from("/tmp/wd")), "--watchdog")
        );
    }

    #[test]
    fn the_profile_gives_the_supervisor_its_limits() {
        let pi = named("raspberrypi-5");
        assert_eq!(limits(&pi), BoardLimits::new(2, 1920, 1080));
        assert_eq!(
            describe(&pi),
            "raspberrypi-5: Raspberry Pi 5 Model B (BCM2712, RP1)"
        );
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let failure = choose(Some("rpi5")).unwrap_err();
        assert_eq!(failure.code, ExitCode::Failed);
        let text = failure.error.to_string();
        assert!(
            text.starts_with("no board profile is named 'rpi5' (known: qemu-x86_64,"),
            "{text}"
        );
    }
}
