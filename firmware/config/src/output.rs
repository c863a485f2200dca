//! Outputs: where a stream's transport stream goes.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Scheme};
use crate::feed::{RetryPolicy, RtmpUrl, RtspUrl};
use crate::input::interface;
use crate::invalid::{required, Invalid};
use crate::range::Limits;
use crate::srt::{SrtConfig, SrtRequest};
use crate::text::{
    DESCRIPTION, NAME, SAP_ADDRESS, SAP_AUTHOR, SAP_KEYWORDS, SAP_SESSION_DESCRIPTION,
    SAP_SESSION_NAME, URL,
};

pub const MTU: Limits = Limits::new("mtu", 228, 1500);
pub const TTL: Limits = Limits::new("ttl", 1, 255);
pub const TOS: Limits = Limits::new("tos", 0, 255);
pub const SAP_PORT: Limits = Limits::new("port", 1, 65535);
pub const DEFAULT_MTU: i64 = 1490;
pub const DEFAULT_TTL: i64 = 64;
pub const DEFAULT_TOS: i64 = 184;
/// The well-known SAP announcement group and port (RFC 2974).
pub const DEFAULT_SAP_ADDRESS: &str = "224.2.127.254";
pub const DEFAULT_SAP_PORT: i64 = 9875;

/// The Kraken `streamType` of an output; empty means plain UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputType {
    Udp,
    Srt,
    /// Pushed to an RTMP server (a CDN's ingest).
    Rtmp,
    /// Served to RTSP clients (a VMS pulls it).
    Rtsp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub stream_type: Option<OutputType>,
    pub interface: Option<String>,
    pub mtu: Option<i64>,
    pub ttl: Option<i64>,
    pub tos: Option<i64>,
    pub sap: Option<SapRequest>,
    pub srt: SrtRequest,
    pub enabled: Option<bool>,
    pub retry_limit: Option<i64>,
    pub retry_delay_max: Option<i64>,
}

