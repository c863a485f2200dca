//! Facts about the machine, read from the OS: network interfaces, server
//! id, hostname and firmware version, as the Kraken API's `/apis/servers`
//! and `/apis/kraken/system` endpoints report them; and uptime, the mount
//! holding a path, and what a pid file's process is doing, as the serial
//! console's `status` reports them.
//!
//! And the board itself: its [`profile`] (what the box has, as data built
//! into the binary, chosen by DMI, device tree or the operator), its
//! hardware [`watchdog`] with the [`feeder`] that decides when to feed it,
//! and its [`leds`] (`docs/boards.md`); and the box's IPv4 configuration
//! as `network.conf` keeps it ([`netconf`]), which the console and the
//! front panel change.
//!
//! Everything goes through files (`/sys` and `/proc` text read, the
//! watchdog device and LED attributes written), without FFI or ioctl, so
//! the crate needs no `unsafe`. Functions taking paths exist so tests can
//! point them at fixture trees (`testdata/`: the NIC trees made by
//! `testdata/capture.sh`, the machines of `testdata/machines` by hand).
//! Missing files read as empty: the appliance's initramfs may lack some.

#![forbid(unsafe_code)]

mod error;
pub mod feeder;
mod ipv4;
mod ipv6;
pub mod leds;
mod mounts;
pub mod netconf;
mod nic;
mod pid_file;
pub mod profile;
mod server_id;
#[cfg(test)]
mod test_tree;
#[cfg(test)]
mod tests;
mod uptime;
pub mod watchdog;

use std::fs;
use std::path::Path;

pub use error::BoardError;
pub use feeder::WatchdogFeeder;
pub use leds::{led_states, ApplianceState, LedState, Leds};
pub use mounts::{mount_of, Mount, MountError};
pub use nic::{list_nics, list_nics_in, Nic};
pub use pid_file::{pid_file_state, PidFileError, PidState};
pub use profile::{choose, select, BoardProfile, ProfileError, Selection};
pub use server_id::server_id;
pub use uptime::{uptime, UptimeError};
pub use watchdog::{Watchdog, WatchdogError, WatchdogInfo};

/// Used when the kernel does not say: the name every host answers to.
const FALLBACK_HOSTNAME: &str = "localhost";

/// The kernel's host name (`/proc/sys/kernel/hostname`), trimmed, or
/// `localhost` if it is unreadable or empty.
pub fn hostname() -> String {
    hostname_from(Path::new("/proc/sys/kernel/hostname"))
}

fn hostname_from(path: &Path) -> String {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| FALLBACK_HOSTNAME.to_owned())
}

/// The firmware version, which is the workspace version all crates share.
pub fn firmware_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
