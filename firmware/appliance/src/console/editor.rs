//! The prompt's line editing and history on a terminal.
//!
//! While a command line is read the terminal is out of canonical mode and
//! its echo is off; the console echoes and edits itself. The keys are the
//! ones a serial terminal sends: printable characters insert at the caret;
//! backspace (DEL or ^H) and ^D (on a non-empty line) delete; left, right,
//! home and end (VT100 `ESC [` and `ESC O` sequences, ^A, ^E, ^B, ^F) move;
//! up and down (or ^P, ^N) walk the history; ^U clears the line, ^K clears
//! to its end; ^C drops the line; ^D on an empty line ends the session; CR
//! or LF (a CR LF pair counts once) submits.
//!
//! [`LineEdit`] is sans-IO: bytes in, the bytes to echo out, a line when
//! one is submitted. Plain typing echoes exactly what a tty's own echo
//! would, so a script that reads the console sees the same text.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};

use rustix::termios::{LocalModes, SpecialCodeIndex};

use super::secret::TerminalModes;

/// The longest command line, in characters; keys beyond it ring the bell.
pub const MAX_LINE_CHARS: usize = 1024;
/// Lines kept in the history.
pub const HISTORY_LINES: usize = 100;

const BELL: &[u8] = b"\x07";
/// The longest escape sequence kept while it is read.
const MAX_ESCAPE: usize = 8;

/// The lines submitted this session, oldest first; no blank lines and no
/// line twice in a row.
#[derive(Debug, Default)]
pub struct History {
    lines: VecDeque<String>,
}

impl History {
    pub fn push(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() || self.lines.back().is_some_and(|last| last == line) {
            return;
        }
        if self.lines.len() == HISTORY_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line.to_owned());
    }

    fn get(&self, at: usize) -> Option<&str> {
        self.lines.get(at).map(String::as_str)
    }

    fn len(&self) -> usize {
        self.lines.len()
    }
}

/// What lasts from one line to the next: the history, and whether the
/// last line was submitted by a CR (whose LF may follow).
#[derive(Debug, Default)]
pub struct Keyboard {
    pub history: History,
    after_cr: bool,
}

/// What a byte did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fed {
    /// Keep feeding.
    More,
    /// The line submitted.
    Line(String),
    /// ^D on an empty line: end the session.
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// After `ESC [`, with the parameter bytes so far.
    Csi(Vec<u8>),
    /// After `ESC O`.
    Ss3,
    /// A sequence too long to be a key: skipped to its final byte.
    Overlong,
}

/// One line being edited.
#[derive(Debug)]
pub struct LineEdit<'h> {
    history: &'h History,
    chars: Vec<char>,
    caret: usize,
    /// The history line shown, and the line typed before walking there.
    browsing: Option<(usize, Vec<char>)>,
    escape: Escape,
    /// The bytes of a UTF-8 character not yet complete.
    utf8: Vec<u8>,
    /// A CR submitted the last line: an LF right after it is its pair.
    after_cr: bool,
}

