//! SOAP 1.2 requests as a namespace-aware element tree, and the envelope's
//! parts: its header and the one operation element of its body.
//!
//! Requests are small (a UsernameToken and an operation with a few
//! arguments), so a tree is simpler than streaming, and it is bounded:
//! the body's size is limited before parsing ([`super::MAX_BODY_BYTES`]),
//! nesting by [`MAX_DEPTH`], elements by [`MAX_ELEMENTS`]. A document type
//! declaration is refused (no entities beyond XML's five can be declared).
//! Elements are named by namespace URI and local name, so any prefix a
//! client picks works.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use thiserror::Error;

/// SOAP 1.2's envelope namespace.
pub const ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1's: a request in it gets a VersionMismatch fault.
pub const ENV_1_1: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// Deeper nesting than any ONVIF request we serve has is refused.
pub const MAX_DEPTH: usize = 32;
/// So are more elements.
pub const MAX_ELEMENTS: usize = 512;

/// One element: namespace URI (empty when unbound), local name, attributes,
/// text (entities resolved, CDATA included) and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub text: String,
    pub children: Vec<Node>,
    /// The namespace declarations on this element: (prefix, URI), the
    /// default namespace with an empty prefix. QName values (WS-Discovery's
    /// Types) are resolved with them.
    pub declared: Vec<(String, String)>,
}

/// An attribute: namespace URI (empty when unprefixed), local name, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub ns: String,
    pub name: String,
    pub value: String,
}

impl Node {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// The first child with local name `name`, in any namespace: ONVIF's
    /// request arguments are in the operation's namespace, but some clients
    /// put the schema's elements (`tt:`) where the WSDL's are expected.
    pub fn child_local(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The value of the unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The text, trimmed.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Why a request is not a SOAP message we can read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SoapError {
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("malformed XML at byte {position}: {reason}")]
    Syntax { position: u64, reason: String },
    #[error("the prefix '{0}' is not declared")]
    UnknownPrefix(String),
    #[error("document type declarations are not accepted")]
    Doctype,
    #[error("the document nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the document has more than {MAX_ELEMENTS} elements")]
    TooLarge,
    #[error("there is no root element")]
    Empty,
    #[error("text or elements after the root element")]
    Trailing,
    /// A SOAP 1.1 envelope, or another root: SOAP 1.2's VersionMismatch.
    #[error("the root element is {{{ns}}}{name}, not a SOAP 1.2 Envelope")]
    NotEnvelope { ns: String, name: String },
    #[error("the envelope has no Body")]
    NoBody,
    #[error("the Body holds {0} elements; one operation is expected")]
    BodyCount(usize),
}

/// A SOAP 1.2 envelope: its Header (if any) and its operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub header: Option<Node>,
    pub operation: Node,
    /// Every namespace declaration of the document, outermost first: the
    /// prefixes QName values may use. (A prefix declared twice for two
    /// URIs resolves to the innermost or last one.)
    pub namespaces: Vec<(String, String)>,
}

impl Envelope {
    /// The namespace URI `prefix` is declared for.
    pub fn resolve(&self, prefix: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, uri)| uri.as_str())
    }
}

fn declarations(node: &Node, out: &mut Vec<(String, String)>) {
    out.extend(node.declared.iter().cloned());
    for child in &node.children {
        declarations(child, out);
    }
}

