//! The session description (RFC 4566) of a UDP output, sans-IO.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

/// What an announcement says about one output of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session<'a> {
    /// The announcer's own address (`o=` and the SAP header).
    pub origin: IpAddr,
    /// `o=` sess-id and sess-version: NTP seconds when the run started.
    pub session_id: u64,
    pub version: u64,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub keywords: Option<&'a str>,
    pub author: Option<&'a str>,
    /// Where the transport stream goes.
    pub destination: SocketAddr,
    /// The scope of an IPv4 multicast group (`c=` .../ttl).
    pub ttl: u8,
    /// The transport stream's rate (`b=AS`, kbit/s).
    pub bitrate_kbps: u64,
}

/// RTP/AVP's static payload type for MPEG-2 TS (RFC 3551): receivers
/// (VLC among them) read a raw-UDP TS announcement as `udp 33` plus its
/// `rtpmap`, rather than RFC 4566's bare media subtype.
const MP2T_PAYLOAD_TYPE: u8 = 33;

impl Session<'_> {
    /// The SDP, CRLF-terminated lines, in RFC 4566's order.
    pub fn sdp(&self) -> String {
        let mut sdp = String::new();
        let mut line = |text: std::fmt::Arguments<'_>| {
            // Writing to a String cannot fail.
            let _ = write!(sdp, "{text}\r\n");
        };
        line(format_args!("v=0"));
        line(format_args!("{}", self.origin_line()));
        line(format_args!("s={}", field(self.name, " ")));
        if let Some(description) = self.description {
            line(format_args!("i={}", field(description, "")));
        }
        line(format_args!("c={}", self.connection()));
        line(format_args!("b=AS:{}", self.bitrate_kbps));
        line(format_args!("t=0 0"));
        line(format_args!("a=tool:Makara {}", env!("CARGO_PKG_VERSION")));
        line(format_args!("a=type:broadcast"));
        line(format_args!("a=recvonly"));
        line(format_args!("a=charset:UTF-8"));
        if let Some(keywords) = self.keywords {
            line(format_args!("a=keywds:{}", field(keywords, "")));
        }
        if let Some(author) = self.author {
            line(format_args!("a=author:{}", field(author, "")));
        }
        let port = self.destination.port();
        line(format_args!("m=video {port} udp {MP2T_PAYLOAD_TYPE}"));
        line(format_args!("a=rtpmap:{MP2T_PAYLOAD_TYPE} MP2T/90000"));
        sdp
    }

    /// The `o=` line, which is also the payload of a deletion.
    pub fn origin_line(&self) -> String {
        format!(
            "o=- {} {} IN {} {}",
            self.session_id,
            self.version,
            address_type(self.origin),
            self.origin
        )
    }

    fn connection(&self) -> String {
        let group = self.destination.ip();
        match group {
            IpAddr::V4(ip) if ip.is_multicast() => format!("IN IP4 {ip}/{}", self.ttl),
            other => format!("IN {} {other}", address_type(other)),
        }
    }
}

fn address_type(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

/// A configured text as one SDP value: no line breaks or NULs, which would
/// end or break the line; `empty` when nothing is left.
fn field(text: &str, empty: &'static str) -> String {
    let value: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string();
    if value.is_empty() {
        empty.to_string()
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session<'static> {
        Session {
            origin: "192.0.2.10".parse().unwrap(),
            session_id: 3_970_000_000,
            version: 3_970_000_000,
            name: "Camera 1",
            description: Some("Studio A\r\nwide"),
            keywords: Some("news, live"),
            author: None,
            destination: "239.202.1.3:4900".parse().unwrap(),
            ttl: 16,
            bitrate_kbps: 3_500,
        }
    }

    #[test]
    fn a_multicast_output() {
        let expected = format!(
            "v=0\r\n\
             o=- 3970000000 3970000000 IN IP4 192.0.2.10\r\n\
             s=Camera 1\r\n\
             i=Studio A  wide\r\n\
             c=IN IP4 239.202.1.3/16\r\n\
             b=AS:3500\r\n\
             t=0 0\r\n\
             a=tool:Makara {}\r\n\
             a=type:broadcast\r\n\
             a=recvonly\r\n\
             a=charset:UTF-8\r\n\
             a=keywds:news, live\r\n\
             m=video 4900 udp 33\r\n\
             a=rtpmap:33 MP2T/90000\r\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(session().sdp(), expected);
    }

    #[test]
    fn a_unicast_ipv6_output_has_no_ttl() {
        let s = Session {
            origin: "2001:db8::10".parse().unwrap(),
            destination: "[2001:db8::20]:5000".parse().unwrap(),
            description: None,
            keywords: None,
            author: Some("Ops"),
            ..session()
        };
        let sdp = s.sdp();
        assert!(sdp.contains("\r\no=- 3970000000 3970000000 IN IP6 2001:db8::10\r\n"));
        assert!(sdp.contains("\r\nc=IN IP6 2001:db8::20\r\n"), "{sdp}");
        assert!(sdp.contains("\r\na=author:Ops\r\nm=video 5000 udp 33\r\n"));
        assert!(!sdp.contains("i=") && !sdp.contains("keywds"), "{sdp}");
        let unicast = Session {
            destination: "127.0.0.1:5000".parse().unwrap(),
            ..session()
        };
        assert!(unicast.sdp().contains("\r\nc=IN IP4 127.0.0.1\r\n"));
    }

    #[test]
    fn an_empty_name_is_a_space() {
        let s = Session {
            name: "\n",
            ..session()
        };
        assert!(s.sdp().contains("\r\ns= \r\n"));
    }
}
