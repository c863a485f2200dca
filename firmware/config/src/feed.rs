//! The destinations of the outputs that feed other systems: an RTMP
//! server a stream is pushed to (a CDN's ingest), the RTSP address a
//! stream is served at (a VMS pulls it), and how an output that connects
//! out retries after a failure.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::invalid::Invalid;
use crate::range::Limits;

pub const RETRY_LIMIT: Limits = Limits::new("retryLimit", 0, 1000);
pub const RETRY_DELAY_MAX: Limits = Limits::new("retryDelayMax", 1, 300);
/// Retry for ever.
pub const DEFAULT_RETRY_LIMIT: i64 = 0;
pub const DEFAULT_RETRY_DELAY_MAX_S: i64 = 30;
pub const RTMP_DEFAULT_PORT: u16 = 1935;
pub const RTMPS_DEFAULT_PORT: u16 = 443;
pub const RTSP_DEFAULT_PORT: u16 = 554;
/// The longest RTSP path served (`NAME` of `rtsp://host:port/NAME`).
pub const RTSP_PATH_MAX: usize = 255;

/// How an output that connects out (an RTMP push, an SRT caller) tries
/// again after its connection fails: after 1 s, doubling up to
/// `delay_max_s`, at most `limit` times in a row (0: for ever). A
/// connection that delivers resets the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub limit: u32,
    pub delay_max_s: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            limit: DEFAULT_RETRY_LIMIT as u32,
            delay_max_s: DEFAULT_RETRY_DELAY_MAX_S as u32,
        }
    }
}

impl RetryPolicy {
    pub fn validate(limit: Option<i64>, delay_max: Option<i64>) -> Result<RetryPolicy, Invalid> {
        Ok(RetryPolicy {
            limit: RETRY_LIMIT.check_as(limit.unwrap_or(DEFAULT_RETRY_LIMIT))?,
            delay_max_s: RETRY_DELAY_MAX
                .check_as(delay_max.unwrap_or(DEFAULT_RETRY_DELAY_MAX_S))?,
        })
    }
}

/// Where an RTMP output publishes: `rtmp[s]://host[:port]/app/streamkey`.
/// The last path segment (with any query) is the stream key, what comes
/// before it the application, as CDNs hand them out (a publishing point
/// and a stream name). The text is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RtmpUrl {
    text: String,
    tls: bool,
    host: String,
    port: u16,
    app: String,
    stream_key: String,
}

impl RtmpUrl {
    pub fn parse(field: &'static str, url: &str) -> Result<RtmpUrl, Invalid> {
        let url = url.trim();
        let form = "rtmp://host[:port]/app/streamkey or rtmps://...";
        let bad = |why: &str| Invalid::bad(field, format!("'{url}' {why} ({form})"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("is not a URL"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "rtmp" => false,
            "rtmps" => true,
            _ => return Err(bad("is not an RTMP URL")),
        };
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("has no path"))?;
        if authority.contains('@') {
            return Err(bad("carries credentials, which are not supported: \
                 put the CDN's token in the stream key"));
        }
        let (host, port) = host_port(authority).ok_or_else(|| bad("has a bad host or port"))?;
        let (app, stream_key) = path
            .rsplit_once('/')
            .filter(|(app, key)| !app.is_empty() && !key.is_empty())
            .ok_or_else(|| bad("needs both an app and a stream key"))?;
        if app.split('/').any(str::is_empty) || app.contains('?') {
            return Err(bad("has an empty or malformed app"));
        }
        if url.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("holds spaces or control characters"));
        }
        let default_port = if tls {
            RTMPS_DEFAULT_PORT
        } else {
            RTMP_DEFAULT_PORT
        };
        Ok(RtmpUrl {
            text: url.to_string(),
            tls,
            host: host.to_string(),
            port: port.unwrap_or(default_port),
            app: app.to_string(),
            stream_key: stream_key.to_string(),
        })
    }

    /// `rtmps`: the connection runs over TLS.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// Host name or address, without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn app(&self) -> &str {
        &self.app
    }

    pub fn stream_key(&self) -> &str {
        &self.stream_key
    }

    /// The URL of the application, as the `connect` command's tcUrl
    /// names it: everything but the stream key, with the port.
    pub fn tc_url(&self) -> String {
        let scheme = if self.tls { "rtmps" } else { "rtmp" };
        let host = bracketed(&self.host);
        format!("{scheme}://{host}:{}/{}", self.port, self.app)
    }

    /// The URL without its stream key, for logs and errors: a stream key
    /// is the CDN's secret.
    pub fn redacted(&self) -> String {
        self.tc_url()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Where an RTSP output serves: `rtsp://address[:port]/name`. The address
/// is one the box listens on (`0.0.0.0` or `::` for all); clients ask for
/// `rtsp://<the box>:port/name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RtspUrl {
    text: String,
    bind: IpAddr,
    port: u16,
    path: String,
}

impl RtspUrl {
    pub fn parse(field: &'static str, url: &str) -> Result<RtspUrl, Invalid> {
        let url = url.trim();
        let form = "rtsp://0.0.0.0:port/name";
        let bad = |why: &str| Invalid::bad(field, format!("'{url}' {why} ({form})"));
        let rest = url
            .split_once("://")
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("rtsp"))
            .map(|(_, rest)| rest)
            .ok_or_else(|| bad("is not an RTSP URL"))?;
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("has no name"))?;
        let (host, port) = host_port(authority).ok_or_else(|| bad("has a bad address or port"))?;
        let bind = host
            .parse::<IpAddr>()
            .map_err(|_| bad("must name an address of this box to listen on, not a host name"))?;
        let path = path.trim_end_matches('/');
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/".contains(c);
        if path.is_empty()
            || path.len() > RTSP_PATH_MAX
            || !path.chars().all(allowed)
            || path.split('/').any(str::is_empty)
        {
            return Err(bad(&format!(
                "needs a name of 1-{RTSP_PATH_MAX} characters: letters, digits, '-._~' \
                 and '/' between segments"
            )));
        }
        Ok(RtspUrl {
            text: url.to_string(),
            bind,
            port: port.unwrap_or(RTSP_DEFAULT_PORT),
            path: path.to_string(),
        })
    }

    /// The address listened on.
    pub fn bind(&self) -> IpAddr {
        self.bind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The name served, without the leading '/'.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `host[:port]` with IPv6 in brackets; `None` if malformed.
fn host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':')?)),
            }
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|n| *n > 0)?),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:_".contains(c));
    host_ok.then_some((host, port))
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

impl fmt::Display for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for RtspUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for RtmpUrl {
    type Error = Invalid;

    fn try_from(text: String) -> Result<RtmpUrl, Invalid> {
        RtmpUrl::parse("url", &text)
    }
}

impl From<RtmpUrl> for String {
    fn from(u: RtmpUrl) -> String {
        u.text
    }
}

impl TryFrom<String> for RtspUrl {
    type Error = Invalid;

    fn try_from(text: String) -> Result<RtspUrl, Invalid> {
        RtspUrl::parse("url", &text)
    }
}

impl From<RtspUrl> for String {
    fn from(u: RtspUrl) -> String {
        u.text
    }
}

#[cfg(test)]
mod tests;
