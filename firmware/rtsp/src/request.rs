//! RTSP requests (RFC 2326 §6): the request line, the headers and a
//! body of `Content-Length` bytes, read from the front of a buffer that
//! may hold less than one request, or more.

use thiserror::Error;

/// The longest request head (request line and headers) a client may send.
pub const MAX_HEAD: usize = 8 * 1024;
/// The most headers one request may carry.
pub const MAX_HEADERS: usize = 32;
/// The longest body: keep-alive parameters, never media.
pub const MAX_BODY: usize = 4 * 1024;

/// The methods this server knows of; any other is kept by name and
/// answered 501.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Options,
    Describe,
    Setup,
    Play,
    Pause,
    Teardown,
    GetParameter,
    SetParameter,
    /// ANNOUNCE, RECORD and REDIRECT: RTSP methods a player-facing server
    /// does not allow (405).
    NotAllowed(String),
    Other(String),
}

impl Method {
    fn parse(word: &str) -> Method {
        match word {
            "OPTIONS" => Method::Options,
            "DESCRIBE" => Method::Describe,
            "SETUP" => Method::Setup,
            "PLAY" => Method::Play,
            "PAUSE" => Method::Pause,
            "TEARDOWN" => Method::Teardown,
            "GET_PARAMETER" => Method::GetParameter,
            "SET_PARAMETER" => Method::SetParameter,
            "ANNOUNCE" | "RECORD" | "REDIRECT" => Method::NotAllowed(word.to_string()),
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Options => "OPTIONS",
            Method::Describe => "DESCRIBE",
            Method::Setup => "SETUP",
            Method::Play => "PLAY",
            Method::Pause => "PAUSE",
            Method::Teardown => "TEARDOWN",
            Method::GetParameter => "GET_PARAMETER",
            Method::SetParameter => "SET_PARAMETER",
            Method::NotAllowed(word) | Method::Other(word) => word,
        }
    }
}

/// One request as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The Request-URI as written: `rtsp://host:port/path`, or `*`.
    pub uri: String,
    /// Headers in the order sent; names as written.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of this name (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn cseq(&self) -> Option<&str> {
        self.header("CSeq")
    }
}

/// Why the bytes are not a request. After any of these the connection's
/// framing is lost: answer (with [`RequestError::status`]) and close.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("request head longer than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    #[error("malformed request line")]
    BadRequestLine,
    #[error("malformed header line")]
    BadHeader,
    #[error("protocol version {0} is not RTSP/1.0")]
    BadVersion(String),
    #[error("Content-Length is not a number")]
    BadContentLength,
    #[error("body longer than {MAX_BODY} bytes")]
    BodyTooLarge,
}

impl RequestError {
    /// The status that answers it.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::HeadTooLarge | RequestError::BodyTooLarge => 413,
            RequestError::BadVersion(_) => 505,
            _ => 400,
        }
    }
}

/// Reads one request from the front of `buf`: `Ok(None)` while it is
/// incomplete, else the request and the bytes it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, RequestError> {
    let Some(head_len) = head_end(buf) else {
        return match buf.len() > MAX_HEAD {
            true => Err(RequestError::HeadTooLarge),
            false => Ok(None),
        };
    };
    if head_len > MAX_HEAD {
        return Err(RequestError::HeadTooLarge);
    }
    // Non-UTF-8 bytes are replaced: they can only make a header not match.
    let head = String::from_utf8_lossy(&buf[..head_len]);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let (method, uri) = request_line(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if headers.len() == MAX_HEADERS {
            return Err(RequestError::TooManyHeaders);
        }
        let (name, value) = line.split_once(':').ok_or(RequestError::BadHeader)?;
        let name = name.trim();
        if name.is_empty() || name.contains(' ') {
            return Err(RequestError::BadHeader);
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let mut request = Request {
        method,
        uri,
        headers,
        body: Vec::new(),
    };
    let body_len = match request.header("Content-Length") {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| RequestError::BadContentLength)?,
    };
    if body_len > MAX_BODY {
        return Err(RequestError::BodyTooLarge);
    }
    let Some(body) = buf.get(head_len..head_len + body_len) else {
        return Ok(None);
    };
    request.body = body.to_vec();
    Ok(Some((request, head_len + body_len)))
}

