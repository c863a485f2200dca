//! Where the front panel hangs: a serial device (a tty, set to raw mode
//! at 115200 baud, 8N1, no flow control) or a Unix socket (QEMU's chardev
//! in server mode, or a test), and opening it.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::OFlags;
use rustix::termios::{
    tcflush, tcgetattr, tcsetattr, ControlModes, InputModes, OptionalActions, QueueSelector,
    SpecialCodeIndex,
};

/// The panel's line speed (`docs/front-panel.md`).
pub const BAUD: u32 = 115_200;
/// How long a write to a socket may wait for the other end to read: one
/// that never reads ends the session instead of holding the thread.
const SOCKET_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest path taken.
const MAX_PATH: usize = 4096;

/// The `--panel` option: `PATH` (a serial device) or `unix:PATH` (a Unix
/// socket makarad connects to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelLine {
    Serial(PathBuf),
    Socket(PathBuf),
}

impl PanelLine {
    /// The clap value parser.
    pub fn parse(text: &str) -> Result<PanelLine, String> {
        let (line, path) = match text.strip_prefix("unix:") {
            Some(path) => (PanelLine::Socket as fn(PathBuf) -> PanelLine, path),
            None => (PanelLine::Serial as fn(PathBuf) -> PanelLine, text),
        };
        if path.is_empty() {
            return Err("expected a device path (/dev/ttyS1) or unix:PATH".into());
        }
        if path.len() > MAX_PATH || path.contains('\0') {
            return Err(format!("a path of at most {MAX_PATH} bytes, without NUL"));
        }
        Ok(line(PathBuf::from(path)))
    }

    /// Opens the line, ready for `SerialPanel`.
    pub fn open(&self) -> io::Result<Opened> {
        match self {
            PanelLine::Serial(path) => open_tty(path).map(Opened::Serial),
            PanelLine::Socket(path) => {
                let socket = UnixStream::connect(path)?;
                socket.set_write_timeout(Some(SOCKET_WRITE_TIMEOUT))?;
                Ok(Opened::Socket(socket))
            }
        }
    }
}

impl fmt::Display for PanelLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanelLine::Serial(path) => write!(f, "{}", path.display()),
            PanelLine::Socket(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// The `--panel` option: a line, or `none` (no panel, whatever the board
/// profile says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelSetting {
    None,
    Line(PanelLine),
}

impl PanelSetting {
    /// The clap value parser.
    pub fn parse(text: &str) -> Result<PanelSetting, String> {
        match text {
            "none" => Ok(PanelSetting::None),
            _ => PanelLine::parse(text).map(PanelSetting::Line),
        }
    }
}

/// The panel's line: `--panel`'s if given, else the board profile's
/// `front_panel` device; `None` for none, with where that was decided.
pub fn chosen(
    setting: Option<&PanelSetting>,
    profile: Option<&Path>,
) -> (Option<PanelLine>, &'static str) {
    match (setting, profile) {
        (Some(PanelSetting::None), _) => (None, "--panel none"),
        (Some(PanelSetting::Line(line)), _) => (Some(line.clone()), "--panel"),
        (None, Some(device)) => (
            Some(PanelLine::Serial(device.to_owned())),
            "the board profile",
        ),
        (None, None) => (None, "the board profile has none"),
    }
}

/// An open line, of either kind.
#[derive(Debug)]
pub enum Opened {
    Serial(File),
    Socket(UnixStream),
}

/// Opens a serial device (never as the controlling terminal) and sets it
/// to raw mode, 115200 baud, 8 data bits, no parity, one stop bit, no flow
/// control, reads that block until a byte comes (VMIN 1, VTIME 0: the
/// panel polls before it reads). Input that arrived before is dropped.
fn open_tty(path: &Path) -> io::Result<File> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(OFlags::NOCTTY.bits() as i32)
        .open(path)?;
    let mut mode = tcgetattr(&tty).map_err(|e| not_a_tty(path, e.into()))?;
    mode.make_raw();
    mode.set_speed(BAUD)?;
    mode.control_modes -=
        ControlModes::CSIZE | ControlModes::PARENB | ControlModes::CSTOPB | ControlModes::CRTSCTS;
    mode.control_modes |= ControlModes::CS8 | ControlModes::CREAD | ControlModes::CLOCAL;
    mode.input_modes -= InputModes::IXON | InputModes::IXOFF | InputModes::IXANY;
    mode.special_codes[SpecialCodeIndex::VMIN] = 1;
    mode.special_codes[SpecialCodeIndex::VTIME] = 0;
    tcsetattr(&tty, OptionalActions::Now, &mode)?;
    tcflush(&tty, QueueSelector::IFlush)?;
    Ok(tty)
}

fn not_a_tty(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("{} is not a serial device: {e}", path.display()),
    )
}

impl io::Read for Opened {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Opened::Serial(f) => f.read(buf),
            Opened::Socket(s) => s.read(buf),
        }
    }
}

impl io::Write for Opened {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Opened::Serial(f) => f.write(buf),
            Opened::Socket(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Opened::Serial(f) => f.flush(),
            Opened::Socket(s) => s.flush(),
        }
    }
}

impl std::os::fd::AsFd for Opened {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Opened::Serial(f) => f.as_fd(),
            Opened::Socket(s) => s.as_fd(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_names_a_device_or_a_socket() {
        assert_eq!(
            PanelLine::parse("/dev/ttyS1"),
            Ok(PanelLine::Serial("/dev/ttyS1".into()))
        );
        assert_eq!(
            PanelLine::parse("unix:/tmp/panel.sock"),
            Ok(PanelLine::Socket("/tmp/panel.sock".into()))
        );
        assert_eq!(
            PanelLine::parse("unix:/tmp/p").unwrap().to_string(),
            "unix:/tmp/p"
        );
        for bad in ["", "unix:"] {
            let err = PanelLine::parse(bad).unwrap_err();
            assert!(err.contains("unix:PATH"), "{bad:?}: {err}");
        }
        assert!(PanelLine::parse(&"x".repeat(MAX_PATH + 1)).is_err());
    }

    #[test]
    fn the_option_overrides_the_board_profile() {
        let ttys1 = Path::new("/dev/ttyS1");
        let socket = PanelLine::Socket("/tmp/p".into());
        assert_eq!(
            PanelSetting::parse("none"),
            Ok(PanelSetting::None),
            "none is no panel"
        );
        assert_eq!(
            chosen(None, Some(ttys1)),
            (
                Some(PanelLine::Serial(ttys1.to_owned())),
                "the board profile"
            )
        );
        assert_eq!(chosen(None, None), (None, "the board profile has none"));
        assert_eq!(
            chosen(Some(&PanelSetting::None), Some(ttys1)),
            (None, "--panel none")
        );
        assert_eq!(
            chosen(Some(&PanelSetting::Line(socket.clone())), Some(ttys1)),
            (Some(socket), "--panel")
        );
    }

    #[test]
    fn a_file_that_is_not_a_tty_is_refused_by_name() {
        let dir = makara_test_support::TestDir::new("panel-line");
        let file = dir.write("plain", "not a tty");
        let err = PanelLine::Serial(file.clone()).open().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("{} is not a serial device", file.display())),
            "{text}"
        );
        let missing = PanelLine::Serial(dir.join("none")).open().unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        let no_socket = PanelLine::Socket(dir.join("none.sock")).open().unwrap_err();
        assert_eq!(no_socket.kind(), io::ErrorKind::NotFound);
    }
}
