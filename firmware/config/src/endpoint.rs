//! Source and destination URLs (`udp://239.1.1.1:5000`, `rtsp://cam/live`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::invalid::Invalid;

/// URL schemes the appliance knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    Udp,
    Rtp,
    Srt,
    Rtsp,
    Http,
    Https,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Udp => "udp",
            Scheme::Rtp => "rtp",
            Scheme::Srt => "srt",
            Scheme::Rtsp => "rtsp",
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn from_name(name: &str) -> Option<Scheme> {
        [
            Scheme::Udp,
            Scheme::Rtp,
            Scheme::Srt,
            Scheme::Rtsp,
            Scheme::Http,
            Scheme::Https,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

/// A parsed URL. The original text is kept so that GET returns what the
/// client wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Endpoint {
    text: String,
    scheme: Scheme,
    host: String,
    port: Option<u16>,
}

impl Endpoint {
    /// Parses `url` for `field`, accepting only `allowed` schemes.
    /// A port is required when `needs_port`.
    pub fn parse(
        field: &'static str,
        url: &str,
        allowed: &[Scheme],
        needs_port: bool,
    ) -> Result<Endpoint, Invalid> {
        let url = url.trim();
        let expected = || {
            allowed
                .iter()
                .map(|s| format!("{}://", s.as_str()))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let (scheme_text, rest) = url
            .split_once("://")
            .ok_or_else(|| Invalid::bad(field, format!("'{url}' is not a URL ({})", expected())))?;
        let scheme = Scheme::from_name(scheme_text)
            .filter(|s| allowed.contains(s))
            .ok_or_else(|| {
                Invalid::bad(
                    field,
                    format!(
                        "scheme '{scheme_text}' is not allowed here ({})",
                        expected()
                    ),
                )
            })?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        // `udp://@239.1.1.1:5000` is the VLC spelling of a multicast listen.
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = split_host_port(field, authority)?;
        if host.is_empty() {
            return Err(Invalid::bad(field, format!("'{url}' has no host")));
        }
        if needs_port && port.is_none() {
            return Err(Invalid::bad(
                field,
                format!("'{url}' has no port (1-65535)"),
            ));
        }
        Ok(Endpoint {
            text: url.to_string(),
            scheme,
            host,
            port,
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Host name or address, without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn split_host_port(field: &'static str, authority: &str) -> Result<(String, Option<u16>), Invalid> {
    let (host, port_text) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| Invalid::bad(field, "unclosed '[' in IPv6 address"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port_text {
        None => None,
        Some(p) => {
            let n = u16::from_str(p)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Invalid::bad(field, format!("port '{p}' is not 1-65535")))?;
            Some(n)
        }
    };
    Ok((host.to_string(), port))
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for Endpoint {
    type Error = Invalid;

    /// Used when reading state back from disk: any scheme we know is fine.
    fn try_from(text: String) -> Result<Endpoint, Invalid> {
        let all = [
            Scheme::Udp,
            Scheme::Rtp,
            Scheme::Srt,
            Scheme::Rtsp,
            Scheme::Http,
            Scheme::Https,
        ];
        Endpoint::parse("url", &text, &all, false)
    }
}

impl From<Endpoint> for String {
    fn from(e: Endpoint) -> String {
        e.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDP: &[Scheme] = &[Scheme::Udp];

    #[test]
    fn udp_multicast() {
        let e = Endpoint::parse("url", "udp://239.100.100.100:5000", UDP, true).unwrap();
        assert_eq!(e.host(), "239.100.100.100");
        assert_eq!(e.port(), Some(5000));
        assert_eq!(e.as_str(), "udp://239.100.100.100:5000");
    }

    #[test]
    fn vlc_at_sign_and_ipv6() {
        let e = Endpoint::parse("url", "udp://@239.1.1.1:1234", UDP, true).unwrap();
        assert_eq!(e.host(), "239.1.1.1");
        let e = Endpoint::parse("url", "udp://[ff15::1]:5000", UDP, true).unwrap();
        assert_eq!(e.host(), "ff15::1");
    }

    #[test]
    fn rtsp_with_credentials_and_path() {
        let e =
            Endpoint::parse("url", "rtsp://u:p@cam.local/live", &[Scheme::Rtsp], false).unwrap();
        assert_eq!(e.host(), "cam.local");
        assert_eq!(e.port(), None);
    }

    #[test]
    fn wrong_scheme_names_allowed_ones() {
        let e = Endpoint::parse("url", "rtsp://x/y", UDP, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "url: scheme 'rtsp' is not allowed here (udp://)"
        );
    }

    #[test]
    fn bad_ports_and_missing_parts() {
        assert!(Endpoint::parse("url", "udp://1.2.3.4:0", UDP, true).is_err());
        assert!(Endpoint::parse("url", "udp://1.2.3.4:70000", UDP, true).is_err());
        assert!(Endpoint::parse("url", "udp://1.2.3.4", UDP, true).is_err());
        assert!(Endpoint::parse("url", "udp://:5000", UDP, true).is_err());
        assert!(Endpoint::parse("url", "239.1.1.1:5000", UDP, true).is_err());
    }
}
