//! Request bodies as a tree of elements.
//!
//! Kraken bodies are small, shallow and element-only, and the contract asks
//! us to tolerate unknown elements and several spellings of some. A tree we
//! can query by name does that more simply than a serde mapping.
//!
//! What quick-xml lets through that XML 1.0 does not is refused here: a
//! character outside the `Char` production, raw or as a reference (see
//! [`super::chars`]), and a malformed or repeated attribute. A body that is
//! not well-formed XML is answered as poorly formatted, whatever it holds.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use thiserror::Error;

use super::chars::{code_point, first_forbidden};

/// Deeper nesting than any Kraken body has is refused.
const MAX_DEPTH: usize = 16;
/// More elements than any Kraken body has is refused.
const MAX_ELEMENTS: usize = 4096;

/// One element: its local name, its text (entities resolved) and its
/// children. Attributes play no part in Kraken requests: they are checked
/// for well-formedness and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("malformed XML at byte {position}: {reason}")]
    Syntax { position: u64, reason: String },
    /// The text of `element` is not well-formed (an unknown entity, a bad
    /// character reference).
    #[error("{element}: {reason}")]
    Text { element: String, reason: String },
    /// A character XML 1.0 does not allow, in the text of `field` (an
    /// element, or an element's attribute).
    #[error("{field}: the character {} is not allowed in XML 1.0", code_point(*.character))]
    ForbiddenChar { field: String, character: char },
    /// The same, outside any text: in a tag, a comment or between elements.
    #[error("the character {} at byte {position} is not allowed in XML 1.0", code_point(*.character))]
    ForbiddenCharAt { position: usize, character: char },
    #[error("<{element}> has a malformed attribute: {reason}")]
    Attribute { element: String, reason: String },
    #[error("document type declarations are not accepted")]
    Doctype,
    #[error("the document nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the document has more than {MAX_ELEMENTS} elements")]
    TooLarge,
    #[error("text or elements after the root element")]
    TrailingContent,
}

impl Element {
    /// The first child with any of `names` (spellings of one element).
    pub fn child(&self, names: &[&str]) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| names.contains(&c.name.as_str()))
    }

    /// All children with any of `names`.
    pub fn children_named<'a>(&'a self, names: &'a [&'a str]) -> impl Iterator<Item = &'a Element> {
        self.children
            .iter()
            .filter(move |c| names.contains(&c.name.as_str()))
    }

    /// The trimmed text of a child; `None` when absent. An empty element
    /// gives `Some("")`.
    pub fn text_of(&self, names: &[&str]) -> Option<&str> {
        self.child(names).map(|c| c.text.trim())
    }
}

/// Parses a whole document and returns its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(XmlError::Empty);
    }
    let mut reader = Reader::from_str(text);
    let mut tree = Builder::default();
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| XmlError::Syntax {
            position,
            reason: e.to_string(),
        })?;
        match event {
            Event::Eof => break,
            event => tree.take(event, position)?,
        }
    }
    let root = tree.finish(reader.buffer_position())?;
    // Text and attribute values were checked with their element's name;
    // this finds what is left: tags, comments, processing instructions.
    match first_forbidden(text) {
        Some((position, character)) => Err(XmlError::ForbiddenCharAt {
            position,
            character,
        }),
        None => Ok(root),
    }
}

/// The elements read so far: those still open, and the root once closed.
#[derive(Default)]
struct Builder {
    stack: Vec<Element>,
    root: Option<Element>,
    count: usize,
}

impl Builder {
    fn take(&mut self, event: Event<'_>, position: u64) -> Result<(), XmlError> {
        match event {
            Event::Start(start) => {
                let element = self.open(&start)?;
                if self.stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                self.stack.push(element);
            }
            Event::Empty(start) => {
                let element = self.open(&start)?;
                self.close(element)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches.
                let element = self.stack.pop().ok_or(XmlError::TrailingContent)?;
                self.close(element)?;
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| self.bad_text(e, position))?;
                self.append_text(&text)?;
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                let text = std::str::from_utf8(&raw).map_err(|_| XmlError::NotUtf8)?;
                self.append_text(text)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Eof => {}
        }
        Ok(())
    }

