//! The characters an XML 1.0 document may hold at all: the `Char`
//! production of the specification (section 2.2),
//! `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
//!
//! Neither raw nor as a character reference (`&#1;`) may anything else
//! appear, so a request holding such a character is refused, and a
//! response never holds one.

/// Whether XML 1.0 allows `c` in a document. (Surrogates cannot occur in a
/// Rust `char`, so the gap at `#xD800-#xDFFF` needs no test here.)
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// The first character XML 1.0 does not allow, with its byte offset.
pub fn first_forbidden(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| !is_xml_char(c))
}

/// How error messages name a character: `U+0001`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_char_production_at_its_edges() {
        let allowed = [
            '\u{9}',
            '\u{A}',
            '\u{D}',
            ' ',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
            '\u{10FFFF}',
        ];
        for c in allowed {
            assert!(is_xml_char(c), "{}", code_point(c));
        }
        let forbidden = [
            '\u{0}', '\u{1}', '\u{8}', '\u{B}', '\u{C}', '\u{E}', '\u{1B}', '\u{1F}', '\u{FFFE}',
            '\u{FFFF}',
        ];
        for c in forbidden {
            assert!(!is_xml_char(c), "{}", code_point(c));
        }
    }

    #[test]
    fn the_first_forbidden_character_and_where() {
        assert_eq!(first_forbidden("name"), None);
        assert_eq!(first_forbidden("é\u{1}\u{FFFF}"), Some((2, '\u{1}')));
        assert_eq!(code_point('\u{FFFE}'), "U+FFFE");
        assert_eq!(code_point('\u{1B}'), "U+001B");
    }
}