impl<'h> LineEdit<'h> {
    /// A new line; `after_cr` when the last one ended with a CR.
    pub fn new(history: &'h History, after_cr: bool) -> LineEdit<'h> {
        LineEdit {
            history,
            chars: Vec::new(),
            caret: 0,
            browsing: None,
            escape: Escape::None,
            utf8: Vec::new(),
            after_cr,
        }
    }

    /// Whether the line was submitted by a CR.
    pub fn ended_with_cr(&self) -> bool {
        self.after_cr
    }

    /// Feeds one byte; what to echo goes to `echo`.
    pub fn feed(&mut self, byte: u8, echo: &mut Vec<u8>) -> Fed {
        let after_cr = std::mem::take(&mut self.after_cr);
        if self.escape != Escape::None {
            self.escape_byte(byte, echo);
            return Fed::More;
        }
        match byte {
            b'\n' if after_cr => Fed::More,
            b'\r' | b'\n' => {
                self.after_cr = byte == b'\r';
                echo.extend_from_slice(b"\r\n");
                Fed::Line(self.chars.iter().collect())
            }
            0x1b => {
                self.escape = Escape::Start;
                Fed::More
            }
            0x03 => {
                echo.extend_from_slice(b"^C\r\n");
                Fed::Line(String::new())
            }
            0x04 if self.chars.is_empty() => Fed::End,
            0x04 => {
                self.delete_under(echo);
                Fed::More
            }
            0x7f | 0x08 => {
                self.backspace(echo);
                Fed::More
            }
            0x01 => self.moved(0, echo),
            0x05 => self.moved(self.chars.len(), echo),
            0x02 => self.moved(self.caret.saturating_sub(1), echo),
            0x06 => self.moved((self.caret + 1).min(self.chars.len()), echo),
            0x10 => self.walk(-1, echo),
            0x0e => self.walk(1, echo),
            0x15 => self.replace(Vec::new(), echo),
            0x0b => {
                let kept = self.chars[..self.caret].to_vec();
                self.replace_keeping_caret(kept, echo)
            }
            0x80.. => {
                self.utf8_byte(byte, echo);
                Fed::More
            }
            0x20..=0x7e => {
                self.insert(char::from(byte), echo);
                Fed::More
            }
            // Tab and the other control bytes do nothing.
            _ => Fed::More,
        }
    }

    fn escape_byte(&mut self, byte: u8, echo: &mut Vec<u8>) {
        let escape = std::mem::replace(&mut self.escape, Escape::None);
        match (escape, byte) {
            (Escape::Start, b'[') => self.escape = Escape::Csi(Vec::new()),
            (Escape::Start, b'O') => self.escape = Escape::Ss3,
            (Escape::Csi(mut params), b'0'..=b'9' | b';') if params.len() < MAX_ESCAPE => {
                params.push(byte);
                self.escape = Escape::Csi(params);
            }
            (Escape::Csi(_) | Escape::Overlong, 0x20..=0x3f) => self.escape = Escape::Overlong,
            (Escape::Overlong, _) => {}
            (Escape::Csi(params), b'~') => match params.as_slice() {
                b"1" | b"7" => drop(self.moved(0, echo)),
                b"4" | b"8" => drop(self.moved(self.chars.len(), echo)),
                b"3" => self.delete_under(echo),
                _ => {}
            },
            (Escape::Csi(_) | Escape::Ss3, final_byte) => self.arrow(final_byte, echo),
            // ESC then anything else: both dropped.
            _ => {}
        }
    }

    fn arrow(&mut self, final_byte: u8, echo: &mut Vec<u8>) {
        match final_byte {
            b'A' => drop(self.walk(-1, echo)),
            b'B' => drop(self.walk(1, echo)),
            b'C' => drop(self.moved((self.caret + 1).min(self.chars.len()), echo)),
            b'D' => drop(self.moved(self.caret.saturating_sub(1), echo)),
            b'H' => drop(self.moved(0, echo)),
            b'F' => drop(self.moved(self.chars.len(), echo)),
            _ => {}
        }
    }

    fn utf8_byte(&mut self, byte: u8, echo: &mut Vec<u8>) {
        self.utf8.push(byte);
        match std::str::from_utf8(&self.utf8) {
            Ok(text) => {
                let c = text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
                self.utf8.clear();
                self.insert(c, echo);
            }
            // Line noise: a sequence that can never complete is dropped.
            Err(e) if e.error_len().is_some() || self.utf8.len() >= 4 => self.utf8.clear(),
            Err(_) => {}
        }
    }

    fn insert(&mut self, c: char, echo: &mut Vec<u8>) {
        if self.chars.len() >= MAX_LINE_CHARS {
            echo.extend_from_slice(BELL);
            return;
        }
        self.chars.insert(self.caret, c);
        self.caret += 1;
        let rest: String = self.chars[self.caret - 1..].iter().collect();
        echo.extend_from_slice(rest.as_bytes());
        back(echo, self.chars.len() - self.caret);
    }

    fn backspace(&mut self, echo: &mut Vec<u8>) {
        if self.caret == 0 {
            return;
        }
        back(echo, 1);
        self.caret -= 1;
        self.chars.remove(self.caret);
        self.redraw_tail(echo);
    }

    fn delete_under(&mut self, echo: &mut Vec<u8>) {
        if self.caret < self.chars.len() {
            self.chars.remove(self.caret);
            self.redraw_tail(echo);
        }
    }

    /// Rewrites from the caret to the end, clears the cell freed and puts
    /// the caret back.
    fn redraw_tail(&mut self, echo: &mut Vec<u8>) {
        let rest: String = self.chars[self.caret..].iter().collect();
        echo.extend_from_slice(rest.as_bytes());
        echo.extend_from_slice(b" ");
        back(echo, self.chars.len() - self.caret + 1);
    }

    fn moved(&mut self, to: usize, echo: &mut Vec<u8>) -> Fed {
        if to < self.caret {
            back(echo, self.caret - to);
        } else if to > self.caret {
            let ahead: String = self.chars[self.caret..to].iter().collect();
            echo.extend_from_slice(ahead.as_bytes());
        }
        self.caret = to;
        Fed::More
    }

    /// Up (`by` -1) or down the history.
    fn walk(&mut self, by: isize, echo: &mut Vec<u8>) -> Fed {
        let len = self.history.len();
        let at = self.browsing.as_ref().map_or(len, |(at, _)| *at);
        let Some(to) = at.checked_add_signed(by).filter(|&to| to <= len) else {
            echo.extend_from_slice(BELL);
            return Fed::More;
        };
        let draft = match self.browsing.take() {
            Some((_, draft)) => draft,
            None => self.chars.clone(),
        };
        let shown = match self.history.get(to) {
            Some(line) => {
                self.browsing = Some((to, draft));
                line.chars().collect()
            }
            None => draft,
        };
        self.replace(shown, echo)
    }

    /// Shows `chars` instead of the line, the caret at its end.
    fn replace(&mut self, chars: Vec<char>, echo: &mut Vec<u8>) -> Fed {
        self.replace_keeping_caret(chars, echo);
        self.moved(self.chars.len(), echo)
    }

    fn replace_keeping_caret(&mut self, chars: Vec<char>, echo: &mut Vec<u8>) -> Fed {
        back(echo, self.caret);
        let text: String = chars.iter().collect();
        echo.extend_from_slice(text.as_bytes());
        echo.extend_from_slice(b"\x1b[K");
        back(echo, chars.len());
        self.chars = chars;
        self.caret = 0;
        Fed::More
    }
}

/// Moves the terminal's cursor `n` cells left.
fn back(echo: &mut Vec<u8>, n: usize) {
    match n {
        0 => {}
        1 => echo.push(0x08),
        n => echo.extend_from_slice(format!("\x1b[{n}D").as_bytes()),
    }
}

/// Writes `prompt` and reads one command line from a terminal with
/// editing and history; `None` at the end of input or ^D. The terminal
/// leaves canonical mode before the prompt is shown, so keys typed as soon
/// as it appears are not echoed twice (once by the tty, once here).
pub fn read_line(
    prompt: &str,
    input: &mut impl BufRead,
    out: &mut impl Write,
    keyboard: &mut Keyboard,
) -> io::Result<Option<String>> {
    let _raw = raw_input()?;
    out.write_all(prompt.as_bytes())?;
    out.flush()?;
    let mut edit = LineEdit::new(&keyboard.history, keyboard.after_cr);
    let mut echo = Vec::new();
    let line = loop {
        let bytes = input.fill_buf()?;
        if bytes.is_empty() {
            break None;
        }
        let mut fed = Fed::More;
        let mut used = 0;
        for &byte in bytes {
            used += 1;
            fed = edit.feed(byte, &mut echo);
            if fed != Fed::More {
                break;
            }
        }
        input.consume(used);
        out.write_all(&echo)?;
        out.flush()?;
        echo.clear();
        match fed {
            Fed::More => {}
            Fed::Line(line) => break Some(line),
            Fed::End => break None,
        }
    };
    keyboard.after_cr = edit.ended_with_cr();
    if let Some(line) = &line {
        keyboard.history.push(line);
    }
    Ok(line)
}

/// The terminal without canonical mode and echo (signals and output
/// processing stay), until dropped.
fn raw_input() -> io::Result<TerminalModes> {
    TerminalModes::change(|modes| {
        modes.local_modes.remove(
            LocalModes::ICANON | LocalModes::ECHO | LocalModes::ECHONL | LocalModes::IEXTEN,
        );
        modes.special_codes[SpecialCodeIndex::VMIN] = 1;
        modes.special_codes[SpecialCodeIndex::VTIME] = 0;
    })
}

#[cfg(test)]
mod tests;
