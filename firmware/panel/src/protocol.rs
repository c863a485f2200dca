//! The panel's line protocol (`docs/front-panel.md`), sans-IO: the lines a
//! device sends (`KEY <name>`, `HELLO`) read from bytes that arrive in any
//! cutting, and the lines the appliance sends (`LCD <row> <text>`).
//!
//! Reading is bounded: a line is at most [`MAX_LINE`] bytes, the reader
//! holds no more than that, and every other input (too long, not text, an
//! unknown word) is a [`LineError`], never a panic.

use std::fmt;

use thiserror::Error;

/// The longest line a device may send, without its line end.
pub const MAX_LINE: usize = 64;
/// Characters in one LCD row.
pub const COLUMNS: usize = 20;
/// What the LCD shows for a character it has no glyph for.
pub const UNSHOWABLE: char = '?';

/// The five keys of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Up: the previous entry of a list; a digit one higher.
    Up,
    /// Down: the next entry of a list; a digit one lower.
    Down,
    /// Left: the previous screen; the caret one digit left.
    Left,
    /// Right: the next screen; the caret one digit right.
    Right,
    /// Enter: act on what is shown; answer a question.
    Enter,
}

impl Key {
    /// Every key, in the order the protocol lists them.
    pub const ALL: [Key; 5] = [Key::Up, Key::Down, Key::Left, Key::Right, Key::Enter];

    /// The key's name on the line.
    pub fn name(self) -> &'static str {
        match self {
            Key::Up => "up",
            Key::Down => "down",
            Key::Left => "left",
            Key::Right => "right",
            Key::Enter => "enter",
        }
    }

    fn parse(word: &str) -> Option<Key> {
        Key::ALL
            .into_iter()
            .find(|key| key.name().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One line from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A key was pressed.
    Key(Key),
    /// The device (re)started and its LCD is blank: it wants both rows.
    Hello,
}

/// Why a line from the device was refused. The reader goes on with the
/// next line after each.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    /// More than [`MAX_LINE`] bytes before the line end.
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    /// A byte that is neither printable ASCII nor a tab.
    #[error("line holds bytes that are not printable ASCII")]
    NotText,
    /// The first word is neither `KEY` nor `HELLO`.
    #[error("unknown line '{0}' (expected KEY <name> or HELLO)")]
    UnknownWord(String),
    /// `KEY` with a name that is not one of the five.
    #[error("unknown key '{0}' (expected up, down, left, right or enter)")]
    UnknownKey(String),
    /// `KEY` with no name, or more than one word after it.
    #[error("KEY takes one key name, got {0} words")]
    KeyWords(usize),
}

/// Reads one line, its line end already taken off: `Ok(None)` for a blank
/// line. Words are separated by spaces or tabs, and their case does not
/// matter.
pub fn parse_line(line: &[u8]) -> Result<Option<Message>, LineError> {
    if line.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    if !line
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return Err(LineError::NotText);
    }
    // Printable ASCII is UTF-8.
    let text = std::str::from_utf8(line).map_err(|_| LineError::NotText)?;
    let mut words = text.split_ascii_whitespace();
    let Some(verb) = words.next() else {
        return Ok(None);
    };
    if verb.eq_ignore_ascii_case("HELLO") {
        // Anything after HELLO (a device's name, its version) is for people.
        return Ok(Some(Message::Hello));
    }
    if !verb.eq_ignore_ascii_case("KEY") {
        return Err(LineError::UnknownWord(verb.to_string()));
    }
    match (words.next(), words.count()) {
        (Some(name), 0) => Key::parse(name)
            .map(|key| Some(Message::Key(key)))
            .ok_or_else(|| LineError::UnknownKey(name.to_string())),
        (None, _) => Err(LineError::KeyWords(0)),
        (Some(_), more) => Err(LineError::KeyWords(more + 1)),
    }
}

/// Gathers the bytes of reads into lines ended by LF, CR LF or CR, and
/// reads each ([`parse_line`]). It holds at most [`MAX_LINE`] bytes: the
/// rest of a longer line is dropped as it comes, and the line is one
/// [`LineError::TooLong`].
#[derive(Debug, Default)]
pub struct LineReader {
    line: Vec<u8>,
    /// The line grew past the bound; its bytes are dropped up to its end.
    overlong: bool,
}

