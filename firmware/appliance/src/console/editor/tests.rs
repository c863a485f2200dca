use super::*;

/// Feeds `keys`; the lines submitted (and `End`), and everything echoed.
fn typed(history: &History, keys: &[u8]) -> (Vec<Fed>, String) {
    let mut edit = LineEdit::new(history, false);
    let mut echo = Vec::new();
    let mut done = Vec::new();
    for &byte in keys {
        let fed = edit.feed(byte, &mut echo);
        if fed != Fed::More {
            done.push(fed);
            edit = LineEdit::new(history, edit.ended_with_cr());
        }
    }
    (done, String::from_utf8_lossy(&echo).into_owned())
}

fn line(history: &History, keys: &[u8]) -> String {
    match typed(history, keys).0.as_slice() {
        [Fed::Line(line)] => line.clone(),
        other => panic!("{keys:?}: {other:?}"),
    }
}

fn history(lines: &[&str]) -> History {
    let mut history = History::default();
    lines.iter().for_each(|l| history.push(l));
    history
}

#[test]
fn plain_typing_echoes_as_a_tty_would() {
    let (done, echo) = typed(&History::default(), b"status\r\n");
    assert_eq!(done, vec![Fed::Line("status".into())]);
    assert_eq!(echo, "status\r\n");
    // A lone LF submits too; CR LF counts once.
    let (done, _) = typed(&History::default(), b"a\nb\r\nc\r");
    assert_eq!(
        done,
        vec![
            Fed::Line("a".into()),
            Fed::Line("b".into()),
            Fed::Line("c".into())
        ]
    );
}

#[test]
fn backspace_and_the_caret_keys_edit_in_the_middle() {
    let h = History::default();
    assert_eq!(line(&h, b"statsu\x7f\x7fus\r"), "status");
    assert_eq!(
        line(
            &h,
            b"stream stat Demo\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x08\x08\x08\x08start\r"
        ),
        "stream start Demo"
    );
    assert_eq!(line(&h, b"tatus\x01s\r"), "status");
    assert_eq!(line(&h, b"statu\x1b[H\x1b[Fs\r"), "status");
    assert_eq!(line(&h, b"xstatus\x1bOH\x1b[3~\r"), "status");
    assert_eq!(
        line(&h, b"status now\x1b[D\x1b[D\x1b[D\x1b[D\x0b\x7f\r"),
        "status"
    );
    assert_eq!(line(&h, b"garbage\x15help\r"), "help");
    // Backspace at the start and right at the end do nothing.
    assert_eq!(line(&h, b"\x7fhelp\x1b[C\r"), "help");
}

#[test]
fn echo_redraws_what_an_edit_moves() {
    let (_, echo) = typed(&History::default(), b"ac\x1b[Db\r");
    // "ac", caret left, "b" written with the rest and the caret put back.
    assert_eq!(echo, "ac\x08bc\x08\r\n");
    let (_, echo) = typed(&History::default(), b"abc\x1b[D\x7f\r");
    assert_eq!(echo, "abc\x08\x08c \x1b[2D\r\n");
}

#[test]
fn up_and_down_walk_the_history_and_keep_the_draft() {
    let h = history(&["status", "stream list"]);
    assert_eq!(line(&h, b"\x1b[A\r"), "stream list");
    assert_eq!(line(&h, b"\x1b[A\x1b[A\r"), "status");
    // Past the oldest the bell rings and the line stays.
    let (done, echo) = typed(&h, b"\x1b[A\x1b[A\x1b[A\r");
    assert_eq!(done, vec![Fed::Line("status".into())]);
    assert!(echo.contains('\x07'));
    assert_eq!(line(&h, b"hel\x1b[A\x1b[B\x1b[Bp\r"), "help");
    assert_eq!(line(&h, b"\x10\x10\x0e\r"), "stream list");
    // An edited history line is submitted as edited.
    assert_eq!(
        line(&h, b"\x1b[A\x7f\x7f\x7f\x7fstart Demo\r"),
        "stream start Demo"
    );
}

#[test]
fn history_skips_blanks_and_repeats_and_is_bounded() {
    let mut h = history(&["status", "status", "  ", "help"]);
    assert_eq!(h.len(), 2);
    for i in 0..HISTORY_LINES + 5 {
        h.push(&format!("log {i}"));
    }
    assert_eq!(h.len(), HISTORY_LINES);
    assert_eq!(h.get(0), Some("log 5"));
}

#[test]
fn control_keys_drop_the_line_or_end_the_session() {
    let h = History::default();
    assert_eq!(typed(&h, b"reboot\x03").0, vec![Fed::Line(String::new())]);
    assert_eq!(typed(&h, b"\x04").0, vec![Fed::End]);
    // ^D on a non-empty line deletes under the caret.
    assert_eq!(line(&h, b"helpx\x1b[D\x04\r"), "help");
    // Tab, NUL, a bare ESC followed by a letter: nothing.
    assert_eq!(line(&h, b"he\t\x00\x1bxlp\r"), "help");
}

#[test]
fn utf8_is_kept_and_noise_is_dropped() {
    let h = History::default();
    assert_eq!(
        line(&h, "preset load Café\r".as_bytes()),
        "preset load Café"
    );
    assert_eq!(line(&h, b"he\xff\xc3lp\r"), "help");
    assert_eq!(line(&h, "é\x7fhelp\r".as_bytes()), "help");
}

#[test]
fn lines_are_bounded() {
    let mut keys = vec![b'a'; MAX_LINE_CHARS + 10];
    keys.push(b'\r');
    let (done, echo) = typed(&History::default(), &keys);
    assert_eq!(done, vec![Fed::Line("a".repeat(MAX_LINE_CHARS))]);
    assert_eq!(echo.matches('\x07').count(), 10);
    // Endless parameter bytes of an escape sequence are not kept.
    let mut keys = b"\x1b[".to_vec();
    keys.extend(std::iter::repeat_n(b'1', 10_000));
    keys.extend_from_slice(b"~help\r");
    assert_eq!(line(&History::default(), &keys), "help");
}
