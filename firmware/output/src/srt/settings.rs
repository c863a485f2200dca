//! An SRT output's settings, resolved from its configuration: which side
//! of the connection it takes, where the peer is, and the link's
//! latency, encryption and stream id.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use makara_config::{OutputConfig, OutputKind, SrtConfig, SrtEncryption, SrtMode};

use crate::datagram::TS_PACKET_LEN;
use crate::udp::OutputError;

/// Which side of the connection the output takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrtRole {
    /// Connects to a listener at `host:port`; `host` may be a name, looked
    /// up before every attempt.
    Caller { host: String, port: u16 },
    /// Waits for callers on `bind:port`; several may be connected at once.
    Listener { bind: IpAddr, port: u16 },
    /// Meets a peer doing the same from `host:port`, sending from
    /// `local_port`.
    Rendezvous {
        host: String,
        port: u16,
        local_port: u16,
    },
}

/// An SRT output as the sender runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtOutputSettings {
    /// The output's name, as reports and errors say it.
    pub name: String,
    pub role: SrtRole,
    pub latency_ms: u32,
    pub passphrase: Option<String>,
    /// The AES key length the passphrase derives; `None` without one.
    pub encryption: SrtEncryption,
    pub stream_id: Option<String>,
    /// The output's `ttl` and `tos`, on every datagram of the link.
    pub ttl: u8,
    pub tos: u8,
    /// TS packets per message: what fits the output's `mtu` (see
    /// [`packets_per_message`]).
    pub packets_per_message: usize,
}

/// IPv4 (20), UDP (8) and SRT (16) headers around a message's payload.
const SRT_DATAGRAM_OVERHEAD: usize = 44;

/// How many TS packets one SRT message carries on a link with this MTU:
/// as many as fit beside the headers, at most the 7 of SRT's usual 1316-byte
/// payload (what receivers expect), and never fewer than one, so a tiny
/// MTU fragments rather than sends nothing (as UDP outputs do).
/// 7 from MTU 1360 up, 1 below 420.
pub fn packets_per_message(mtu: u16) -> usize {
    let room = usize::from(mtu).saturating_sub(SRT_DATAGRAM_OVERHEAD);
    (room / TS_PACKET_LEN).clamp(1, super::PACKETS_PER_MESSAGE)
}

impl SrtOutputSettings {
    /// The output's SRT settings; names are looked up later, by the
    /// thread that connects, so that a name that does not resolve yet is
    /// a reason to wait, not a failed start.
    pub fn from_output(output: &OutputConfig) -> Result<SrtOutputSettings, OutputError> {
        let OutputKind::Srt { srt, .. } = &output.kind else {
            return Err(OutputError::NotSrt(output.name.clone()));
        };
        if let Some(interface) = &output.interface {
            return Err(OutputError::SrtInterface {
                output: output.name.clone(),
                interface: interface.clone(),
            });
        }
        let missing = |field: &'static str| OutputError::SrtSetting {
            output: output.name.clone(),
            field,
        };
        let role = match srt.mode {
            SrtMode::Caller => SrtRole::Caller {
                host: srt.address.clone().ok_or_else(|| missing("srtAddress"))?,
                port: srt.remote_port.ok_or_else(|| missing("srtRemotePort"))?,
            },
            SrtMode::Listener => SrtRole::Listener {
                bind: listen_address(output, srt)?,
                port: srt.local_port.ok_or_else(|| missing("srtLocalPort"))?,
            },
            SrtMode::Rendezvous => {
                let port = srt.remote_port.ok_or_else(|| missing("srtRemotePort"))?;
                SrtRole::Rendezvous {
                    host: srt.address.clone().ok_or_else(|| missing("srtAddress"))?,
                    port,
                    local_port: srt.local_port.unwrap_or(port),
                }
            }
        };
        Ok(SrtOutputSettings {
            name: output.name.clone(),
            role,
            latency_ms: srt.latency_ms,
            passphrase: srt.passphrase.clone(),
            encryption: srt.encryption,
            stream_id: srt.stream_id.clone(),
            ttl: output.ttl,
            tos: output.tos,
            packets_per_message: packets_per_message(output.mtu),
        })
    }

    /// Where the output sends, as a receiver's operator writes it:
    /// `srt://host:9000 (caller)`, `srt://:9000 (listener)`.
    pub fn endpoint(&self) -> Endpoint<'_> {
        Endpoint(&self.role)
    }
}

/// A listener waits on every IPv4 address unless `srtAddress` names one
/// of this box's addresses.
fn listen_address(output: &OutputConfig, srt: &SrtConfig) -> Result<IpAddr, OutputError> {
    match &srt.address {
        None => Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        Some(text) => text.parse().map_err(|_| OutputError::SrtListenAddress {
            output: output.name.clone(),
            address: text.clone(),
        }),
    }
}

