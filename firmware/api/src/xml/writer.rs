//! Writing indented response documents.
//!
//! Every answer is well-formed XML 1.0 whatever the configuration holds.
//! Requests cannot bring in a character outside XML's `Char` production
//! (the parser refuses them), but a document saved by an older firmware may
//! hold one: such a character is written as U+FFFD REPLACEMENT CHARACTER.
//! There is no escape for it in XML 1.0 (`&#1;` is as forbidden as the raw
//! byte); the stored value is left as it is, and an edit replaces it.

use std::fmt::Write as _;

use super::chars::is_xml_char;

/// Builds a response document. Elements are closed in order by the caller;
/// text and attribute values are escaped here.
#[derive(Debug)]
pub struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        XmlWriter::new()
    }
}

impl XmlWriter {
    pub fn new() -> XmlWriter {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.open.push(name);
        self
    }

    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.indent();
            let _ = writeln!(self.out, "</{name}>");
        }
        self
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, text: impl std::fmt::Display) -> &mut Self {
        self.indent();
        let text = text.to_string();
        let _ = writeln!(self.out, "<{name}>{}</{name}>", escape_text(&text));
        self
    }

    /// `<name>text</name>` when there is a value, nothing otherwise.
    pub fn optional(&mut self, name: &str, text: Option<impl std::fmt::Display>) -> &mut Self {
        if let Some(text) = text {
            self.text(name, text);
        }
        self
    }

    /// `<link rel=".." type="application/xml" href=".."/>`.
    pub fn link(&mut self, rel: &str, href: &str) -> &mut Self {
        self.indent();
        let _ = writeln!(
            self.out,
            "<link rel=\"{}\" type=\"application/xml\" href=\"{}\"/>",
            escape_attribute(rel),
            escape_attribute(href)
        );
        self
    }

    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// Escapes what element text needs: `&`, `<`, `>`. Quotes stay readable.
/// Characters XML cannot hold become U+FFFD (see the module's comment).
fn escape_text(text: &str) -> String {
    escape(text, false)
}

/// Escapes what a double-quoted attribute value needs.
fn escape_attribute(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if quotes => out.push_str("&quot;"),
            c if !is_xml_char(c) => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_indented_xml() {
        let mut w = XmlWriter::new();
        w.open("response").open("input");
        w.text("name", "A & <B>");
        w.optional("description", None::<&str>);
        w.link("self", "https://h/apis/kraken/inputs/input-1?a=1&b=2");
        let xml = w.finish();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <input>\n    <name>A &amp; &lt;B&gt;</name>\n    <link rel=\"self\" type=\"application/xml\" href=\"https://h/apis/kraken/inputs/input-1?a=1&amp;b=2\"/>\n  </input>\n</response>\n"
        );
    }

    #[test]
    fn output_reparses_to_the_same_text() {
        let mut w = XmlWriter::new();
        w.open("response").text("name", "x\"'<>&y");
        let tree = crate::xml::parse(w.finish().as_bytes()).unwrap();
        assert_eq!(tree.text_of(&["name"]), Some("x\"'<>&y"));
    }

    /// A name stored by an older firmware with characters XML cannot hold
    /// still gives a well-formed answer.
    #[test]
    fn characters_xml_cannot_hold_are_replaced() {
        let mut w = XmlWriter::new();
        w.open("response")
            .text("name", "a\u{1}b\u{C}\u{1B}\u{FFFE}\u{FFFF}\u{0}c\té");
        w.link("self", "https://h/x\u{1}");
        let xml = w.finish();
        let tree = crate::xml::parse(xml.as_bytes()).unwrap();
        assert_eq!(
            tree.text_of(&["name"]),
            Some("a\u{FFFD}b\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}c\té")
        );
        assert!(xml.contains("href=\"https://h/x\u{FFFD}\""), "{xml}");
    }
}