    /// A new element from its start tag, attributes checked.
    fn open(&mut self, start: &BytesStart<'_>) -> Result<Element, XmlError> {
        self.count += 1;
        if self.root.is_some() {
            return Err(XmlError::TrailingContent);
        }
        if self.count > MAX_ELEMENTS {
            return Err(XmlError::TooLarge);
        }
        let name = std::str::from_utf8(start.local_name().as_ref())
            .map_err(|_| XmlError::NotUtf8)?
            .to_string();
        check_attributes(start, &name)?;
        Ok(Element {
            name,
            ..Element::default()
        })
    }

    fn close(&mut self, element: Element) -> Result<(), XmlError> {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(element),
            None if self.root.is_none() => self.root = Some(element),
            None => return Err(XmlError::TrailingContent),
        }
        Ok(())
    }

    fn append_text(&mut self, text: &str) -> Result<(), XmlError> {
        match self.stack.last_mut() {
            Some(open) => {
                if let Some((_, character)) = first_forbidden(text) {
                    return Err(XmlError::ForbiddenChar {
                        field: open.name.clone(),
                        character,
                    });
                }
                open.text.push_str(text);
            }
            // Whitespace around the root is fine; anything else is not.
            None if is_xml_space(text) => {}
            None if self.root.is_some() => return Err(XmlError::TrailingContent),
            None => {
                return Err(XmlError::Syntax {
                    position: 0,
                    reason: "text outside the root element".into(),
                })
            }
        }
        Ok(())
    }

    /// An unescaping failure, named after the element it happened in.
    fn bad_text(&self, e: quick_xml::Error, position: u64) -> XmlError {
        match self.stack.last() {
            Some(open) => XmlError::Text {
                element: open.name.clone(),
                reason: e.to_string(),
            },
            None => XmlError::Syntax {
                position,
                reason: e.to_string(),
            },
        }
    }

    fn finish(self, position: u64) -> Result<Element, XmlError> {
        if let Some(open) = self.stack.last() {
            return Err(XmlError::Syntax {
                position,
                reason: format!("<{}> is not closed", open.name),
            });
        }
        self.root.ok_or(XmlError::Empty)
    }
}

/// XML's white space (`S`), which is narrower than Unicode's: a form feed
/// is not white space in XML (nor allowed at all).
fn is_xml_space(text: &str) -> bool {
    text.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Attributes must be well-formed even though they are dropped: a quoted
/// value after `=`, each name once, white space between them, entities that
/// resolve, no `<` and only characters XML allows.
fn check_attributes(start: &BytesStart<'_>, element: &str) -> Result<(), XmlError> {
    let malformed = |reason: String| XmlError::Attribute {
        element: element.to_string(),
        reason,
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| malformed(e.to_string()))?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        if attribute.value.contains(&b'<') {
            return Err(malformed(format!("the value of {key} holds '<'")));
        }
        let value = attribute
            .unescape_value()
            .map_err(|e| malformed(format!("the value of {key}: {e}")))?;
        if let Some((_, character)) = first_forbidden(&value) {
            return Err(XmlError::ForbiddenChar {
                field: format!("{element} attribute {key}"),
                character,
            });
        }
    }
    if !spaced(start.attributes_raw()) {
        return Err(malformed(
            "attributes must be separated by white space".into(),
        ));
    }
    Ok(())
}

