//! The hardware watchdog, through the kernel's `/dev/watchdog` interface:
//! opening the device arms it, every byte written feeds it, and a `V`
//! written just before closing disarms it ("magic close").
//!
//! [`Watchdog`] is that device and nothing more: no ioctl, so the timeout
//! is the driver's own (a module parameter: `i6300esb heartbeat=`, set by
//! the image's `WATCHDOG_HEARTBEAT`; `bcm2835_wdt` is 15 s at most).
//! [`WatchdogInfo`] reads what the driver says about itself from
//! `/sys/class/watchdog`. Dropping a [`Watchdog`] without [`Watchdog::close`]
//! leaves it armed, so a supervisor that hangs or dies gets the box reset;
//! only a clean stop disarms it. That holds for drivers with magic close
//! (`WDIOF_MAGICCLOSE`, which i6300esb and bcm2835-wdt have): the kernel
//! stops a driver without it at every close, a crash's included.

#![deny(missing_docs)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the kernel describes its watchdogs.
pub const SYS_CLASS_WATCHDOG: &str = "/sys/class/watchdog";
/// `WDIOF_MAGICCLOSE` in a driver's `options` (linux/watchdog.h).
const WDIOF_MAGICCLOSE: u32 = 0x0100;
/// What feeds the watchdog: any byte but `V`.
const FEED: &[u8] = b"\0";
/// What disarms it when written last before closing.
const MAGIC_CLOSE: &[u8] = b"V";

/// An open, armed watchdog device.
#[derive(Debug)]
pub struct Watchdog {
    file: File,
    path: PathBuf,
}

