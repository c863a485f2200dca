//! RTSP responses (RFC 2326 §7): the status line, headers in the order
//! added, and `Content-Length` whenever there is a body.

/// One response, written with [`Response::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header (after the ones already there).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        self.headers
            .push(("Content-Type".into(), content_type.to_string()));
        self.body = body.into();
        self
    }

    /// A plain-text body saying why, for errors a person will read.
    pub fn because(self, reason: &str) -> Response {
        self.body("text/plain", format!("{reason}\r\n"))
    }

    /// The first header of this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Appends the response's bytes to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let line = format!("RTSP/1.0 {} {}\r\n", self.status, reason(self.status));
        out.extend_from_slice(line.as_bytes());
        for (name, value) in &self.headers {
            // A value never carries a line break: they would split it.
            let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !self.body.is_empty() {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }
}

/// The reason phrase of a status (RFC 2326 §7.1.1).
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        451 => "Parameter Not Understood",
        453 => "Not Enough Bandwidth",
        454 => "Session Not Found",
        455 => "Method Not Valid in This State",
        459 => "Aggregate Operation Not Allowed",
        461 => "Unsupported Transport",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "RTSP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        Response::new(200)
            .header("CSeq", "3")
            .header("Session", "12345678;timeout=60")
            .write(&mut out);
        assert_eq!(
            out,
            b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12345678;timeout=60\r\n\r\n"
        );
        out.clear();
        Response::new(404)
            .header("CSeq", "2")
            .because("no stream at /x")
            .write(&mut out);
        assert_eq!(
            out,
            &b"RTSP/1.0 404 Not Found\r\nCSeq: 2\r\nContent-Type: text/plain\r\n\
               Content-Length: 17\r\n\r\nno stream at /x\r\n"[..]
        );
    }

    #[test]
    fn a_line_break_cannot_be_smuggled_into_a_header() {
        let mut out = Vec::new();
        Response::new(200)
            .header("CSeq", "1\r\nEvil: yes")
            .write(&mut out);
        assert_eq!(out, b"RTSP/1.0 200 OK\r\nCSeq: 1Evil: yes\r\n\r\n");
    }
}