/// [`SrtOutputSettings::endpoint`], for messages.
#[derive(Debug)]
pub struct Endpoint<'a>(&'a SrtRole);

impl fmt::Display for Endpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SrtRole::Caller { host, port } => write!(f, "srt://{}:{port} (caller)", Host(host)),
            SrtRole::Listener { bind, port } if bind.is_unspecified() => {
                write!(f, "srt://:{port} (listener)")
            }
            SrtRole::Listener { bind, port } => {
                write!(f, "srt://{}:{port} (listener)", Host(&bind.to_string()))
            }
            SrtRole::Rendezvous {
                host,
                port,
                local_port,
            } => write!(
                f,
                "srt://{}:{port} (rendezvous from port {local_port})",
                Host(host)
            ),
        }
    }
}

/// A host as a URL writes it: an IPv6 address in brackets.
struct Host<'a>(&'a str);

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn messages_carry_what_the_mtu_leaves_room_for() {
        for (mtu, packets) in [
            (1500, 7),
            (1490, 7),
            (1360, 7),
            (1359, 6),
            (420, 2),
            (419, 1),
            (228, 1),
        ] {
            assert_eq!(packets_per_message(mtu), packets, "mtu {mtu}");
        }
    }

    use makara_config::{OutputRequest, OutputType, SrtRequest};

    use super::*;

    fn output(srt: SrtRequest) -> OutputConfig {
        OutputRequest {
            name: Some("contribution".into()),
            stream_type: Some(OutputType::Srt),
            srt,
            ..OutputRequest::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn a_caller_with_encryption() {
        let s = SrtOutputSettings::from_output(&output(SrtRequest {
            mode: Some(SrtMode::Caller),
            address: Some("receiver.example".into()),
            remote_port: Some(9000),
            passphrase: Some("0123456789abc".into()),
            encryption: Some(SrtEncryption::Aes256),
            latency_ms: Some(400),
            ..SrtRequest::default()
        }))
        .unwrap();
        assert_eq!(
            s.role,
            SrtRole::Caller {
                host: "receiver.example".into(),
                port: 9000
            }
        );
        assert_eq!((s.latency_ms, s.encryption), (400, SrtEncryption::Aes256));
        assert_eq!(s.passphrase.as_deref(), Some("0123456789abc"));
        assert_eq!(
            s.endpoint().to_string(),
            "srt://receiver.example:9000 (caller)"
        );
    }

    #[test]
    fn a_listener_on_every_address_or_one() {
        let s = SrtOutputSettings::from_output(&output(SrtRequest {
            mode: Some(SrtMode::Listener),
            local_port: Some(9000),
            ..SrtRequest::default()
        }))
        .unwrap();
        assert_eq!(s.endpoint().to_string(), "srt://:9000 (listener)");
        let s = SrtOutputSettings::from_output(&output(SrtRequest {
            mode: Some(SrtMode::Listener),
            address: Some("::1".into()),
            local_port: Some(9000),
            ..SrtRequest::default()
        }))
        .unwrap();
        assert_eq!(s.endpoint().to_string(), "srt://[::1]:9000 (listener)");
    }

    #[test]
    fn a_listener_address_must_be_an_address() {
        let e = SrtOutputSettings::from_output(&output(SrtRequest {
            mode: Some(SrtMode::Listener),
            address: Some("box.example".into()),
            local_port: Some(9000),
            ..SrtRequest::default()
        }))
        .unwrap_err();
        assert!(e.to_string().contains("box.example"), "{e}");
    }

    #[test]
    fn a_rendezvous_sends_from_its_local_port() {
        let s = SrtOutputSettings::from_output(&output(SrtRequest {
            mode: Some(SrtMode::Rendezvous),
            address: Some("127.0.0.1".into()),
            remote_port: Some(9000),
            local_port: Some(9001),
            ..SrtRequest::default()
        }))
        .unwrap();
        assert_eq!(
            s.endpoint().to_string(),
            "srt://127.0.0.1:9000 (rendezvous from port 9001)"
        );
    }

    #[test]
    fn an_interface_is_refused_with_its_reason() {
        let mut out = output(SrtRequest {
            mode: Some(SrtMode::Caller),
            address: Some("127.0.0.1".into()),
            remote_port: Some(9000),
            ..SrtRequest::default()
        });
        out.interface = Some("eth1".into());
        let e = SrtOutputSettings::from_output(&out).unwrap_err();
        assert!(e.to_string().contains("eth1"), "{e}");
    }
}