/// Parses `body` as a SOAP 1.2 envelope with one operation in its Body.
pub fn envelope(body: &[u8]) -> Result<Envelope, SoapError> {
    let root = parse(body)?;
    let mut namespaces = Vec::new();
    declarations(&root, &mut namespaces);
    if !root.is(ENV, "Envelope") {
        return Err(SoapError::NotEnvelope {
            ns: root.ns,
            name: root.name,
        });
    }
    let mut header = None;
    let mut soap_body = None;
    for child in root.children {
        if child.is(ENV, "Header") && header.is_none() {
            header = Some(child);
        } else if child.is(ENV, "Body") && soap_body.is_none() {
            soap_body = Some(child);
        }
    }
    let mut soap_body = soap_body.ok_or(SoapError::NoBody)?;
    if soap_body.children.len() != 1 {
        return Err(SoapError::BodyCount(soap_body.children.len()));
    }
    let operation = soap_body.children.remove(0);
    Ok(Envelope {
        header,
        operation,
        namespaces,
    })
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Node, SoapError> {
    let text = std::str::from_utf8(body).map_err(|_| SoapError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);
    let mut builder = Builder::default();
    loop {
        let position = reader.buffer_position();
        let syntax = |e: quick_xml::Error| SoapError::Syntax {
            position,
            reason: e.to_string(),
        };
        let (_, event) = reader.read_resolved_event().map_err(syntax)?;
        match event {
            Event::Eof => break,
            Event::Start(start) => {
                let node = open(&reader, &start)?;
                builder.start(node)?;
            }
            Event::Empty(start) => {
                let node = open(&reader, &start)?;
                builder.start(node)?;
                builder.end();
            }
            Event::End(_) => builder.end(),
            Event::Text(t) => {
                let text = t.unescape().map_err(syntax)?;
                builder.text(&text)?;
            }
            Event::CData(c) => {
                let text = c.decode().map_err(|e| syntax(e.into()))?;
                builder.text(&text)?;
            }
            Event::DocType(_) => return Err(SoapError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    builder.finish()
}

/// An element's name and attributes, resolved against the namespaces in
/// scope.
fn open(reader: &NsReader<&[u8]>, start: &BytesStart) -> Result<Node, SoapError> {
    let (ns, local) = reader.resolve_element(start.name());
    let mut node = Node {
        ns: namespace(ns)?,
        name: String::from_utf8_lossy(local.as_ref()).into_owned(),
        ..Node::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| SoapError::Syntax {
            position: 0,
            reason: format!("<{}>: {e}", node.name),
        })?;
        let key = attr.key;
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            let prefix = key.as_ref().get(6..).unwrap_or_default();
            let uri = attr.unescape_value().map_err(|e| SoapError::Syntax {
                position: 0,
                reason: format!("<{}>: {e}", node.name),
            })?;
            node.declared.push((
                String::from_utf8_lossy(prefix).into_owned(),
                uri.into_owned(),
            ));
            continue;
        }
        let (ns, local) = reader.resolve_attribute(key);
        let value = attr.unescape_value().map_err(|e| SoapError::Syntax {
            position: 0,
            reason: format!("<{}>: {e}", node.name),
        })?;
        node.attrs.push(Attr {
            ns: namespace(ns)?,
            name: String::from_utf8_lossy(local.as_ref()).into_owned(),
            value: value.into_owned(),
        });
    }
    Ok(node)
}

fn namespace(resolved: ResolveResult) -> Result<String, SoapError> {
    match resolved {
        ResolveResult::Bound(ns) => Ok(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(prefix) => Err(SoapError::UnknownPrefix(
            String::from_utf8_lossy(&prefix).into_owned(),
        )),
    }
}

/// The elements still open, and the root once closed.
#[derive(Default)]
struct Builder {
    open: Vec<Node>,
    root: Option<Node>,
    elements: usize,
}

impl Builder {
    fn start(&mut self, node: Node) -> Result<(), SoapError> {
        if self.root.is_some() {
            return Err(SoapError::Trailing);
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(SoapError::TooLarge);
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(SoapError::TooDeep);
        }
        self.open.push(node);
        Ok(())
    }

    fn end(&mut self) {
        // quick-xml checks that end tags match their start tags.
        if let Some(done) = self.open.pop() {
            match self.open.last_mut() {
                Some(parent) => parent.children.push(done),
                None => self.root = Some(done),
            }
        }
    }

    fn text(&mut self, text: &str) -> Result<(), SoapError> {
        match self.open.last_mut() {
            Some(node) => node.text.push_str(text),
            None if text.trim().is_empty() => {}
            None if self.root.is_some() => return Err(SoapError::Trailing),
            None => {
                return Err(SoapError::Syntax {
                    position: 0,
                    reason: "text before the root element".into(),
                })
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Node, SoapError> {
        if !self.open.is_empty() {
            return Err(SoapError::Syntax {
                position: 0,
                reason: "the document ends inside an element".into(),
            });
        }
        self.root.ok_or(SoapError::Empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE: &str = "http://www.onvif.org/ver10/device/wsdl";

    #[test]
    fn an_envelope_gives_its_header_and_operation_whatever_the_prefixes() {
        let xml = r#"<?xml version="1.0"?>
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">
              <s:Header><x:Security xmlns:x="urn:sec" s:mustUnderstand="1">t</x:Security></s:Header>
              <s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body>
            </s:Envelope>"#;
        let env = envelope(xml.as_bytes()).expect("envelope");
        assert!(env.operation.is(DEVICE, "GetDeviceInformation"));
        assert_eq!(env.resolve("s"), Some(ENV));
        assert_eq!(env.resolve("x"), Some("urn:sec"));
        assert_eq!(env.resolve(""), Some(DEVICE));
        assert_eq!(env.resolve("nope"), None);
        let header = env.header.expect("header");
        let security = header.child("urn:sec", "Security").expect("security");
        assert_eq!(security.trimmed(), "t");
        assert_eq!(security.attrs[0].ns, ENV);
        assert_eq!(security.attrs[0].name, "mustUnderstand");
    }

    #[test]
    fn text_is_unescaped_and_cdata_kept() {
        let xml = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>
            <d:Op xmlns:d="urn:d" a="1 &amp; 2"><d:V>a &lt;b&gt; <![CDATA[<c>]]></d:V></d:Op>
            </e:Body></e:Envelope>"#;
        let env = envelope(xml.as_bytes()).expect("envelope");
        assert_eq!(env.operation.attr("a"), Some("1 & 2"));
        assert_eq!(
            env.operation.child("urn:d", "V").expect("V").text,
            "a <b> <c>"
        );
        assert!(env.header.is_none());
    }

    #[test]
    fn what_is_not_one_soap_12_operation_is_refused() {
        type Expect = fn(&SoapError) -> bool;
        let cases: [(&str, Expect); 9] = [
            ("<a", |e| matches!(e, SoapError::Syntax { .. })),
            ("", |e| matches!(e, SoapError::Empty)),
            ("\u{ff}", |e| {
                matches!(e, SoapError::Syntax { .. }) || matches!(e, SoapError::Empty)
            }),
            (
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>"#,
                |e| matches!(e, SoapError::NotEnvelope { ns, .. } if ns == ENV_1_1),
            ),
            (
                r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>"#,
                |e| *e == SoapError::NoBody,
            ),
            (
                r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"#,
                |e| *e == SoapError::BodyCount(0),
            ),
            (
                r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><a/><b/></s:Body></s:Envelope>"#,
                |e| *e == SoapError::BodyCount(2),
            ),
            (
                r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><q:a/></s:Body></s:Envelope>"#,
                |e| *e == SoapError::UnknownPrefix("q".into()),
            ),
            (r#"<!DOCTYPE x [<!ENTITY a "b">]><x/>"#, |e| {
                *e == SoapError::Doctype
            }),
        ];
        for (xml, expected) in cases {
            let err = envelope(xml.as_bytes()).expect_err(xml);
            assert!(expected(&err), "{xml}: {err:?}");
        }
        assert_eq!(envelope(b"<a/><b/>"), Err(SoapError::Trailing));
        assert_eq!(envelope(&[0xff, 0xfe]), Err(SoapError::NotUtf8));
    }

    #[test]
    fn nesting_and_element_counts_are_bounded() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse(deep.as_bytes()), Err(SoapError::TooDeep));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(parse(wide.as_bytes()), Err(SoapError::TooLarge));
    }
}
