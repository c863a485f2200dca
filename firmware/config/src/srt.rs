//! SRT connection settings shared by SRT inputs and outputs.

use serde::{Deserialize, Serialize};

use crate::invalid::{required, Invalid};
use crate::range::Limits;
use crate::text::{SRT_ADDRESS, SRT_STREAM_ID};

pub const SRT_LATENCY_MS: Limits = Limits::new("srtLatency", 20, 8000);
/// Haivision's default receive latency.
pub const DEFAULT_SRT_LATENCY_MS: i64 = 125;
const SRT_PASSPHRASE_CHARS: (usize, usize) = (10, 79);
const SRT_REMOTE_PORT: Limits = Limits::new("srtRemotePort", 1, 65535);
const SRT_LOCAL_PORT: Limits = Limits::new("srtLocalPort", 1, 65535);
/// libsrt refuses a longer stream id (`SRTO_STREAMID` counts bytes).
pub const SRT_STREAM_ID_BYTES: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SrtMode {
    Caller,
    Listener,
    Rendezvous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SrtEncryption {
    #[default]
    None,
    Aes128,
    Aes256,
}

/// SRT settings as requested.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SrtRequest {
    pub mode: Option<SrtMode>,
    pub address: Option<String>,
    pub remote_port: Option<i64>,
    pub local_port: Option<i64>,
    pub passphrase: Option<String>,
    pub latency_ms: Option<i64>,
    pub encryption: Option<SrtEncryption>,
    pub stream_id: Option<String>,
}

/// Validated SRT settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrtConfig {
    pub mode: SrtMode,
    pub address: Option<String>,
    pub remote_port: Option<u16>,
    pub local_port: Option<u16>,
    pub passphrase: Option<String>,
    pub latency_ms: u32,
    pub encryption: SrtEncryption,
    /// SRT access control's stream id (`SRTO_STREAMID`): a caller sends it
    /// in its handshake; a listener accepts only callers that send it.
    /// Documents saved before the field existed load without one.
    #[serde(default)]
    pub stream_id: Option<String>,
}

impl SrtRequest {
    /// Rules for a receiving SRT socket. The key length is announced by the
    /// sender, so an input takes a passphrase without `srtEncryption`.
    pub fn validate_input(self) -> Result<SrtConfig, Invalid> {
        self.validate(false)
    }

    /// Rules for a sending SRT socket: a passphrase and an AES key length go
    /// together.
    pub fn validate_output(self) -> Result<SrtConfig, Invalid> {
        self.validate(true)
    }

    fn validate(self, sending: bool) -> Result<SrtConfig, Invalid> {
        let mode = required(self.mode, "srtMode")?;
        let address = SRT_ADDRESS.check(self.address)?;
        let remote_port = self
            .remote_port
            .map(|p| SRT_REMOTE_PORT.check_as(p))
            .transpose()?;
        let mut local_port = self
            .local_port
            .map(|p| SRT_LOCAL_PORT.check_as(p))
            .transpose()?;
        match mode {
            SrtMode::Caller | SrtMode::Rendezvous => {
                required(address.as_ref(), "srtAddress")?;
                required(remote_port, "srtRemotePort")?;
            }
            SrtMode::Listener => {
                required(local_port, "srtLocalPort")?;
            }
        }
        if mode == SrtMode::Rendezvous && local_port.is_none() {
            // Both peers of a rendezvous normally use the same port.
            local_port = remote_port;
        }
        let passphrase = self.passphrase.filter(|p| !p.is_empty());
        if let Some(p) = &passphrase {
            let len = p.chars().count();
            let (min, max) = SRT_PASSPHRASE_CHARS;
            if !(min..=max).contains(&len) {
                return Err(Invalid::Length {
                    field: "srtPassphrase",
                    len,
                    min,
                    max,
                });
            }
            // The contract counts characters; libsrt's key derivation
            // takes at most 79 bytes, which fewer characters may fill.
            if p.len() > max {
                return Err(Invalid::bad(
                    "srtPassphrase",
                    format!("{} bytes in UTF-8; SRT takes at most {max}", p.len()),
                ));
            }
        }
        let encryption = self.encryption.unwrap_or_default();
        if sending {
            check_encryption_pairing(encryption, passphrase.is_some())?;
        } else if encryption != SrtEncryption::None {
            // A receiver takes the key length its sender announces; a
            // setting here would be accepted and have no effect.
            return Err(Invalid::NotAllowed {
                field: "srtEncryption",
                reason: "on an input: the sender chooses the key length, and an input with srtPassphrase decrypts either".into(),
            });
        }
        let latency_ms = SRT_LATENCY_MS.or_default(self.latency_ms, DEFAULT_SRT_LATENCY_MS)? as u32;
        let stream_id = check_stream_id(mode, self.stream_id)?;
        Ok(SrtConfig {
            mode,
            address,
            remote_port,
            local_port,
            passphrase,
            latency_ms,
            encryption,
            stream_id,
        })
    }
}

