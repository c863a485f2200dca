//! Looking after the box from the console: the log's last lines, the
//! users, and the factory reset.

use std::fs::{self, File};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use makara_access::users::Role;

use super::secret::read_secret;
use super::Console;
use crate::users::{self, NewUser};

/// The most of a log file read for `log`: the end of it.
const LOG_TAIL_BYTES: u64 = 256 * 1024;

/// The last `count` lines of makarad's log: from its file and, when that
/// holds fewer since a rotation, the rotated file before it (`PATH.1`).
pub fn log(path: &Path, count: usize, out: &mut impl Write) -> io::Result<()> {
    let mut older = path.as_os_str().to_owned();
    older.push(".1");
    let current = match tail(path, count) {
        Ok(lines) => lines,
        Err(e) => return writeln!(out, "cannot read the log {}: {e}", path.display()),
    };
    let mut lines = Vec::new();
    if current.len() < count {
        let before = tail(Path::new(&older), count - current.len()).unwrap_or_default();
        lines.extend(before);
    }
    lines.extend(current);
    if lines.is_empty() {
        return writeln!(out, "the log {} is empty", path.display());
    }
    lines.iter().try_for_each(|line| writeln!(out, "{line}"))
}

/// The last `count` whole lines of the file's last [`LOG_TAIL_BYTES`].
fn tail(path: &Path, count: usize) -> io::Result<Vec<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(LOG_TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(LOG_TAIL_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        // The first line was cut by the start of the tail.
        lines.remove(0);
    }
    let from = lines.len().saturating_sub(count);
    Ok(lines[from..].iter().map(|l| (*l).to_owned()).collect())
}

/// Asks for a new password twice; `None` (said why) if they differ or
/// input ends.
pub(super) fn new_password(
    console: &Console,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<Option<String>> {
    let Some(first) = read_secret(console.echo, "New password: ", input, out)? else {
        return Ok(None);
    };
    let Some(again) = read_secret(console.echo, "Again: ", input, out)? else {
        return Ok(None);
    };
    if first != again {
        writeln!(out, "the two passwords differ; nothing changed")?;
        return Ok(None);
    }
    Ok(Some(first))
}

pub fn user_add(
    console: &Console,
    name: &str,
    role: Role,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<()> {
    let Some(password) = new_password(console, input, out)? else {
        return Ok(());
    };
    let new = NewUser {
        username: name,
        role,
        password: &password,
        device_login: false,
    };
    report(users::add(&console.data_dir, &new, out), out)
}

pub fn user_passwd(
    console: &Console,
    name: &str,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<()> {
    let Some(password) = new_password(console, input, out)? else {
        return Ok(());
    };
    report(users::passwd(&console.data_dir, name, &password, out), out)
}

pub fn user_remove(console: &Console, name: &str, out: &mut impl Write) -> io::Result<()> {
    report(users::remove(&console.data_dir, name, out), out)
}

pub fn user_list(console: &Console, out: &mut impl Write) -> io::Result<()> {
    match users::list(&console.data_dir, out) {
        Ok(0) => writeln!(out, "no users"),
        other => report(other.map(|_| ()), out),
    }
}

fn report(result: Result<(), users::UserCommandError>, out: &mut impl Write) -> io::Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(users::UserCommandError::Output(e)) => Err(e),
        Err(e) => writeln!(out, "failed: {}", crate::exit::chain(&e)),
    }
}

/// What a factory reset removes from the data directory: the
/// configuration with its presets, the API keys and switch, the users and
/// the key that seals their device logins, and the certificate (a new one
/// is made at start). Recordings, and the encoder capacity measured on
/// this hardware, stay.
const WIPED: &[&str] = &[
    "config.a",
    "config.b",
    "access.a",
    "access.b",
    "users.a",
    "users.b",
    "device.key",
    "tls",
];

/// The word the operator types to confirm.
pub const CONFIRM: &str = "factory-reset";

/// Asks for the confirmation, wipes, and reboots. Returns whether it
/// wiped.
pub fn factory_reset(
    console: &Console,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<bool> {
    writeln!(
        out,
        "This wipes the configuration and presets, the API keys, the users and the \
         certificate, then reboots. Recordings stay."
    )?;
    write!(out, "Type {CONFIRM} to go on: ")?;
    out.flush()?;
    let mut answer = Vec::new();
    Read::take(&mut *input, 256).read_until(b'\n', &mut answer)?;
    if String::from_utf8_lossy(&answer).trim() != CONFIRM {
        writeln!(out, "not confirmed; nothing changed")?;
        return Ok(false);
    }
    let mut failed = false;
    for name in WIPED {
        let path = console.data_dir.join(name);
        if let Err(e) = remove(&path) {
            writeln!(out, "cannot remove {}: {e}", path.display())?;
            failed = true;
        }
    }
    if failed {
        writeln!(out, "factory reset incomplete; not rebooting")?;
        return Ok(false);
    }
    writeln!(out, "factory reset: configuration, keys and users wiped")?;
    super::programs::power("reboot", &console.reboot, out)?;
    Ok(true)
}

fn remove(path: &PathBuf) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