/// A watchdog device that could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum WatchdogError {
    /// Opening failed: no such device (its driver not loaded), no
    /// permission, or another process holds it (`EBUSY`: the device opens
    /// once).
    #[error("cannot open the watchdog {}: {source}", path.display())]
    Open {
        /// The device.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Feeding or disarming failed.
    #[error("cannot write to the watchdog {}: {source}", path.display())]
    Write {
        /// The device.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Watchdog {
    /// Opens `path` (a profile's `watchdog`), which arms the watchdog: from
    /// now on it must be fed within its timeout. The device is never
    /// created: a missing one is an error.
    ///
    /// # Errors
    ///
    /// [`WatchdogError::Open`].
    pub fn open(path: &Path) -> Result<Watchdog, WatchdogError> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|source| WatchdogError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Watchdog {
            file,
            path: path.to_owned(),
        })
    }

    /// The device.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Feeds the watchdog: its timeout starts over.
    ///
    /// # Errors
    ///
    /// [`WatchdogError::Write`].
    pub fn keep_alive(&mut self) -> Result<(), WatchdogError> {
        self.write(FEED)
    }

    /// Disarms and closes the watchdog: the clean stop. Writes the magic
    /// `V`, then closes; a driver with magic close stops its timer (one
    /// loaded with `nowayout=1` never does, and says so in the kernel log).
    ///
    /// # Errors
    ///
    /// [`WatchdogError::Write`]: the watchdog is then closed but may still
    /// be armed.
    pub fn close(mut self) -> Result<(), WatchdogError> {
        self.write(MAGIC_CLOSE)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), WatchdogError> {
        self.file
            .write_all(bytes)
            .map_err(|source| WatchdogError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// What a watchdog's driver says about itself in `/sys/class/watchdog`;
/// each `None` where the kernel does not say (no such file, another
/// device name than `/dev/watchdog[N]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchdogInfo {
    /// The driver's name for it (`i6300ESB timer`).
    pub identity: Option<String>,
    /// Seconds without food before it resets the machine.
    pub timeout_secs: Option<u32>,
    /// Whether a `V` before closing disarms it (`WDIOF_MAGICCLOSE`); when
    /// false, any close (a crash's too) stops it. From the `options`
    /// attribute, added to Linux in 2023, after 6.1: Debian 12's kernel
    /// lacks it, so this is `None` in the image.
    pub magic_close: Option<bool>,
    /// Whether nothing can stop it once started (`nowayout`).
    pub nowayout: Option<bool>,
    /// Whether it is running (`state`: `active` or `inactive`).
    pub active: Option<bool>,
}

impl WatchdogInfo {
    /// The facts of `device` (`/dev/watchdog` is `watchdog0`) under
    /// `sys_class_watchdog` (normally [`SYS_CLASS_WATCHDOG`]).
    pub fn read(device: &Path, sys_class_watchdog: &Path) -> WatchdogInfo {
        let Some(name) = sysfs_name(device) else {
            return WatchdogInfo::default();
        };
        let dir = sys_class_watchdog.join(name);
        let attr = |file: &str| {
            fs::read_to_string(dir.join(file))
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let options =
            attr("options").and_then(|s| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok());
        WatchdogInfo {
            identity: attr("identity"),
            timeout_secs: attr("timeout").and_then(|s| s.parse().ok()),
            magic_close: options.map(|o| o & WDIOF_MAGICCLOSE != 0),
            nowayout: attr("nowayout").map(|s| s == "1"),
            active: attr("state").map(|s| s == "active"),
        }
    }
}

/// `/dev/watchdog` is the first watchdog's legacy node: `watchdog0`;
/// `/dev/watchdogN` is `watchdogN`.
fn sysfs_name(device: &Path) -> Option<String> {
    let name = device.file_name()?.to_str()?;
    let number = name.strip_prefix("watchdog")?;
    if number.is_empty() {
        return Some("watchdog0".to_owned());
    }
    number
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Read;
    use std::process::Command;

    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn feeding_writes_a_byte_and_closing_writes_the_magic_v() {
        let dir = TestDir::new("watchdog");
        let device = dir.write("watchdog", "");
        let mut watchdog = Watchdog::open(&device).unwrap();
        watchdog.keep_alive().unwrap();
        watchdog.keep_alive().unwrap();
        assert_eq!(fs::read(&device).unwrap(), b"\0\0");
        watchdog.close().unwrap();
        assert_eq!(fs::read(&device).unwrap(), b"\0\0V");
    }

    #[test]
    fn dropping_without_close_leaves_it_armed() {
        let dir = TestDir::new("watchdog");
        let device = dir.write("watchdog", "");
        let mut watchdog = Watchdog::open(&device).unwrap();
        watchdog.keep_alive().unwrap();
        drop(watchdog);
        // No V: the driver would keep counting down after the close.
        assert_eq!(fs::read(&device).unwrap(), b"\0");
    }

    #[test]
    fn a_fifo_sees_each_feed_as_it_happens() {
        let dir = TestDir::new("watchdog");
        let fifo = dir.join("watchdog");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // Read and write: opening a FIFO so never blocks on Linux, and
        // gives the watchdog's write-only open a reader.
        let mut reader = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .unwrap();
        let mut watchdog = Watchdog::open(&fifo).unwrap();
        let mut byte = [0xff_u8; 1];
        watchdog.keep_alive().unwrap();
        reader.read_exact(&mut byte).unwrap();
        assert_eq!(byte, [0]);
        watchdog.close().unwrap();
        reader.read_exact(&mut byte).unwrap();
        assert_eq!(byte, *b"V");
    }

    #[test]
    fn a_missing_device_is_not_created() {
        let dir = TestDir::new("watchdog");
        let device = dir.join("watchdog");
        let error = Watchdog::open(&device).unwrap_err();
        assert!(
            matches!(&error, WatchdogError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
        assert!(
            error.to_string().contains("cannot open the watchdog"),
            "{error}"
        );
        assert!(!device.exists());
    }

    #[test]
    fn info_comes_from_sysfs() {
        let dir = TestDir::new("watchdog");
        dir.write("class/watchdog0/identity", "i6300ESB timer\n");
        dir.write("class/watchdog0/timeout", "20\n");
        dir.write("class/watchdog0/options", "0x8180\n");
        dir.write("class/watchdog0/nowayout", "0\n");
        dir.write("class/watchdog0/state", "active\n");
        dir.write("class/watchdog1/options", "0x8080\n");
        let class = dir.join("class");
        let info = WatchdogInfo::read(Path::new("/dev/watchdog"), &class);
        assert_eq!(
            info,
            WatchdogInfo {
                identity: Some("i6300ESB timer".to_owned()),
                timeout_secs: Some(20),
                magic_close: Some(true),
                nowayout: Some(false),
                active: Some(true),
            }
        );
        let second = WatchdogInfo::read(Path::new("/dev/watchdog1"), &class);
        assert_eq!(second.magic_close, Some(false));
        assert_eq!(second.identity, None);
        let other = WatchdogInfo::read(Path::new("/dev/wdt"), &class);
        assert_eq!(other, WatchdogInfo::default());
    }
}
