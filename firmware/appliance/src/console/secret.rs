//! Reading a line the operator types without showing it: a password.
//!
//! On a terminal the tty's echo is off while the line is read, and back
//! on afterwards whatever happened; the Enter the tty did not echo is
//! written instead. On a pipe (tests, a script) the line is just read.

use std::io::{self, BufRead, IsTerminal, Read, Write};

use rustix::termios::{self, LocalModes, OptionalActions, Termios};

/// The longest line read as a secret: far over a password's 128 bytes,
/// so a longer one is refused by the password rule, which says the range.
const MAX_SECRET_BYTES: u64 = 4096;

/// Whether the console's input is a terminal whose echo can be turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    Terminal,
    Pipe,
}

impl Echo {
    pub fn of_stdin() -> Echo {
        if io::stdin().is_terminal() {
            Echo::Terminal
        } else {
            Echo::Pipe
        }
    }
}

/// Writes `prompt`, reads one line with echo off; the line without its
/// end, or `None` at end of input.
pub fn read_secret(
    echo: Echo,
    prompt: &str,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<Option<String>> {
    out.write_all(prompt.as_bytes())?;
    out.flush()?;
    let hidden = match echo {
        Echo::Terminal => Some(TerminalModes::change(|modes| {
            modes.local_modes.remove(LocalModes::ECHO)
        })?),
        Echo::Pipe => None,
    };
    let mut line = Vec::new();
    let read = Read::take(&mut *input, MAX_SECRET_BYTES).read_until(b'\n', &mut line)?;
    drop(hidden);
    if echo == Echo::Terminal {
        writeln!(out)?;
    }
    if read == 0 {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&line);
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
}

/// The console terminal's modes as changed, restored when dropped,
/// whatever happened meanwhile.
pub(super) struct TerminalModes {
    saved: Termios,
}

impl TerminalModes {
    /// Applies `change` to the terminal's modes at once.
    pub(super) fn change(change: impl FnOnce(&mut Termios)) -> io::Result<TerminalModes> {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(&stdin)?;
        let mut changed = saved.clone();
        change(&mut changed);
        termios::tcsetattr(&stdin, OptionalActions::Now, &changed)?;
        Ok(TerminalModes { saved })
    }
}

impl Drop for TerminalModes {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin(), OptionalActions::Now, &self.saved);
    }
}