impl LineReader {
    /// A reader at the start of a line.
    pub fn new() -> LineReader {
        LineReader::default()
    }

    /// Takes bytes from the front of `input`, up to and including the
    /// end of the first line that ends in it, and returns how many it took
    /// and what that line said (nothing for a blank line or for bytes of a
    /// line not ended yet). The count is above zero unless `input` is
    /// empty, so a caller loops until it has given every byte.
    pub fn push(&mut self, input: &[u8]) -> (usize, Option<Result<Message, LineError>>) {
        let Some(end) = input.iter().position(|&b| b == b'\n' || b == b'\r') else {
            self.keep(input);
            return (input.len(), None);
        };
        self.keep(&input[..end]);
        let said = if std::mem::take(&mut self.overlong) {
            Some(Err(LineError::TooLong))
        } else {
            parse_line(&self.line).transpose()
        };
        self.line.clear();
        (end + 1, said)
    }

    /// Bytes of the line now being read (for tests and fuzzing: never
    /// more than [`MAX_LINE`]).
    pub fn held(&self) -> usize {
        self.line.len()
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.overlong {
            return;
        }
        if self.line.len() + bytes.len() > MAX_LINE {
            self.overlong = true;
            self.line.clear();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }
}

/// `text` as one LCD row shows it: exactly [`COLUMNS`] characters, cut or
/// padded with spaces, each one the display can show. Those are the
/// printable ASCII characters but `\` and `~`, which an HD44780's
/// Japanese ROM (A00, the common one) draws as ¥ and →; any other
/// character becomes [`UNSHOWABLE`].
pub fn lcd_text(text: &str) -> String {
    let mut row: String = text.chars().take(COLUMNS).map(showable).collect();
    let len = row.len();
    row.extend(std::iter::repeat_n(' ', COLUMNS - len));
    row
}

fn showable(c: char) -> char {
    match c {
        '\\' | '~' => UNSHOWABLE,
        ' '..='}' => c,
        _ => UNSHOWABLE,
    }
}

/// Appends the two lines that put `rows` on the LCD:
/// `LCD 0 <20 characters>\n` and `LCD 1 <20 characters>\n`.
pub fn write_rows(rows: &[String; 2], out: &mut Vec<u8>) {
    for (row, text) in rows.iter().enumerate() {
        write_row(row, text, out);
    }
}

/// Appends `LCD <row> <text>\n`, with `text` fitted to the row
/// ([`lcd_text`]).
pub fn write_row(row: usize, text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("LCD {row} ").as_bytes());
    out.extend_from_slice(lcd_text(text).as_bytes());
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expect: Result<Option<Message>, LineError>) {
        assert_eq!(parse_line(line.as_bytes()), expect, "{line:?}");
    }

    #[test]
    fn keys_in_any_case_and_spacing() {
        check("KEY up", Ok(Some(Message::Key(Key::Up))));
        check("KEY down", Ok(Some(Message::Key(Key::Down))));
        check("KEY left", Ok(Some(Message::Key(Key::Left))));
        check("KEY right", Ok(Some(Message::Key(Key::Right))));
        check("KEY enter", Ok(Some(Message::Key(Key::Enter))));
        check("key ENTER", Ok(Some(Message::Key(Key::Enter))));
        check(" \tKey   Up \t", Ok(Some(Message::Key(Key::Up))));
        check("HELLO", Ok(Some(Message::Hello)));
        check("hello panel-v2 build 7", Ok(Some(Message::Hello)));
        check("", Ok(None));
        check("  \t ", Ok(None));
    }

    #[test]
    fn refusals_are_typed() {
        check("KEY", Err(LineError::KeyWords(0)));
        check("KEY up down", Err(LineError::KeyWords(2)));
        check("KEY select", Err(LineError::UnknownKey("select".into())));
        check("KEYup", Err(LineError::UnknownWord("KEYup".into())));
        check("LCD 0 hello", Err(LineError::UnknownWord("LCD".into())));
        assert_eq!(parse_line(b"KEY \xc3\xa9"), Err(LineError::NotText));
        assert_eq!(parse_line(b"KEY up\0"), Err(LineError::NotText));
        assert_eq!(parse_line(&[b'x'; MAX_LINE + 1]), Err(LineError::TooLong));
        assert_eq!(
            parse_line(&[b' '; MAX_LINE]),
            Ok(None),
            "the bound is inclusive"
        );
    }

    /// Everything `input` says, pushed in pieces of `cut` bytes.
    fn read_all(input: &[u8], cut: usize) -> Vec<Result<Message, LineError>> {
        let mut reader = LineReader::new();
        let mut said = Vec::new();
        for mut piece in input.chunks(cut) {
            while !piece.is_empty() {
                let (used, got) = reader.push(piece);
                assert!(used > 0 && used <= piece.len());
                assert!(reader.held() <= MAX_LINE);
                said.extend(got);
                piece = &piece[used..];
            }
        }
        said
    }

    #[test]
    fn line_ends_lf_crlf_and_cr_in_any_cutting() {
        let input = b"HELLO\r\nKEY up\nKEY down\rKEY enter\r\n\r\n\nKEY left";
        let expect = vec![
            Ok(Message::Hello),
            Ok(Message::Key(Key::Up)),
            Ok(Message::Key(Key::Down)),
            Ok(Message::Key(Key::Enter)),
        ];
        for cut in 1..=input.len() {
            assert_eq!(read_all(input, cut), expect, "pieces of {cut}");
        }
        // The last line waits for its end.
        let mut reader = LineReader::new();
        assert_eq!(reader.push(b"KEY left"), (8, None));
        assert_eq!(reader.push(b"\n"), (1, Some(Ok(Message::Key(Key::Left)))));
        assert_eq!(reader.push(b""), (0, None));
    }

    #[test]
    fn an_overlong_line_is_one_error_and_is_not_kept() {
        let mut input = vec![b'K'; 10_000];
        input.extend_from_slice(b"\nKEY up\n");
        let mut line = vec![b' '; MAX_LINE - 6];
        line.extend_from_slice(b"KEY up\n");
        input.extend_from_slice(&line);
        input.extend_from_slice(b"x");
        input.extend_from_slice(&line);
        let expect = vec![
            Err(LineError::TooLong),
            Ok(Message::Key(Key::Up)),
            Ok(Message::Key(Key::Up)),
            Err(LineError::TooLong),
        ];
        for cut in [1, 7, 64, 65, 4096, input.len()] {
            assert_eq!(read_all(&input, cut), expect, "pieces of {cut}");
        }
    }

    #[test]
    fn garbage_then_a_good_line() {
        let said = read_all(b"\xff\xfe\x00\nFOO\nKEY enter\n", 3);
        assert_eq!(
            said,
            vec![
                Err(LineError::NotText),
                Err(LineError::UnknownWord("FOO".into())),
                Ok(Message::Key(Key::Enter)),
            ]
        );
    }

    #[test]
    fn lcd_rows_golden_bytes() {
        let mut out = Vec::new();
        write_rows(&["makara".into(), "IP 192.0.2.50".into()], &mut out);
        assert_eq!(
            out,
            b"LCD 0 makara              \nLCD 1 IP 192.0.2.50       \n"
        );
        out.clear();
        write_row(1, "a row that is much too long for it", &mut out);
        assert_eq!(out, b"LCD 1 a row that is much t\n");
    }

    #[test]
    fn lcd_text_is_twenty_showable_characters() {
        assert_eq!(lcd_text(""), " ".repeat(20));
        assert_eq!(lcd_text("Caf\u{e9} \\ ~ {}"), "Caf? ? ? {}         ");
        assert_eq!(lcd_text("tab\there\nnl"), "tab?here?nl         ");
        assert_eq!(lcd_text("\u{1f3a5}\u{1f3a5}x"), "??x                 ");
        // Twenty characters, not twenty bytes, are kept.
        assert_eq!(lcd_text(&"\u{e9}".repeat(30)), "?".repeat(20));
        for c in 0..=0x7fu8 {
            let row = lcd_text(&char::from(c).to_string());
            assert_eq!(row.len(), COLUMNS);
            let shown = row.chars().next().unwrap();
            assert!((' '..='}').contains(&shown) && shown != '\\', "{c:#x}");
        }
    }
}