/// Where the blank line after the headers ends (CRLF CRLF, or bare LFs
/// as some clients send), within the first `MAX_HEAD` + 4 bytes.
fn head_end(buf: &[u8]) -> Option<usize> {
    let window = &buf[..buf.len().min(MAX_HEAD + 4)];
    let mut previous_newline = None;
    for (i, &b) in window.iter().enumerate() {
        if b == b'\n' {
            if let Some(p) = previous_newline {
                let between = &window[p + 1..i];
                if between.is_empty() || between == b"\r" {
                    return Some(i + 1);
                }
            }
            previous_newline = Some(i);
        }
    }
    None
}

fn request_line(line: &str) -> Result<(Method, String), RequestError> {
    let mut words = line.split(' ').filter(|w| !w.is_empty());
    let (Some(method), Some(uri), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(RequestError::BadRequestLine);
    };
    if version != "RTSP/1.0" {
        return Err(match version.starts_with("RTSP/") {
            true => RequestError::BadVersion(version.to_string()),
            false => RequestError::BadRequestLine,
        });
    }
    if !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return Err(RequestError::BadRequestLine);
    }
    Ok((Method::parse(method), uri.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_describe_is_read_whole() {
        let bytes = b"DESCRIBE rtsp://127.0.0.1:8554/live RTSP/1.0\r\nCSeq: 2\r\n\
                      Accept: application/sdp\r\nUser-Agent: Lavf61.7.100\r\n\r\nOPTIONS";
        let (request, used) = parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len() - "OPTIONS".len());
        assert_eq!(request.method, Method::Describe);
        assert_eq!(request.uri, "rtsp://127.0.0.1:8554/live");
        assert_eq!(request.cseq(), Some("2"));
        assert_eq!(request.header("accept"), Some("application/sdp"));
        assert!(request.body.is_empty());
    }

    #[test]
    fn a_part_of_a_request_asks_for_more() {
        let bytes =
            b"SET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 5\r\n\r\nab";
        for end in 0..bytes.len() {
            assert_eq!(parse(&bytes[..end]), Ok(None), "{end}");
        }
        let mut whole = bytes.to_vec();
        whole.extend_from_slice(b"cde");
        let (request, used) = parse(&whole).unwrap().unwrap();
        assert_eq!(
            (request.body.as_slice(), used),
            (&b"abcde"[..], whole.len())
        );
    }

    #[test]
    fn bare_line_feeds_are_accepted() {
        let (request, _) = parse(b"OPTIONS * RTSP/1.0\nCSeq: 1\n\n").unwrap().unwrap();
        assert_eq!(
            (request.method, request.uri.as_str()),
            (Method::Options, "*")
        );
    }

    #[test]
    fn bounds_are_kept() {
        let mut long = b"OPTIONS * RTSP/1.0\r\nX: ".to_vec();
        long.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse(&long), Err(RequestError::HeadTooLarge));
        let mut many = String::from("OPTIONS * RTSP/1.0\r\n");
        for i in 0..=MAX_HEADERS {
            many.push_str(&format!("X-{i}: 1\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(parse(many.as_bytes()), Err(RequestError::TooManyHeaders));
        let big = format!(
            "SET_PARAMETER * RTSP/1.0\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(parse(big.as_bytes()), Err(RequestError::BodyTooLarge));
    }

    #[test]
    fn malformed_requests_say_what_is_wrong() {
        for (bytes, error) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], RequestError::BadRequestLine),
            (
                b"PLAY rtsp://h/x RTSP/2.0\r\n\r\n",
                RequestError::BadVersion("RTSP/2.0".into()),
            ),
            (b"PLAY rtsp://h/x\r\n\r\n", RequestError::BadRequestLine),
            (
                b"PLAY rtsp://h/x RTSP/1.0\r\nNoColon\r\n\r\n",
                RequestError::BadHeader,
            ),
            (
                b"PLAY x RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
                RequestError::BadContentLength,
            ),
        ] {
            assert_eq!(parse(bytes), Err(error.clone()));
        }
        assert_eq!(RequestError::BadVersion("RTSP/2.0".into()).status(), 505);
        assert_eq!(RequestError::HeadTooLarge.status(), 413);
    }

    #[test]
    fn other_methods_keep_their_names() {
        let (request, _) = parse(b"RECORD * RTSP/1.0\r\n\r\n").unwrap().unwrap();
        assert_eq!(request.method, Method::NotAllowed("RECORD".into()));
        let (request, _) = parse(b"FLY * RTSP/1.0\r\n\r\n").unwrap().unwrap();
        assert_eq!(request.method.as_str(), "FLY");
    }
}
