//! Board profiles: what one supported box has, as data.
//!
//! A profile is a TOML file in `board/profiles/<name>.toml`, built into the
//! binary ([`builtin`]) so the appliance image needs no files. It says how
//! to recognise the board (DMI strings, device-tree `compatible`), its
//! capture devices and their ports, its NICs, serial console, front panel,
//! watchdog and LEDs, and its limits. Parsing is strict: an unknown key is
//! an error, and [`parse`] turns the file's [`request`] shape into a
//! [`BoardProfile`] only when every field is within its range, or fails
//! with a [`ProfileError`] naming the file, the field and what is allowed.
//!
//! [`select`] picks the profile of the running machine: the one named by
//! the operator, else the first whose DMI or device-tree patterns match,
//! else the fallback of the machine's architecture (`docs/boards.md`).

#![deny(missing_docs)]

mod builtin;
mod check;
mod error;
mod machine;
pub mod request;
mod select;
#[cfg(test)]
mod tests;
mod validate;

use std::path::PathBuf;

pub use builtin::{builtin, BUILTIN};
pub use error::ProfileError;
pub use machine::Machine;
pub use select::{choose, choose_from, select, select_from, Reason, Selection};
pub use validate::parse;

/// The most streams a profile may allow.
pub const MAX_STREAMS: u32 = 64;
/// The widest picture a profile may allow, as the transcoder's `width`.
pub const MAX_WIDTH: u32 = 3840;
/// The tallest picture a profile may allow, as the transcoder's `height`.
pub const MAX_HEIGHT: u32 = 2160;

/// One supported box, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardProfile {
    /// Its name, which is also its file's stem (`qemu-x86_64`).
    pub name: String,
    /// One line for people (`QEMU q35 virtual machine, x86_64`).
    pub description: String,
    /// The CPU architecture it runs, as Rust names it (`x86_64`, `aarch64`).
    pub arch: Arch,
    /// How [`select`] knows the board.
    pub recognise: Recognise,
    /// Its capture devices, in the order their ports are numbered.
    pub capture: Vec<CaptureDevice>,
    /// Its network interfaces, by name or name prefix.
    pub nics: Vec<Pattern>,
    /// The serial console's tty name (`ttyS0`, `ttyAMA10`), without `/dev/`.
    pub serial_console: String,
    /// The front panel's serial device, if the board has one.
    pub front_panel: Option<PathBuf>,
    /// The hardware watchdog's device, if the board has one.
    pub watchdog: Option<PathBuf>,
    /// Which `/sys/class/leds` LED shows what.
    pub leds: LedNames,
    /// What the board can carry.
    pub limits: Limits,
}

/// A CPU architecture a profile can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// 64-bit x86.
    X86_64,
    /// 64-bit ARM.
    Aarch64,
}

impl Arch {
    /// Every architecture, by its name.
    pub const ALL: [(&'static str, Arch); 2] =
        [("x86_64", Arch::X86_64), ("aarch64", Arch::Aarch64)];

    /// The architecture named as Rust's `std::env::consts::ARCH` names it.
    pub fn from_name(name: &str) -> Option<Arch> {
        Arch::ALL.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }

    /// Its name (`x86_64`, `aarch64`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

/// How a board is recognised. A profile is either its architecture's
/// fallback or names at least one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognise {
    /// Taken when no other profile of the architecture matches.
    Fallback,
    /// Matched by the firmware's own description of the machine.
    By {
        /// DMI (`/sys/class/dmi/id`): the board matches when `sys_vendor`
        /// matches one of these...
        dmi_sys_vendor: Vec<Pattern>,
        /// ...and, if this is not empty, `product_name` matches one of these.
        dmi_product_name: Vec<Pattern>,
        /// Device tree: the board matches when one of these is among the
        /// root node's `compatible` strings.
        dt_compatible: Vec<String>,
    },
}

/// A name, or a name prefix when it ends in `*` (`eth*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` is the name, or starts with the prefix.
    pub fn matches(&self, text: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => text.starts_with(prefix),
            None => text == self.0,
        }
    }
}

/// One capture device and the ports it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureDevice {
    /// How to find its `/dev/video*` node.
    pub find: CaptureFind,
    /// Its ports (V4L2 inputs) with their labels; empty means every input
    /// the device reports.
    pub ports: Vec<CapturePort>,
}

/// How a capture device is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureFind {
    /// Any node whose `VIDIOC_QUERYCAP` driver is this (`uvcvideo`) and,
    /// when given, whose card name contains `card`.
    Driver {
        /// The driver name.
        driver: String,
        /// Part of the card name.
        card: Option<String>,
    },
    /// This device node.
    Device(PathBuf),
}

/// One input of a capture device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturePort {
    /// The V4L2 input index (`VIDIOC_S_INPUT`).
    pub input: u32,
    /// What the box's case calls it (`HDMI 1`).
    pub label: String,
}

/// The `/sys/class/leds` names of the three LEDs the appliance drives;
/// `None` where the board has no LED for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedNames {
    /// Lit while the appliance runs.
    pub power: Option<String>,
    /// Lit while any stream is active.
    pub stream: Option<String>,
    /// Blinks while any alarm is raised.
    pub alarm: Option<String>,
}

/// What a board can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Streams running at once, 1-64.
    pub max_streams: u32,
    /// The widest encoded picture, 16-3840.
    pub max_width: u32,
    /// The tallest encoded picture, 16-2160.
    pub max_height: u32,
}
