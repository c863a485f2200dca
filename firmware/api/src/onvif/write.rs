//! Writing SOAP 1.2 answers: an envelope that declares every prefix the
//! answers use, and elements written in order by the caller with their
//! text and attribute values escaped.

use std::fmt::{Display, Write as _};

/// The prefixes of every answer, declared once on the envelope.
pub const NAMESPACES: [(&str, &str); 5] = [
    ("env", super::soap::ENV),
    ("ter", "http://www.onvif.org/ver10/error"),
    ("tt", "http://www.onvif.org/ver10/schema"),
    ("tds", super::DEVICE_NS),
    ("trt", super::MEDIA_NS),
];

/// One answer document. Elements are closed in order by the caller;
/// [`finish`](Self::finish) closes what is left, the body and the envelope.
#[derive(Debug)]
pub struct Doc {
    out: String,
    open: Vec<&'static str>,
}

impl Doc {
    /// An envelope with its Body open, and nothing in it yet.
    pub fn new() -> Doc {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<env:Envelope");
        for (prefix, uri) in NAMESPACES {
            let _ = write!(out, " xmlns:{prefix}=\"{uri}\"");
        }
        out.push_str("><env:Body>");
        Doc {
            out,
            open: Vec::new(),
        }
    }

    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.open_with(name, &[])
    }

    /// `<name a="v" …>`.
    pub fn open_with(&mut self, name: &'static str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attrs);
        self.out.push('>');
        self.open.push(name);
        self
    }

    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            let _ = write!(self.out, "</{name}>");
        }
        self
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, text: impl Display) -> &mut Self {
        let text = text.to_string();
        let _ = write!(self.out, "<{name}>{}</{name}>", escape(&text, false));
        self
    }

    /// Escaped text inside the element open now.
    pub fn chars(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text, false));
        self
    }

    /// `<name a="v" …/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attrs);
        self.out.push_str("/>");
        self
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let _ = write!(self.out, "<{name}");
        for (key, value) in attrs {
            let _ = write!(self.out, " {key}=\"{}\"", escape(value, true));
        }
    }

    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push_str("</env:Body></env:Envelope>\n");
        self.out
    }
}

impl Default for Doc {
    fn default() -> Doc {
        Doc::new()
    }
}

/// Escapes `&`, `<`, `>` (and `"` in attributes); characters XML 1.0
/// cannot hold (a name saved by an older firmware) become U+FFFD.
pub fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if quotes => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if u32::from(c) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                out.push(char::REPLACEMENT_CHARACTER)
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_an_envelope_with_escaped_text_and_attributes() {
        let mut doc = Doc::new();
        doc.open("tds:GetHostnameResponse")
            .open_with("tds:HostnameInformation", &[("a", "x\"<y")])
            .text("tt:Name", "box & <1>\u{1}")
            .empty("tt:Empty", &[("token", "t")]);
        let xml = doc.finish();
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\""
        ), "{xml}");
        assert!(xml.ends_with(
            "<env:Body><tds:GetHostnameResponse><tds:HostnameInformation a=\"x&quot;&lt;y\"><tt:Name>box &amp; &lt;1&gt;\u{FFFD}</tt:Name><tt:Empty token=\"t\"/></tds:HostnameInformation></tds:GetHostnameResponse></env:Body></env:Envelope>\n"
        ), "{xml}");
        let parsed = crate::onvif::soap::envelope(xml.as_bytes()).expect("reparses");
        assert_eq!(parsed.operation.name, "GetHostnameResponse");
        assert_eq!(parsed.operation.ns, crate::onvif::DEVICE_NS);
    }
}
