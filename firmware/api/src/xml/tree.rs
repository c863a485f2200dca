//! Request bodies as a tree of elements.
//!
//! Kraken bodies are small, shallow and element-only, and the contract asks
//! us to tolerate unknown elements and several spellings of some. A tree we
//! can query by name does that more simply than a serde mapping.

use quick_xml::events::Event;
use quick_xml::Reader;
use thiserror::Error;

/// Deeper nesting than any Kraken body has is refused.
const MAX_DEPTH: usize = 16;
/// More elements than any Kraken body has is refused.
const MAX_ELEMENTS: usize = 4096;

/// One element: its local name, its text (entities resolved) and its
/// children. Attributes play no part in Kraken requests and are dropped.
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
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let position = reader.buffer_position();
        let syntax = |e: quick_xml::Error| XmlError::Syntax {
            position,
            reason: e.to_string(),
        };
        match reader.read_event().map_err(syntax)? {
            Event::Start(start) => {
                count += 1;
                if root.is_some() {
                    return Err(XmlError::TrailingContent);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                stack.push(element_named(start.local_name().as_ref())?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                let element = element_named(start.local_name().as_ref())?;
                close(element, &mut stack, &mut root)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches.
                let element = stack.pop().ok_or(XmlError::TrailingContent)?;
                close(element, &mut stack, &mut root)?;
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(syntax)?;
                append_text(&mut stack, &root, &text)?;
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                let text = std::str::from_utf8(&raw).map_err(|_| XmlError::NotUtf8)?;
                append_text(&mut stack, &root, text)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax {
            position: reader.buffer_position(),
            reason: format!("<{}> is not closed", stack[stack.len() - 1].name),
        });
    }
    root.ok_or(XmlError::Empty)
}

fn element_named(name: &[u8]) -> Result<Element, XmlError> {
    let name = std::str::from_utf8(name).map_err(|_| XmlError::NotUtf8)?;
    Ok(Element {
        name: name.to_string(),
        ..Element::default()
    })
}

fn close(
    element: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err(XmlError::TrailingContent),
    }
    Ok(())
}

fn append_text(stack: &mut [Element], root: &Option<Element>, text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(open) => open.text.push_str(text),
        // Whitespace around the root is fine; anything else is not.
        None if text.trim().is_empty() => {}
        None if root.is_some() => return Err(XmlError::TrailingContent),
        None => {
            return Err(XmlError::Syntax {
                position: 0,
                reason: "text outside the root element".into(),
            })
        }
    }
    Ok(())
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
    fn unknown_entities_are_errors_not_panics() {
        assert!(matches!(
            parse(b"<a>&bogus;</a>"),
            Err(XmlError::Syntax { .. })
        ));
    }
}