/// Whether every quoted value in a start tag's (already checked)
/// attributes is followed by white space or the end of the tag: quick-xml
/// reads `a="1"b="2"` as two attributes, XML does not.
fn spaced(raw: &[u8]) -> bool {
    let mut quote = None;
    for (i, &b) in raw.iter().enumerate() {
        match quote {
            Some(q) if b == q => {
                quote = None;
                let next = raw.get(i + 1).copied().unwrap_or(b' ');
                if !matches!(next, b' ' | b'\t' | b'\r' | b'\n') {
                    return false;
                }
            }
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_kraken_body() {
        let body = br#"<?xml version="1.0" encoding="UTF-8" ?>
<transcoder>
  <name>SD &amp; HD</name>
  <resolution><width>720</width><height>480</height></resolution>
  <resolutionMode />
  <!-- a comment -->
</transcoder>"#;
        let root = parse(body).unwrap();
        assert_eq!(root.name, "transcoder");
        assert_eq!(root.text_of(&["name"]), Some("SD & HD"));
        let res = root.child(&["resolution"]).unwrap();
        assert_eq!(res.text_of(&["width"]), Some("720"));
        assert_eq!(root.text_of(&["resolutionMode"]), Some(""));
        assert_eq!(root.text_of(&["missing"]), None);
    }

    #[test]
    fn aliases_and_repeated_children() {
        let root = parse(b"<s><outputs><output>a</output><output>b</output></outputs><framerate>5</framerate></s>").unwrap();
        let outs: Vec<_> = root
            .child(&["outputs"])
            .unwrap()
            .children_named(&["output"])
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(outs, ["a", "b"]);
        assert_eq!(root.text_of(&["frameRate", "framerate"]), Some("5"));
    }

    #[test]
    fn cdata_and_namespaces() {
        let root = parse(b"<k:input xmlns:k=\"urn:x\"><k:name><![CDATA[a<b]]></k:name></k:input>")
            .unwrap();
        assert_eq!(root.name, "input");
        assert_eq!(root.text_of(&["name"]), Some("a<b"));
    }

    #[test]
    fn malformed_documents_are_refused() {
        assert_eq!(parse(b""), Err(XmlError::Empty));
        assert_eq!(parse(b"   \n"), Err(XmlError::Empty));
        assert!(matches!(parse(b"<a><b></a>"), Err(XmlError::Syntax { .. })));
        assert!(matches!(parse(b"<a>"), Err(XmlError::Syntax { .. })));
        assert!(matches!(parse(b"not xml"), Err(XmlError::Syntax { .. })));
        assert_eq!(parse(b"<a/><b/>"), Err(XmlError::TrailingContent));
        assert_eq!(
            parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
            Err(XmlError::Doctype)
        );
        assert_eq!(parse(&[0xff, 0xfe]), Err(XmlError::NotUtf8));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
    }

    #[test]
    fn unknown_entities_name_their_element() {
        let e = parse(b"<input><name>&bogus;</name></input>").unwrap_err();
        assert!(
            matches!(&e, XmlError::Text { element, .. } if element == "name"),
            "{e:?}"
        );
    }

    /// Issue 8: every character outside XML 1.0's `Char`, raw or as a
    /// reference, decimal or hex, is refused and named with its element.
    #[test]
    fn characters_xml_cannot_hold_are_refused_with_their_element() {
        let kinds = [
            ("&#1;", '\u{1}'),
            ("\u{1}", '\u{1}'),
            ("\u{C}", '\u{C}'),
            ("&#12;", '\u{C}'),
            ("&#x1B;", '\u{1B}'),
            ("\u{1B}", '\u{1B}'),
            ("\u{0}", '\u{0}'),
            ("\u{FFFE}", '\u{FFFE}'),
            ("&#xFFFE;", '\u{FFFE}'),
            ("\u{FFFF}", '\u{FFFF}'),
            ("&#65535;", '\u{FFFF}'),
        ];
        for (written, character) in kinds {
            let body = format!("<input><name>cam{written}era</name></input>");
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(
                e,
                XmlError::ForbiddenChar {
                    field: "name".into(),
                    character
                },
                "{written:?}"
            );
            assert!(e.to_string().starts_with("name: the character U+"), "{e}");
        }
    }

    /// References quick-xml itself refuses (NUL, surrogates) are named too.
    #[test]
    fn references_to_nul_and_surrogates_name_their_element() {
        for written in ["&#0;", "&#xD800;", "&#x110000;"] {
            let body = format!("<input><name>a{written}</name></input>");
            let e = parse(body.as_bytes()).unwrap_err();
            assert!(
                matches!(&e, XmlError::Text { element, .. } if element == "name"),
                "{written}: {e:?}"
            );
        }
    }

    #[test]
    fn the_allowed_edges_of_char_are_kept() {
        let body = "<a><name>\t&#9;&#xD7FF;\u{E000}\u{FFFD}&#x10000;\u{10FFFF}</name></a>";
        let root = parse(body.as_bytes()).unwrap();
        assert_eq!(
            root.child(&["name"]).unwrap().text,
            "\t\t\u{D7FF}\u{E000}\u{FFFD}\u{10000}\u{10FFFF}"
        );
    }

    #[test]
    fn forbidden_characters_outside_text_are_refused_with_a_position() {
        for body in [
            "<a><!-- \u{1} --></a>",
            "<a\u{1}><b/></a\u{1}>",
            "\u{C}<a/>",
            "<a/>\u{C}",
            "<?pi \u{FFFF}?><a/>",
        ] {
            let e = parse(body.as_bytes()).unwrap_err();
            assert!(
                matches!(
                    e,
                    XmlError::ForbiddenCharAt { .. }
                        | XmlError::Syntax { .. }
                        | XmlError::TrailingContent
                ),
                "{body:?}: {e:?}"
            );
        }
        let e = parse("<a><!-- \u{1} --></a>".as_bytes()).unwrap_err();
        assert_eq!(
            e,
            XmlError::ForbiddenCharAt {
                position: 8,
                character: '\u{1}'
            }
        );
    }

    #[test]
    fn forbidden_characters_in_attribute_values_are_refused() {
        for value in ["&#1;", "\u{1B}", "\u{FFFE}"] {
            let body = format!("<input a=\"{value}\"><name>x</name></input>");
            let e = parse(body.as_bytes()).unwrap_err();
            assert!(
                matches!(&e, XmlError::ForbiddenChar { field, .. } if field == "input attribute a"),
                "{value:?}: {e:?}"
            );
        }
    }

    /// Issue 8: attributes are dropped, but a malformed one still makes the
    /// body malformed.
    #[test]
    fn malformed_attributes_are_refused() {
        for body in [
            "<input a=><name>x</name></input>",
            "<input a=/>",
            "<input a><name>x</name></input>",
            "<input a=1><name>x</name></input>",
            "<input a=\"1\" a=\"2\"><name>x</name></input>",
            "<input><name a='1' a='1'>x</name></input>",
            "<input a=\"x<y\"/>",
            "<input a=\"&bogus;\"/>",
            "<input a=\"1/>",
            "<input a=\"1\"b='2'/>",
        ] {
            let e = parse(body.as_bytes()).unwrap_err();
            assert!(
                matches!(e, XmlError::Attribute { .. } | XmlError::Syntax { .. }),
                "{body}: {e:?}"
            );
        }
        let e = parse(b"<input a=\"1\" a=\"2\"/>").unwrap_err();
        assert!(
            matches!(&e, XmlError::Attribute { element, .. } if element == "input"),
            "{e:?}"
        );
    }

    #[test]
    fn well_formed_attributes_are_accepted_and_dropped() {
        let root = parse(
            b"<input a=\"1\" b='&amp;\"'\tk:c=\"&#x41;'\"\n><name x=\"y\"/><e z=\"\" /></input>",
        )
        .unwrap();
        assert_eq!(root.text_of(&["name"]), Some(""));
        assert_eq!(root.children.len(), 2);
    }
}