/// Session Announcement Protocol settings as requested.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SapRequest {
    pub transmit: Option<bool>,
    pub address: Option<String>,
    pub port: Option<i64>,
    pub session_name: Option<String>,
    pub session_description: Option<String>,
    pub keywords: Option<String>,
    pub author: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SapConfig {
    pub transmit: bool,
    pub address: String,
    pub port: u16,
    pub session_name: Option<String>,
    pub session_description: Option<String>,
    pub keywords: Option<String>,
    pub author: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputConfig {
    pub name: String,
    pub description: Option<String>,
    pub interface: Option<String>,
    pub mtu: u16,
    pub ttl: u8,
    pub tos: u8,
    pub sap: Option<SapConfig>,
    pub kind: OutputKind,
    /// A disabled output is kept in its streams but sends nothing.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// How an RTMP push retries after its connection fails; the
    /// defaults for other kinds, which do not use it.
    #[serde(default)]
    pub retry: RetryPolicy,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OutputKind {
    Udp {
        url: Endpoint,
    },
    Srt {
        url: Option<Endpoint>,
        srt: SrtConfig,
    },
    Rtmp {
        url: RtmpUrl,
    },
    Rtsp {
        url: RtspUrl,
    },
}

impl OutputKind {
    pub fn output_type(&self) -> OutputType {
        match self {
            OutputKind::Udp { .. } => OutputType::Udp,
            OutputKind::Srt { .. } => OutputType::Srt,
            OutputKind::Rtmp { .. } => OutputType::Rtmp,
            OutputKind::Rtsp { .. } => OutputType::Rtsp,
        }
    }

    /// The URL as the client wrote it.
    pub fn url(&self) -> Option<&str> {
        match self {
            OutputKind::Udp { url } => Some(url.as_str()),
            OutputKind::Srt { url, .. } => url.as_ref().map(Endpoint::as_str),
            OutputKind::Rtmp { url } => Some(url.as_str()),
            OutputKind::Rtsp { url } => Some(url.as_str()),
        }
    }
}

impl OutputRequest {
    pub fn validate(self) -> Result<OutputConfig, Invalid> {
        let output_type = self.stream_type.unwrap_or(OutputType::Udp);
        self.refuse_what_does_not_apply(output_type)?;
        let url = URL.check(self.url)?;
        let kind = match output_type {
            OutputType::Udp => {
                let url = required(url, "url")?;
                OutputKind::Udp {
                    url: Endpoint::parse("url", &url, &[Scheme::Udp], true)?,
                }
            }
            OutputType::Srt => OutputKind::Srt {
                url: url
                    .map(|u| Endpoint::parse("url", &u, &[Scheme::Srt], true))
                    .transpose()?,
                srt: self.srt.validate_output()?,
            },
            OutputType::Rtmp => OutputKind::Rtmp {
                url: RtmpUrl::parse("url", &required(url, "url")?)?,
            },
            OutputType::Rtsp => OutputKind::Rtsp {
                url: RtspUrl::parse("url", &required(url, "url")?)?,
            },
        };
        let name = NAME
            .check(self.name)?
            .or_else(|| kind.url().map(|u| NAME.truncate(u.to_string())))
            .unwrap_or_else(|| "SRT output".to_string());
        Ok(OutputConfig {
            name,
            description: DESCRIPTION.check(self.description)?,
            interface: interface(self.interface)?,
            mtu: MTU.check_as(self.mtu.unwrap_or(DEFAULT_MTU))?,
            ttl: TTL.check_as(self.ttl.unwrap_or(DEFAULT_TTL))?,
            tos: TOS.check_as(self.tos.unwrap_or(DEFAULT_TOS))?,
            sap: self.sap.map(SapRequest::validate).transpose()?,
            kind,
            enabled: self.enabled.unwrap_or(true),
            retry: RetryPolicy::validate(self.retry_limit, self.retry_delay_max)?,
        })
    }

    /// Settings of other kinds, given for this one, are refused rather
    /// than ignored: a setting that is accepted takes effect.
    fn refuse_what_does_not_apply(&self, output_type: OutputType) -> Result<(), Invalid> {
        let kind = match output_type {
            OutputType::Udp => "UDP",
            OutputType::Srt => "SRT",
            OutputType::Rtmp => "RTMP",
            OutputType::Rtsp => "RTSP",
        };
        let not_for = |field: &'static str, why: &str| Invalid::NotAllowed {
            field,
            reason: format!("for {kind} outputs ({why})"),
        };
        let feeds = matches!(output_type, OutputType::Rtmp | OutputType::Rtsp);
        if feeds && self.srt.mode.is_some() {
            return Err(not_for("srtMode", "SRT settings belong to SRT outputs"));
        }
        if feeds && self.sap.as_ref().is_some_and(|s| s.transmit == Some(true)) {
            return Err(not_for("transmitSap", "SAP announces UDP streams"));
        }
        if feeds && self.interface.is_some() {
            return Err(not_for(
                "interface",
                "the URL's address chooses where it listens or the routing table where it connects",
            ));
        }
        if output_type == OutputType::Rtmp && self.mtu.is_some() {
            return Err(not_for("mtu", "TCP sizes its own segments"));
        }
        if output_type != OutputType::Rtmp
            && (self.retry_limit.is_some() || self.retry_delay_max.is_some())
        {
            let field = match self.retry_limit {
                Some(_) => "retryLimit",
                None => "retryDelayMax",
            };
            return Err(not_for(
                field,
                "a retry policy is an RTMP push's; SRT callers reconnect on their own",
            ));
        }
        Ok(())
    }
}

impl SapRequest {
    fn validate(self) -> Result<SapConfig, Invalid> {
        let address = SAP_ADDRESS
            .check(self.address)?
            .unwrap_or_else(|| DEFAULT_SAP_ADDRESS.to_string());
        if address.parse::<IpAddr>().is_err() {
            return Err(Invalid::bad(
                "address",
                format!("'{address}' is not an IP address"),
            ));
        }
        Ok(SapConfig {
            transmit: self.transmit.unwrap_or(false),
            address,
            port: SAP_PORT.check_as(self.port.unwrap_or(DEFAULT_SAP_PORT))?,
            session_name: SAP_SESSION_NAME.check(self.session_name)?,
            session_description: SAP_SESSION_DESCRIPTION.check(self.session_description)?,
            keywords: SAP_KEYWORDS.check(self.keywords)?,
            author: SAP_AUTHOR.check(self.author)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp() -> OutputRequest {
        OutputRequest {
            name: Some("Out 1".into()),
            url: Some("udp://239.202.1.3:4900".into()),
            ..OutputRequest::default()
        }
    }

    #[test]
    fn defaults() {
        let c = udp().validate().unwrap();
        assert_eq!((c.mtu, c.ttl, c.tos), (1490, 64, 184));
        assert_eq!(c.kind.output_type(), OutputType::Udp);
        assert!(c.sap.is_none());
    }

    #[test]
    fn documented_ranges() {
        for (mtu, ok) in [(227, false), (228, true), (1500, true), (1501, false)] {
            let r = OutputRequest {
                mtu: Some(mtu),
                ..udp()
            };
            assert_eq!(r.validate().is_ok(), ok, "mtu {mtu}");
        }
        for (ttl, ok) in [(0, false), (1, true), (255, true), (256, false)] {
            let r = OutputRequest {
                ttl: Some(ttl),
                ..udp()
            };
            assert_eq!(r.validate().is_ok(), ok, "ttl {ttl}");
        }
        for (tos, ok) in [(-1, false), (0, true), (255, true), (256, false)] {
            let r = OutputRequest {
                tos: Some(tos),
                ..udp()
            };
            assert_eq!(r.validate().is_ok(), ok, "tos {tos}");
        }
        let e = OutputRequest {
            mtu: Some(100),
            ..udp()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.to_string(), "mtu 100 is out of range (228-1500)");
    }

    #[test]
    fn udp_needs_udp_url() {
        let r = OutputRequest { url: None, ..udp() };
        assert_eq!(r.validate().unwrap_err().field(), "url");
        let r = OutputRequest {
            url: Some("srt://1.2.3.4:5000".into()),
            ..udp()
        };
        assert_eq!(r.validate().unwrap_err().field(), "url");
    }

    #[test]
    fn sap_defaults_and_address_check() {
        let r = OutputRequest {
            sap: Some(SapRequest {
                transmit: Some(true),
                ..SapRequest::default()
            }),
            ..udp()
        };
        let sap = r.validate().unwrap().sap.unwrap();
        assert_eq!((sap.address.as_str(), sap.port), ("224.2.127.254", 9875));
        let r = OutputRequest {
            sap: Some(SapRequest {
                address: Some("nowhere".into()),
                ..SapRequest::default()
            }),
            ..udp()
        };
        assert_eq!(r.validate().unwrap_err().field(), "address");
    }

    /// Issue 8: every text field has a longest value, SAP's included.
    #[test]
    fn text_fields_are_bounded() {
        let long = |n: usize| Some("x".repeat(n));
        let sap = |s: SapRequest| OutputRequest {
            sap: Some(s),
            ..udp()
        };
        let cases = [
            (
                "name",
                128,
                OutputRequest {
                    name: long(129),
                    ..udp()
                },
            ),
            (
                "description",
                512,
                OutputRequest {
                    description: long(513),
                    ..udp()
                },
            ),
            (
                "interface",
                15,
                OutputRequest {
                    interface: long(16),
                    ..udp()
                },
            ),
            (
                "url",
                1024,
                OutputRequest {
                    url: Some(format!("udp://{}:5", "h".repeat(1017))),
                    ..udp()
                },
            ),
            (
                "address",
                45,
                sap(SapRequest {
                    address: long(46),
                    ..SapRequest::default()
                }),
            ),
            (
                "sessionName",
                128,
                sap(SapRequest {
                    session_name: long(129),
                    ..SapRequest::default()
                }),
            ),
            (
                "sessionDescription",
                256,
                sap(SapRequest {
                    session_description: long(257),
                    ..SapRequest::default()
                }),
            ),
            (
                "keywords",
                128,
                sap(SapRequest {
                    keywords: long(129),
                    ..SapRequest::default()
                }),
            ),
            (
                "author",
                128,
                sap(SapRequest {
                    author: long(129),
                    ..SapRequest::default()
                }),
            ),
        ];
        crate::invalid::assert_each_too_long(
            cases
                .into_iter()
                .map(|(field, max, r)| (field, max, r.validate())),
        );
        let at_max = sap(SapRequest {
            session_name: long(128),
            session_description: long(256),
            keywords: long(128),
            author: long(128),
            ..SapRequest::default()
        });
        assert!(at_max.validate().is_ok());
    }
}
