//! WS-Discovery (the 2005/04 draft ONVIF uses) messages, sans-IO: a Probe
//! read and matched against this device, and the ProbeMatches, Hello and
//! Bye it sends.

use std::fmt::Write as _;

use crate::onvif::soap;
use crate::onvif::write::escape;

pub const WSA_NS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
pub const WSD_NS: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery";
/// ONVIF's NetworkVideoTransmitter type.
pub const DN_NS: &str = "http://www.onvif.org/ver10/network/wsdl";
const PROBE: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe";
const PROBE_MATCHES: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches";
const HELLO: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello";
const BYE: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Bye";
const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
/// Where Hello and Bye are addressed.
const ALL: &str = "urn:schemas-xmlsoap-org:ws:2005:04:discovery";
const RFC3986: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc3986";
const RFC2396: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc2396";
const STRCMP0: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0";

/// The types this device is found by: (namespace, local name).
pub const TYPES: [(&str, &str); 2] = [
    (DN_NS, "NetworkVideoTransmitter"),
    (crate::onvif::DEVICE_NS, "Device"),
];

/// A Probe: what it asks for, and its MessageID to relate the answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub message_id: String,
    /// (namespace, local name); a prefix that is not declared gives an
    /// empty namespace, which matches nothing.
    pub types: Vec<(String, String)>,
    pub scopes: Vec<String>,
    /// The MatchBy rule of the scopes (RFC 3986 when absent).
    pub match_by: Option<String>,
}

