//! Laying words out on 20-character rows. Every function returns a row as
//! the LCD shows it ([`lcd_text`]): widths count characters, and
//! characters the display lacks are already `?`.

use crate::protocol::{lcd_text, COLUMNS};

/// `text` on one row, cut to fit.
pub(crate) fn row(text: &str) -> String {
    lcd_text(text)
}

/// `left` at the start of the row and `right` at its end, `left` cut to
/// leave a space between them. `right` is short, and never cut.
pub(crate) fn spread(left: &str, right: &str) -> String {
    let right_len = right.chars().count();
    if right_len == 0 {
        return row(left);
    }
    let room = COLUMNS.saturating_sub(right_len + 1);
    let left: String = left.chars().take(room).collect();
    let gap = COLUMNS.saturating_sub(left.chars().count() + right_len);
    row(&format!("{left}{}{right}", " ".repeat(gap)))
}

/// `subject` with a `?` after it, `subject` cut so the `?` still shows.
pub(crate) fn question(subject: &str) -> String {
    let subject: String = subject.chars().take(COLUMNS - 1).collect();
    row(&format!("{subject}?"))
}

/// A row of spaces with `^` under each column of `columns`.
pub(crate) fn carets(columns: std::ops::Range<usize>) -> String {
    let text: String = (0..COLUMNS)
        .map(|c| if columns.contains(&c) { '^' } else { ' ' })
        .collect();
    row(&text)
}

/// `text` over both rows, broken between words where it can be; what does
/// not fit in 40 characters is cut.
pub(crate) fn wrap(text: &str) -> [String; 2] {
    let mut rows = [String::new(), String::new()];
    let mut at = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let used = rows[at].chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= COLUMNS {
                rows[at].push_str(&" ".repeat(gap));
                rows[at].extend(word.drain(..));
            } else if used == 0 {
                // A word longer than a row fills it and goes on below.
                rows[at].extend(word.drain(..COLUMNS));
                at += 1;
            } else {
                at += 1;
            }
            if at == rows.len() {
                return rows.map(|r| row(&r));
            }
        }
    }
    rows.map(|r| row(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLANK: &str = "                    ";

    #[test]
    fn spread_keeps_the_right_and_cuts_the_left() {
        assert_eq!(spread("makara", "2 live"), "makara        2 live");
        assert_eq!(
            spread("a-very-long-box-name", "2 live"),
            "a-very-long-b 2 live"
        );
        assert_eq!(spread("left", ""), "left                ");
        assert_eq!(spread("", "right"), "               right");
    }

    #[test]
    fn questions_keep_their_mark() {
        assert_eq!(question("Load Evening"), "Load Evening?       ");
        assert_eq!(
            question("Load a very long preset name"),
            "Load a very long pr?"
        );
    }

    #[test]
    fn carets_under_columns() {
        assert_eq!(carets(5..6), "     ^              ");
        assert_eq!(carets(8..10), "        ^^          ");
    }

    #[test]
    fn wrap_breaks_between_words_and_cuts_the_rest() {
        assert_eq!(
            wrap("Failed: no media engine in this build"),
            ["Failed: no media    ", "engine in this build"]
        );
        assert_eq!(wrap("short"), ["short               ", BLANK]);
        assert_eq!(
            wrap("Failed: 0123456789012345678901234567890123456789"),
            ["Failed:             ", "01234567890123456789"]
        );
        assert_eq!(
            wrap("012345678901234567890123456789 end of it all"),
            ["01234567890123456789", "0123456789 end of it"]
        );
        assert_eq!(wrap(""), [BLANK, BLANK]);
    }
}
