//! The panel as the appliance drives it ([`Panel`]: show two rows, wait
//! for a key), and its one driver, [`SerialPanel`], which speaks the line
//! protocol over any byte stream with a file descriptor: a tty the caller
//! opened and set to raw mode, or a unix socket.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::protocol::{lcd_text, write_row, Key, LineReader, Message};

/// A front panel: a 2×20 character display and five keys.
pub trait Panel {
    /// Puts `rows` on the display.
    fn show(&mut self, rows: &[String; 2]) -> io::Result<()>;

    /// The next key pressed, waiting at most `timeout` for it: `Ok(None)`
    /// when none came in time.
    fn next_key(&mut self, timeout: Duration) -> io::Result<Option<Key>>;
}

/// Bytes taken from the line in one read.
const READ_SIZE: usize = 256;
/// Bad lines logged one by one; after these, one in every
/// [`BAD_LINES_LOGGED_EVERY`].
const BAD_LINES_LOGGED: u64 = 8;
const BAD_LINES_LOGGED_EVERY: u64 = 1000;

/// A panel on a serial line (or anything else that carries bytes both
/// ways and can be polled): `LCD` lines out, `KEY` and `HELLO` lines in.
///
/// It writes only the rows that changed since the last [`Panel::show`],
/// and both rows again when the device says `HELLO`. The end of the
/// stream (a read of no bytes) is an `UnexpectedEof` error.
#[derive(Debug)]
pub struct SerialPanel<T> {
    line: T,
    reader: LineReader,
    inbox: Vec<u8>,
    /// The unread part of `inbox`.
    unread: std::ops::Range<usize>,
    /// The rows on the display, as sent.
    shown: [Option<String>; 2],
    /// The device has said something that made sense.
    heard: bool,
    bad_lines: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resend {
    Changed,
    Both,
}

impl<T: Read + Write> SerialPanel<T> {
    /// A panel on `line`, which the caller has set up (a tty in raw mode,
    /// at the device's speed; a connected socket).
    pub fn new(line: T) -> SerialPanel<T> {
        SerialPanel {
            line,
            reader: LineReader::new(),
            inbox: vec![0; READ_SIZE],
            unread: 0..0,
            shown: [None, None],
            heard: false,
            bad_lines: 0,
        }
    }

    /// Whether a device has answered: it sent `HELLO` or a key.
    pub fn present(&self) -> bool {
        self.heard
    }

    /// Lines from the device refused so far (too long, not text, unknown).
    pub fn bad_lines(&self) -> u64 {
        self.bad_lines
    }

    /// The line, for a caller that wants it back.
    pub fn into_inner(self) -> T {
        self.line
    }

    /// Writes the rows that differ from what the display shows, or both.
    fn send(&mut self, rows: &[String; 2], resend: Resend) -> io::Result<()> {
        let mut out = Vec::new();
        for (at, text) in rows.iter().enumerate() {
            let fitted = lcd_text(text);
            if resend == Resend::Both || self.shown[at].as_deref() != Some(fitted.as_str()) {
                write_row(at, &fitted, &mut out);
                self.shown[at] = Some(fitted);
            }
        }
        if out.is_empty() {
            return Ok(());
        }
        self.line.write_all(&out)?;
        self.line.flush()
    }

    /// Reads what is unread in `inbox`: the first key, after doing what
    /// any other line asks.
    fn take_key(&mut self) -> io::Result<Option<Key>> {
        while !self.unread.is_empty() {
            let (used, said) = self.reader.push(&self.inbox[self.unread.clone()]);
            self.unread.start += used;
            match said {
                None => {}
                Some(Ok(Message::Key(key))) => {
                    self.heard = true;
                    return Ok(Some(key));
                }
                Some(Ok(Message::Hello)) => {
                    if !self.heard {
                        tracing::info!("front panel: the device said hello");
                    }
                    self.heard = true;
                    if let [Some(top), Some(bottom)] = self.shown.clone() {
                        self.send(&[top, bottom], Resend::Both)?;
                    }
                }
                Some(Err(error)) => {
                    self.bad_lines += 1;
                    let n = self.bad_lines;
                    if n <= BAD_LINES_LOGGED || n.is_multiple_of(BAD_LINES_LOGGED_EVERY) {
                        tracing::warn!(bad_lines = n, "front panel: line refused: {error}");
                    }
                }
            }
        }
        Ok(None)
    }
}

impl<T: Read + Write + AsFd> Panel for SerialPanel<T> {
    fn show(&mut self, rows: &[String; 2]) -> io::Result<()> {
        self.send(rows, Resend::Changed)
    }

    fn next_key(&mut self, timeout: Duration) -> io::Result<Option<Key>> {
        let deadline = Instant::now() + timeout;
        // Once the time is up, one more look at the line: a device that
        // never stops talking cannot keep the caller here.
        let mut last_look = false;
        loop {
            if let Some(key) = self.take_key()? {
                return Ok(Some(key));
            }
            if last_look {
                return Ok(None);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            last_look = left.is_zero();
            if !readable(&self.line, left)? {
                return Ok(None);
            }
            match self.line.read(&mut self.inbox) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the front panel's line closed",
                    ))
                }
                Ok(n) => self.unread = 0..n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Waits at most `timeout` for `fd` to have bytes (or an end) to read.
fn readable(fd: &impl AsFd, timeout: Duration) -> io::Result<bool> {
    let timeout = Timespec::try_from(timeout).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    loop {
        match poll(&mut fds, Some(&timeout)) {
            Ok(n) => return Ok(n > 0),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