/// Reads a datagram as a Probe; `None` for anything else (a Hello of
/// another device, a ProbeMatch, garbage), which is ignored.
pub fn probe(datagram: &[u8]) -> Option<Probe> {
    let envelope = soap::envelope(datagram).ok()?;
    let header = envelope.header.as_ref()?;
    let action = header.child(WSA_NS, "Action")?.trimmed();
    if action != PROBE || !envelope.operation.is(WSD_NS, "Probe") {
        return None;
    }
    let message_id = header.child(WSA_NS, "MessageID")?.trimmed().to_owned();
    if message_id.is_empty() || message_id.len() > 256 {
        return None;
    }
    let body = &envelope.operation;
    let types = body
        .child(WSD_NS, "Types")
        .map(|t| {
            t.text
                .split_whitespace()
                .map(|qname| {
                    let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
                    let ns = envelope.resolve(prefix).unwrap_or_default();
                    (ns.to_owned(), local.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let scopes_node = body.child(WSD_NS, "Scopes");
    Some(Probe {
        message_id,
        types,
        scopes: scopes_node
            .map(|s| s.text.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        match_by: scopes_node
            .and_then(|s| s.attr("MatchBy"))
            .map(str::to_owned),
    })
}

impl Probe {
    /// Whether this device answers: every type asked is one of
    /// [`TYPES`], and every scope asked matches one of `scopes`.
    pub fn matches(&self, scopes: &[String]) -> bool {
        let types = self
            .types
            .iter()
            .all(|(ns, local)| TYPES.iter().any(|(n, l)| n == ns && l == local));
        let rule = self.match_by.as_deref().unwrap_or(RFC3986);
        types
            && self
                .scopes
                .iter()
                .all(|asked| scopes.iter().any(|ours| scope_matches(rule, asked, ours)))
    }
}

/// WS-Discovery's scope rules: RFC 3986 (and 2396): the same scheme and
/// authority (ignoring case) and the asked path a segment-wise prefix of
/// ours; strcmp0: the same string. Other rules match nothing.
fn scope_matches(rule: &str, asked: &str, ours: &str) -> bool {
    match rule {
        STRCMP0 => asked == ours,
        RFC3986 | RFC2396 => {
            let (Some((a_head, a_path)), Some((o_head, o_path))) =
                (split_uri(asked), split_uri(ours))
            else {
                return false;
            };
            if !a_head.eq_ignore_ascii_case(o_head) {
                return false;
            }
            let a: Vec<&str> = a_path.split('/').filter(|s| !s.is_empty()).collect();
            let o: Vec<&str> = o_path.split('/').filter(|s| !s.is_empty()).collect();
            a.len() <= o.len() && a.iter().zip(&o).all(|(x, y)| x == y)
        }
        _ => false,
    }
}

/// `scheme://authority` and the path of a URI.
fn split_uri(uri: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let head_len = scheme.len() + 3 + end;
    Some((&uri[..head_len], &rest[end..]))
}

/// What every message of this device says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `urn:uuid:…`, the same across restarts.
    pub address: String,
    pub scopes: Vec<String>,
    pub xaddrs: Vec<String>,
    /// The sequence of this run: its start, and a count of its messages.
    pub instance_id: u64,
}

pub fn probe_matches(
    endpoint: &Endpoint,
    relates_to: &str,
    message_id: &str,
    number: u64,
) -> String {
    let mut out = head(
        PROBE_MATCHES,
        ANONYMOUS,
        message_id,
        endpoint.instance_id,
        number,
    );
    let _ = write!(
        out,
        "<wsa:RelatesTo>{}</wsa:RelatesTo>",
        escape(relates_to, false)
    );
    out.push_str("</env:Header><env:Body><d:ProbeMatches><d:ProbeMatch>");
    describe(&mut out, endpoint);
    out.push_str("</d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>");
    out
}

pub fn hello(endpoint: &Endpoint, message_id: &str, number: u64) -> String {
    let mut out = head(HELLO, ALL, message_id, endpoint.instance_id, number);
    out.push_str("</env:Header><env:Body><d:Hello>");
    describe(&mut out, endpoint);
    out.push_str("</d:Hello></env:Body></env:Envelope>");
    out
}

pub fn bye(endpoint: &Endpoint, message_id: &str, number: u64) -> String {
    let mut out = head(BYE, ALL, message_id, endpoint.instance_id, number);
    let _ = write!(
        out,
        "</env:Header><env:Body><d:Bye><wsa:EndpointReference><wsa:Address>{}</wsa:Address></wsa:EndpointReference></d:Bye></env:Body></env:Envelope>",
        escape(&endpoint.address, false)
    );
    out
}

fn head(action: &str, to: &str, message_id: &str, instance: u64, number: u64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><env:Envelope xmlns:env=\"{}\" xmlns:wsa=\"{WSA_NS}\" xmlns:d=\"{WSD_NS}\" xmlns:dn=\"{DN_NS}\" xmlns:tds=\"{}\">\
         <env:Header><wsa:MessageID>{}</wsa:MessageID><wsa:To>{to}</wsa:To><wsa:Action>{action}</wsa:Action>\
         <d:AppSequence InstanceId=\"{instance}\" MessageNumber=\"{number}\"/>",
        soap::ENV,
        crate::onvif::DEVICE_NS,
        escape(message_id, false),
    )
}

fn describe(out: &mut String, endpoint: &Endpoint) {
    let scopes: Vec<String> = endpoint.scopes.iter().map(|s| escape(s, false)).collect();
    let xaddrs: Vec<String> = endpoint.xaddrs.iter().map(|s| escape(s, false)).collect();
    let _ = write!(
        out,
        "<wsa:EndpointReference><wsa:Address>{}</wsa:Address></wsa:EndpointReference>\
         <d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types><d:Scopes>{}</d:Scopes>\
         <d:XAddrs>{}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>",
        escape(&endpoint.address, false),
        scopes.join(" "),
        xaddrs.join(" ")
    );
}

/// Reads Node text as a list; for tests of what we send.
#[cfg(test)]
fn list(node: &soap::Node) -> Vec<String> {
    node.text.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_xml(types: &str, scopes: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><s:Envelope xmlns:a="{WSA_NS}" xmlns:d="{WSD_NS}" xmlns:s="{}" xmlns:dn="{DN_NS}" xmlns:x="urn:other">
            <s:Header><a:Action>{PROBE}</a:Action><a:MessageID>urn:uuid:1234</a:MessageID><a:To>{ALL}</a:To></s:Header>
            <s:Body><d:Probe>{types}{scopes}</d:Probe></s:Body></s:Envelope>"#,
            soap::ENV
        )
    }

    fn ours() -> Vec<String> {
        vec![
            "onvif://www.onvif.org/Profile/Streaming".into(),
            "onvif://www.onvif.org/name/box".into(),
        ]
    }

    #[test]
    fn a_probe_for_our_types_and_scopes_matches() {
        let p = probe(probe_xml("<d:Types>dn:NetworkVideoTransmitter</d:Types>", "").as_bytes())
            .expect("probe");
        assert_eq!(p.message_id, "urn:uuid:1234");
        assert_eq!(
            p.types,
            [(DN_NS.to_owned(), "NetworkVideoTransmitter".to_owned())]
        );
        assert!(p.matches(&ours()));
        let any = probe(probe_xml("", "").as_bytes()).expect("probe");
        assert!(
            any.matches(&ours()),
            "no types and no scopes match every device"
        );
        let scoped = probe(
            probe_xml(
                "",
                "<d:Scopes>onvif://www.onvif.org/Profile onvif://WWW.onvif.org/name/box</d:Scopes>",
            )
            .as_bytes(),
        )
        .expect("probe");
        assert!(scoped.matches(&ours()));
    }

    #[test]
    fn other_types_scopes_and_rules_do_not_match() {
        for (types, scopes) in [
            ("<d:Types>x:NetworkVideoTransmitter</d:Types>", ""),
            ("<d:Types>dn:Printer</d:Types>", ""),
            ("<d:Types>undeclared:Device</d:Types>", ""),
            ("", "<d:Scopes>onvif://www.onvif.org/name/other</d:Scopes>"),
            ("", "<d:Scopes>onvif://www.onvif.org/Profile/Stream</d:Scopes>"),
            (
                "",
                "<d:Scopes MatchBy=\"http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0\">onvif://www.onvif.org/name</d:Scopes>",
            ),
            ("", "<d:Scopes MatchBy=\"urn:unknown\">onvif://www.onvif.org/name/box</d:Scopes>"),
        ] {
            let p = probe(probe_xml(types, scopes).as_bytes()).expect("probe");
            assert!(!p.matches(&ours()), "{types} {scopes}");
        }
    }

    #[test]
    fn what_is_not_a_probe_is_ignored() {
        assert!(probe(b"garbage").is_none());
        let hello = probe_xml("", "").replace(PROBE, HELLO);
        assert!(probe(hello.as_bytes()).is_none());
        let no_id = probe_xml("", "").replace("<a:MessageID>urn:uuid:1234</a:MessageID>", "");
        assert!(probe(no_id.as_bytes()).is_none());
    }

    fn endpoint() -> Endpoint {
        Endpoint {
            address: "urn:uuid:0e0f7a3c-0000-5000-8000-000000000001".into(),
            scopes: ours(),
            xaddrs: vec!["http://10.0.0.2:8080/onvif/device_service".into()],
            instance_id: 1_700_000_000,
        }
    }

    #[test]
    fn a_probe_match_relates_to_the_probe_and_describes_the_device() {
        let xml = probe_matches(&endpoint(), "urn:uuid:1234", "urn:uuid:5678", 3);
        let env = soap::envelope(xml.as_bytes()).expect("parses");
        let header = env.header.as_ref().expect("header");
        assert_eq!(
            header.child(WSA_NS, "RelatesTo").expect("rel").text,
            "urn:uuid:1234"
        );
        assert_eq!(
            header.child(WSA_NS, "Action").expect("action").text,
            PROBE_MATCHES
        );
        let seq = header.child(WSD_NS, "AppSequence").expect("seq");
        assert_eq!(seq.attr("MessageNumber"), Some("3"));
        let m = env.operation.child(WSD_NS, "ProbeMatch").expect("match");
        assert_eq!(
            list(m.child(WSD_NS, "XAddrs").expect("x")),
            endpoint().xaddrs
        );
        assert_eq!(list(m.child(WSD_NS, "Scopes").expect("s")), ours());
        let types = list(m.child(WSD_NS, "Types").expect("t"));
        for t in &types {
            let (prefix, local) = t.split_once(':').expect("qname");
            let ns = env.resolve(prefix).expect("declared");
            assert!(TYPES.contains(&(ns, local)), "{t}");
        }
    }

    #[test]
    fn hello_and_bye_are_addressed_to_all() {
        let hello = soap::envelope(hello(&endpoint(), "urn:uuid:1", 1).as_bytes()).expect("hello");
        assert!(hello.operation.is(WSD_NS, "Hello"));
        let bye = soap::envelope(bye(&endpoint(), "urn:uuid:2", 2).as_bytes()).expect("bye");
        assert!(bye.operation.is(WSD_NS, "Bye"));
        let to = bye
            .header
            .as_ref()
            .and_then(|h| h.child(WSA_NS, "To"))
            .expect("to");
        assert_eq!(to.text, ALL);
    }
}