/// At most 512 characters (SRT's access control guidelines) and 512 bytes
/// (what libsrt takes). A rendezvous handshake carries no stream id, so
/// one given there would be ignored: it is refused instead.
fn check_stream_id(mode: SrtMode, value: Option<String>) -> Result<Option<String>, Invalid> {
    let Some(id) = SRT_STREAM_ID.check(value)? else {
        return Ok(None);
    };
    if id.len() > SRT_STREAM_ID_BYTES {
        return Err(Invalid::bad(
            SRT_STREAM_ID.field,
            format!(
                "{} bytes in UTF-8; SRT carries at most {SRT_STREAM_ID_BYTES}",
                id.len()
            ),
        ));
    }
    if mode == SrtMode::Rendezvous {
        return Err(Invalid::NotAllowed {
            field: SRT_STREAM_ID.field,
            reason: "in rendezvous mode: SRT sends a stream id only from a caller to a listener"
                .into(),
        });
    }
    Ok(Some(id))
}

fn check_encryption_pairing(
    encryption: SrtEncryption,
    has_passphrase: bool,
) -> Result<(), Invalid> {
    match (encryption, has_passphrase) {
        (SrtEncryption::None, true) => Err(Invalid::NotAllowed {
            field: "srtPassphrase",
            reason: "without srtEncryption aes128 or aes256".into(),
        }),
        (SrtEncryption::Aes128 | SrtEncryption::Aes256, false) => Err(Invalid::Missing {
            field: "srtPassphrase",
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> SrtRequest {
        SrtRequest {
            mode: Some(SrtMode::Caller),
            address: Some("10.65.11.111".into()),
            remote_port: Some(9000),
            ..SrtRequest::default()
        }
    }

    #[test]
    fn caller_defaults() {
        let c = caller().validate_output().unwrap();
        assert_eq!(c.latency_ms, 125);
        assert_eq!(c.encryption, SrtEncryption::None);
        assert_eq!(c.remote_port, Some(9000));
    }

    #[test]
    fn caller_needs_address_and_port() {
        let r = SrtRequest {
            address: None,
            ..caller()
        };
        assert_eq!(r.validate_input().unwrap_err().field(), "srtAddress");
        let r = SrtRequest {
            remote_port: None,
            ..caller()
        };
        assert_eq!(r.validate_input().unwrap_err().field(), "srtRemotePort");
    }

    #[test]
    fn listener_needs_local_port() {
        let r = SrtRequest {
            mode: Some(SrtMode::Listener),
            ..SrtRequest::default()
        };
        assert_eq!(r.validate_input().unwrap_err().field(), "srtLocalPort");
    }

    #[test]
    fn rendezvous_local_port_follows_remote() {
        let r = SrtRequest {
            mode: Some(SrtMode::Rendezvous),
            ..caller()
        };
        assert_eq!(r.validate_input().unwrap().local_port, Some(9000));
    }

    #[test]
    fn latency_range() {
        for bad in [19, 8001] {
            let r = SrtRequest {
                latency_ms: Some(bad),
                ..caller()
            };
            assert_eq!(
                r.validate_output().unwrap_err().to_string(),
                format!("srtLatency {bad} is out of range (20-8000)")
            );
        }
        let r = SrtRequest {
            latency_ms: Some(20),
            ..caller()
        };
        assert_eq!(r.validate_output().unwrap().latency_ms, 20);
    }

    #[test]
    fn passphrase_counts_characters_not_bytes() {
        let nine = "ééééééééé".to_string(); // 9 characters, 18 bytes
        let r = SrtRequest {
            passphrase: Some(nine),
            ..caller()
        };
        assert!(matches!(
            r.validate_input(),
            Err(Invalid::Length { len: 9, .. })
        ));
        let ten = "éééééééééé".to_string();
        let r = SrtRequest {
            passphrase: Some(ten),
            ..caller()
        };
        assert!(r.validate_input().is_ok());
        let wide = "é".repeat(40); // 40 characters, 80 bytes
        let r = SrtRequest {
            passphrase: Some(wide),
            ..caller()
        };
        assert_eq!(
            r.validate_input().unwrap_err().to_string(),
            "srtPassphrase: 80 bytes in UTF-8; SRT takes at most 79"
        );
        let long = "x".repeat(80);
        let r = SrtRequest {
            passphrase: Some(long),
            ..caller()
        };
        assert!(r.validate_input().is_err());
    }

    #[test]
    fn an_input_takes_the_senders_key_length() {
        let r = SrtRequest {
            passphrase: Some("0123456789".into()),
            encryption: Some(SrtEncryption::Aes256),
            ..caller()
        };
        assert_eq!(r.validate_input().unwrap_err().field(), "srtEncryption");
        let r = SrtRequest {
            encryption: Some(SrtEncryption::None),
            ..caller()
        };
        assert!(r.validate_input().is_ok());
    }

    #[test]
    fn output_encryption_and_passphrase_go_together() {
        let r = SrtRequest {
            passphrase: Some("0123456789".into()),
            ..caller()
        };
        assert!(r.clone().validate_input().is_ok());
        assert_eq!(r.validate_output().unwrap_err().field(), "srtPassphrase");
        let r = SrtRequest {
            encryption: Some(SrtEncryption::Aes256),
            ..caller()
        };
        assert_eq!(r.validate_output().unwrap_err().field(), "srtPassphrase");
    }

    #[test]
    fn addresses_are_at_most_a_dns_name_long() {
        let r = SrtRequest {
            address: Some("a".repeat(254)),
            ..caller()
        };
        assert_eq!(
            r.validate_input().unwrap_err().to_string(),
            "srtAddress is 254 characters long; at most 253 are allowed"
        );
        let r = SrtRequest {
            address: Some("a".repeat(253)),
            ..caller()
        };
        assert!(r.validate_input().is_ok());
    }

    #[test]
    fn stream_id_is_kept_trimmed_and_blank_is_none() {
        let r = SrtRequest {
            stream_id: Some(" #!::r=live/feed,m=publish ".into()),
            ..caller()
        };
        assert_eq!(
            r.validate_output().unwrap().stream_id.as_deref(),
            Some("#!::r=live/feed,m=publish")
        );
        let r = SrtRequest {
            stream_id: Some("  ".into()),
            ..caller()
        };
        assert_eq!(r.validate_input().unwrap().stream_id, None);
        assert_eq!(caller().validate_input().unwrap().stream_id, None);
    }

    #[test]
    fn stream_id_is_at_most_512_characters_and_bytes() {
        let r = SrtRequest {
            stream_id: Some("s".repeat(512)),
            ..caller()
        };
        assert_eq!(r.validate_output().unwrap().stream_id.unwrap().len(), 512);
        let r = SrtRequest {
            stream_id: Some("s".repeat(513)),
            ..caller()
        };
        assert_eq!(
            r.validate_output().unwrap_err().to_string(),
            "srtStreamId is 513 characters long; at most 512 are allowed"
        );
        // 300 characters, 600 bytes: within the characters, past libsrt.
        let r = SrtRequest {
            stream_id: Some("é".repeat(300)),
            ..caller()
        };
        assert_eq!(
            r.validate_input().unwrap_err().to_string(),
            "srtStreamId: 600 bytes in UTF-8; SRT carries at most 512"
        );
    }

    #[test]
    fn stream_id_is_for_callers_and_listeners_only() {
        let listener = SrtRequest {
            mode: Some(SrtMode::Listener),
            local_port: Some(9000),
            stream_id: Some("feed".into()),
            ..SrtRequest::default()
        };
        assert_eq!(
            listener.validate_input().unwrap().stream_id.as_deref(),
            Some("feed")
        );
        let r = SrtRequest {
            mode: Some(SrtMode::Rendezvous),
            stream_id: Some("feed".into()),
            ..caller()
        };
        let e = r.validate_output().unwrap_err();
        assert_eq!(e.field(), "srtStreamId");
        assert!(e.to_string().contains("rendezvous"), "{e}");
    }
}
