//! What the fuzz targets share: reading a fuzzed input as an HTTP-like
//! request, and the check that an error answer is a well-formed document.
//!
//! The inputs are text-shaped on purpose, so that a seed is readable and
//! the fuzzer's mutations of one line stay on that line:
//!
//! ```text
//! METHOD PATH[?QUERY]
//! Name: value            (oauth_verify only; a line starting with a
//!  continued value        space or tab continues the one before)
//!
//! body
//! ```

#![forbid(unsafe_code)]

use makara_api::oauth::{verify, NonceCache, OAuthError, RequestParts};
use quick_xml::events::Event;
use quick_xml::Reader;

/// The one consumer oauth_verify knows, and its clock; examples/make_seeds
/// signs the seeds with these.
pub const OAUTH_KEY: &str = "makara-fuzz-key";
pub const OAUTH_SECRET: &str = "makara-fuzz-secret";
pub const OAUTH_NOW: u64 = 1_700_000_000;

/// A fuzzed request, borrowed from the input.
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// `(name, value)`; a folded value keeps its `\r\n` and indentation,
    /// as a real folded header would arrive.
    pub headers: Vec<(&'a str, String)>,
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as the OAuth verifier sees it, over https.
    pub fn oauth_parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method,
            scheme: "https",
            host: self.header("Host").unwrap_or("localhost"),
            path: self.path,
            query: self.query,
            authorization: self.header("Authorization"),
            content_type: self.header("Content-Type"),
            body: self.body,
        }
    }
}

/// Verifies `parts` for the one known consumer at [`OAUTH_NOW`], spending
/// its nonce in `nonces`.
pub fn verify_as_fuzz_consumer(
    parts: &RequestParts<'_>,
    nonces: &NonceCache,
) -> Result<String, OAuthError> {
    let secret_for = |key: &str| (key == OAUTH_KEY).then(|| OAUTH_SECRET.to_owned());
    verify(parts, secret_for, OAUTH_NOW, nonces)
}

/// The request line, and everything after its newline as the body
/// (kraken_route: no headers). `None` when the line is not UTF-8.
pub fn request_line_and_body(data: &[u8]) -> Option<Request<'_>> {
    let (line, body) = split_line(data);
    let mut request = request_line(line)?;
    request.body = body;
    Some(request)
}

/// The request line, headers up to the first empty line, then the body.
pub fn request_with_headers(data: &[u8]) -> Option<Request<'_>> {
    let (line, mut rest) = split_line(data);
    let mut request = request_line(line)?;
    while !rest.is_empty() {
        let (line, after) = split_line(rest);
        rest = after;
        let line = std::str::from_utf8(line).ok()?;
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // obs-fold (RFC 7230 §3.2.4): the value goes on.
            if let Some((_, value)) = request.headers.last_mut() {
                value.push_str("\r\n");
                value.push_str(line);
            }
            continue;
        }
        let (name, value) = line.split_once(':')?;
        request.headers.push((name, value.trim().to_owned()));
    }
    request.body = rest;
    Some(request)
}

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fn request_line(line: &[u8]) -> Option<Request<'_>> {
    let line = std::str::from_utf8(line).ok()?;
    let (method, target) = line.split_once(' ').unwrap_or((line, ""));
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    Some(Request {
        method,
        path,
        query,
        ..Request::default()
    })
}

/// Checks what a client reading an error answer relies on: one
/// `<response>` root holding `<error>` with `<code>` and `<message>`, tags
/// that balance, entities that resolve, and only characters XML 1.0
/// allows (a control character in the text makes strict parsers refuse
/// the whole document).
pub fn check_error_document(xml: &str) -> Result<(), String> {
    if let Some(c) = xml.chars().find(|&c| !is_xml_char(c)) {
        return Err(format!("{c:?} is not an XML 1.0 character"));
    }
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                path.push(name);
                seen.push(path.join("/"));
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|e| e.to_string())?;
                if path.is_empty() && !text.trim().is_empty() {
                    return Err(format!("text {text:?} outside the root"));
                }
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    let wanted = [
        "response",
        "response/error",
        "response/error/code",
        "response/error/message",
    ];
    if seen != wanted {
        return Err(format!("elements {seen:?}, wanted {wanted:?}"));
    }
    Ok(())
}

/// XML 1.0 §2.2 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_request_line_and_body() {
        let r = request_line_and_body(b"PUT /apis/kraken/inputs/x?a=1\n<input/>").unwrap();
        assert_eq!(
            (r.method, r.path, r.query),
            ("PUT", "/apis/kraken/inputs/x", Some("a=1"))
        );
        assert_eq!(r.body, b"<input/>");
    }

    #[test]
    fn reads_headers_with_folded_values() {
        let data = b"GET /p\nHost: h:1\nAuthorization: OAuth a=\"1\",\n b=\"2\"\n\nbody\n";
        let r = request_with_headers(data).unwrap();
        assert_eq!(r.header("host"), Some("h:1"));
        assert_eq!(
            r.header("authorization"),
            Some("OAuth a=\"1\",\r\n b=\"2\"")
        );
        assert_eq!(r.body, b"body\n");
    }

    #[test]
    fn error_documents_are_checked() {
        let good = "<?xml version=\"1.0\"?>\n<response>\n<error>\n<code>1</code>\n\
                    <message>a &amp; b</message>\n</error>\n</response>\n";
        assert_eq!(check_error_document(good), Ok(()));
        for bad in [
            good.replace("&amp;", "&"),
            good.replace("a &amp; b", "a <b"),
            good.replace("a &amp; b", "a \u{1} b"),
            good.replace("<code>1</code>", ""),
        ] {
            assert!(check_error_document(&bad).is_err(), "{bad}");
        }
    }
}

/// Checks an HMP error document as a client reads it: exactly `code` (six
/// digits), `name` and `message` (non-empty strings), and `httpStatusCode`
/// and `statusCode` (both `status`, a 4xx or 5xx), and that it survives a
/// round trip through JSON text.
pub fn check_json_error(doc: &serde_json::Value, status: u16) -> Result<(), String> {
    let fields = doc.as_object().ok_or("not an object")?;
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["code", "httpStatusCode", "message", "name", "statusCode"] {
        return Err(format!("keys {keys:?}"));
    }
    let code = doc["code"].as_str().ok_or("code is not a string")?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("code {code:?}"));
    }
    for key in ["name", "message"] {
        if doc[key].as_str().is_none_or(str::is_empty) {
            return Err(format!("{key} is not a non-empty string"));
        }
    }
    if !(400..600).contains(&status) {
        return Err(format!("status {status}"));
    }
    for key in ["httpStatusCode", "statusCode"] {
        if doc[key].as_u64() != Some(u64::from(status)) {
            return Err(format!("{key} is not {status}"));
        }
    }
    let text = doc.to_string();
    let back: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if &back != doc {
        return Err("does not survive a round trip".into());
    }
    Ok(())
}
