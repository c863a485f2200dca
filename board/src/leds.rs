//! The board's LEDs, through `/sys/class/leds/NAME`: steady on is the
//! LED's `max_brightness`, off is 0, and blinking is the kernel's `timer`
//! trigger where the LED has it (else steady on). [`led_states`] says what
//! the three LEDs a profile names show for a state of the appliance, and
//! [`Leds`] writes only what changed.
//!
//! Taking an LED over replaces its own trigger (the Raspberry Pi's ACT LED
//! normally shows SD card activity) for as long as the appliance runs.

#![deny(missing_docs)]

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::profile::LedNames;

/// Where the kernel lists LEDs.
pub const SYS_CLASS_LEDS: &str = "/sys/class/leds";
/// Half a blink, in milliseconds (the `timer` trigger's `delay_on` and
/// `delay_off`): one flash a second.
const BLINK_HALF_MS: &str = "500";

/// What one LED shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedState {
    /// Dark.
    Off,
    /// Lit, steadily.
    On,
    /// Flashing once a second.
    Blink,
}

/// What the LEDs report about the appliance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplianceState {
    /// makarad runs (false while it stops).
    pub powered: bool,
    /// At least one stream is active.
    pub streaming: bool,
    /// At least one alarm is raised (an input lost, an output failing).
    pub alarm: bool,
}

/// What each of the three LEDs shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedStates {
    /// The power LED.
    pub power: LedState,
    /// The stream LED.
    pub stream: LedState,
    /// The alarm LED.
    pub alarm: LedState,
}

/// The LEDs for `state`: power lit while powered, stream lit while any
/// stream is active, alarm blinking while any alarm is raised; all dark
/// once the appliance is no longer powered.
pub fn led_states(state: ApplianceState) -> LedStates {
    let lit = |on: bool, shown: LedState| {
        if on && state.powered {
            shown
        } else {
            LedState::Off
        }
    };
    LedStates {
        power: lit(true, LedState::On),
        stream: lit(state.streaming, LedState::On),
        alarm: lit(state.alarm, LedState::Blink),
    }
}

/// An LED that could not be set.
#[derive(Debug, thiserror::Error)]
#[error("cannot set the LED {}: {source}", path.display())]
pub struct LedError {
    /// The file that failed (the LED's directory when it is missing).
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

/// Sets the LED `name` under `sys_class_leds` (normally
/// [`SYS_CLASS_LEDS`]) and returns what it shows: [`LedState::On`] for a
/// blink the LED cannot do (no `timer` trigger).
///
/// # Errors
///
/// [`LedError`] when the LED does not exist or a file cannot be written.
pub fn set_led(sys_class_leds: &Path, name: &str, state: LedState) -> Result<LedState, LedError> {
    let dir = sys_class_leds.join(name);
    if !dir.is_dir() {
        return Err(LedError {
            path: dir,
            source: io::Error::from(io::ErrorKind::NotFound),
        });
    }
    let triggers = fs::read_to_string(dir.join("trigger")).unwrap_or_default();
    let can_blink = triggers
        .split_whitespace()
        .any(|t| t.trim_matches(|c| c == '[' || c == ']') == "timer");
    match state {
        LedState::Blink if can_blink => {
            write(&dir, "trigger", "timer")?;
            write(&dir, "delay_on", BLINK_HALF_MS)?;
            write(&dir, "delay_off", BLINK_HALF_MS)?;
            Ok(LedState::Blink)
        }
        LedState::Off => {
            // Brightness 0 also ends any trigger.
            write(&dir, "brightness", "0")?;
            Ok(LedState::Off)
        }
        LedState::On | LedState::Blink => {
            if !triggers.is_empty() {
                write(&dir, "trigger", "none")?;
            }
            let max = fs::read_to_string(dir.join("max_brightness"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .filter(|m| *m > 0)
                .unwrap_or(1);
            write(&dir, "brightness", &max.to_string())?;
            Ok(LedState::On)
        }
    }
}

/// Writes an LED attribute that must exist (sysfs creates none). Truncating
/// is what a shell's `>` does too: sysfs ignores it, a fake tree needs it.
fn write(dir: &Path, attribute: &str, value: &str) -> Result<(), LedError> {
    let path = dir.join(attribute);
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|source| LedError { path, source })
}

/// A profile's three LEDs, set only when what they show changes.
#[derive(Debug)]
pub struct Leds {
    dir: PathBuf,
    names: LedNames,
    shown: Option<LedStates>,
}

impl Leds {
    /// The LEDs `names` (a profile's `leds`) under `sys_class_leds`
    /// (normally [`SYS_CLASS_LEDS`]). Nothing is written yet.
    pub fn new(sys_class_leds: &Path, names: &LedNames) -> Leds {
        Leds {
            dir: sys_class_leds.to_owned(),
            names: names.clone(),
            shown: None,
        }
    }

    /// Shows `state`: sets each named LED whose state changed since the
    /// last call (every one the first time). An LED that fails is tried
    /// again only at its next change, so a missing LED is reported once.
    ///
    /// # Errors
    ///
    /// The first [`LedError`]; the other LEDs are still set.
    pub fn show(&mut self, state: ApplianceState) -> Result<(), LedError> {
        let wanted = led_states(state);
        let before = self.shown.replace(wanted);
        let roles = [
            (&self.names.power, wanted.power, before.map(|b| b.power)),
            (&self.names.stream, wanted.stream, before.map(|b| b.stream)),
            (&self.names.alarm, wanted.alarm, before.map(|b| b.alarm)),
        ];
        let mut first_error = None;
        for (name, want, was) in roles {
            let Some(name) = name else { continue };
            if was == Some(want) {
                continue;
            }
            if let Err(e) = set_led(&self.dir, name, want) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests;
