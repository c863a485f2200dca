//! What a user sets on an SRT link, checked, and how it becomes libsrt
//! socket options.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::error::SrtError;
use crate::ffi::{FfiError, IntOption, Socket, TextOption, MAX_STREAM_ID};

/// The payload of one SRT message: seven 188-byte TS packets, libsrt's
/// live-mode default (`SRT_LIVE_DEF_PLSIZE`).
pub const PAYLOAD_SIZE: usize = 1316;

/// libsrt's default latency in live mode (`SRT_LIVE_DEF_LATENCY_MS`).
pub const DEFAULT_LATENCY_MS: u32 = 120;

/// The passphrase lengths libsrt accepts, in bytes.
pub const PASSPHRASE_LENGTH: RangeInclusive<usize> = 10..=79;

/// The longest stream id libsrt carries, in bytes.
pub const MAX_STREAM_ID_LENGTH: usize = MAX_STREAM_ID;

/// The AES key length of an encrypted link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyLength {
    /// Advertise none: take the peer's (a receiver takes the sender's);
    /// AES-128 if neither side sets one.
    #[default]
    Auto,
    Aes128,
    Aes256,
}

impl KeyLength {
    /// `SRTO_PBKEYLEN`: 0, 16 or 32 bytes.
    fn option_value(self) -> i32 {
        match self {
            KeyLength::Auto => 0,
            KeyLength::Aes128 => 16,
            KeyLength::Aes256 => 32,
        }
    }
}

/// One link's settings. The same for caller, listener and rendezvous,
/// except `stream_id` (see there).
#[derive(Clone, PartialEq, Eq)]
pub struct SrtSettings {
    /// The receive buffer's delay, in ms, proposed for both directions;
    /// the link uses the larger of the two peers' values.
    pub latency_ms: u32,
    /// Encrypts the link when set (10 to 79 bytes). Both sides must have
    /// the same one, or both none.
    pub passphrase: Option<String>,
    /// Used only with a passphrase.
    pub key_length: KeyLength,
    /// A caller sends it to the listener; a listener with one accepts only
    /// callers sending exactly it (without one, any caller). A rendezvous
    /// has no listener to check it, so it refuses one.
    pub stream_id: Option<String>,
    /// IP time-to-live of the link's datagrams; the system's default
    /// when `None`.
    pub ip_ttl: Option<u8>,
    /// IP type-of-service byte (DSCP and ECN) of the link's datagrams;
    /// the system's default when `None`.
    pub ip_tos: Option<u8>,
}

impl Default for SrtSettings {
    fn default() -> SrtSettings {
        SrtSettings {
            latency_ms: DEFAULT_LATENCY_MS,
            passphrase: None,
            key_length: KeyLength::Auto,
            stream_id: None,
            ip_ttl: None,
            ip_tos: None,
        }
    }
}

impl fmt::Debug for SrtSettings {
    // The passphrase is a secret: logs show only whether there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtSettings")
            .field("latency_ms", &self.latency_ms)
            .field("passphrase", &self.passphrase.as_ref().map(|_| "<set>"))
            .field("key_length", &self.key_length)
            .field("stream_id", &self.stream_id)
            .field("ip_ttl", &self.ip_ttl)
            .field("ip_tos", &self.ip_tos)
            .finish()
    }
}

/// Which end of a link a socket is: what [`SrtSettings::check`] checks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtMode {
    Caller,
    Listener,
    Rendezvous,
}

impl SrtSettings {
    /// Checks the settings for `mode`, naming the setting and its range.
    pub fn check(&self, mode: SrtMode) -> Result<(), SrtError> {
        if i32::try_from(self.latency_ms).is_err() {
            return Err(SrtError::Setting(format!(
                "latency {} ms is too large (at most {} ms)",
                self.latency_ms,
                i32::MAX
            )));
        }
        if let Some(passphrase) = &self.passphrase {
            if !PASSPHRASE_LENGTH.contains(&passphrase.len()) {
                return Err(SrtError::Setting(format!(
                    "the passphrase has {} bytes; SRT needs {} to {}",
                    passphrase.len(),
                    PASSPHRASE_LENGTH.start(),
                    PASSPHRASE_LENGTH.end()
                )));
            }
        }
        if let Some(stream_id) = &self.stream_id {
            if mode == SrtMode::Rendezvous {
                return Err(SrtError::Setting(
                    "a stream id needs a caller and a listener; a rendezvous has no listener to check it"
                        .into(),
                ));
            }
            if stream_id.is_empty() || stream_id.len() > MAX_STREAM_ID_LENGTH {
                return Err(SrtError::Setting(format!(
                    "the stream id has {} bytes; SRT carries 1 to {MAX_STREAM_ID_LENGTH}",
                    stream_id.len()
                )));
            }
            if stream_id.contains('\0') {
                return Err(SrtError::Setting(
                    "the stream id contains a NUL character".into(),
                ));
            }
        }
        Ok(())
    }

    /// Sets the options every socket of this crate has, before it binds
    /// or connects: live mode, 1316-byte messages, no blocking calls
    /// (waits go through epoll with the caller's timeout), latency and
    /// encryption; IP TTL and TOS when set; the stream id on a caller.
    pub(crate) fn apply(&self, socket: &Socket, mode: SrtMode) -> Result<(), FfiError> {
        socket.set_int(IntOption::TransportType, 0)?;
        socket.set_int(IntOption::PayloadSize, PAYLOAD_SIZE as i32)?;
        socket.set_int(IntOption::SendBlocking, 0)?;
        socket.set_int(IntOption::ReceiveBlocking, 0)?;
        // Checked to fit by `check`.
        let latency = i32::try_from(self.latency_ms).unwrap_or(i32::MAX);
        socket.set_int(IntOption::Latency, latency)?;
        if let Some(passphrase) = &self.passphrase {
            socket.set_text(TextOption::Passphrase, passphrase.as_bytes())?;
            socket.set_int(IntOption::KeyLength, self.key_length.option_value())?;
        }
        if let Some(ttl) = self.ip_ttl {
            socket.set_int(IntOption::IpTtl, i32::from(ttl))?;
        }
        if let Some(tos) = self.ip_tos {
            socket.set_int(IntOption::IpTos, i32::from(tos))?;
        }
        if mode == SrtMode::Caller {
            if let Some(stream_id) = &self.stream_id {
                socket.set_text(TextOption::StreamId, stream_id.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// `SRTO_CONNTIMEO` for a connect bounded by `timeout`: libsrt waits ten
/// times the option in rendezvous. At least 1 ms.
pub(crate) fn connect_timeout_option(timeout: Duration, mode: SrtMode) -> i32 {
    let ms = timeout.as_millis().max(1);
    let ms = if mode == SrtMode::Rendezvous {
        ms.div_ceil(10)
    } else {
        ms
    };
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// Sets `SRTO_IPV6ONLY` to 0 for IPv6 local addresses (libsrt refuses to
/// bind `::` without it): `[::]` then takes IPv4 peers too.
pub(crate) fn apply_local(socket: &Socket, local: SocketAddr) -> Result<(), FfiError> {
    if local.is_ipv6() {
        socket.set_int(IntOption::Ipv6Only, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut SrtSettings)) -> SrtSettings {
        let mut s = SrtSettings::default();
        f(&mut s);
        s
    }

    #[test]
    fn passphrase_lengths_follow_libsrt() {
        for (len, ok) in [(9, false), (10, true), (79, true), (80, false)] {
            let s = with(|s| s.passphrase = Some("x".repeat(len)));
            assert_eq!(s.check(SrtMode::Caller).is_ok(), ok, "{len} bytes");
        }
    }

    #[test]
    fn a_rendezvous_refuses_a_stream_id_and_a_caller_takes_one() {
        let s = with(|s| s.stream_id = Some("live/1".into()));
        assert!(s.check(SrtMode::Caller).is_ok());
        assert!(s.check(SrtMode::Listener).is_ok());
        let err = s.check(SrtMode::Rendezvous).unwrap_err().to_string();
        assert!(err.contains("rendezvous"), "{err}");
    }

    #[test]
    fn stream_id_lengths() {
        for (len, ok) in [(0, false), (1, true), (512, true), (513, false)] {
            let s = with(|s| s.stream_id = Some("s".repeat(len)));
            assert_eq!(s.check(SrtMode::Caller).is_ok(), ok, "{len} bytes");
        }
    }

    #[test]
    fn debug_hides_the_passphrase() {
        let s = with(|s| s.passphrase = Some("secret-words-here".into()));
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("<set>"), "{shown}");
    }

    #[test]
    fn rendezvous_connect_timeout_is_a_tenth() {
        let t = Duration::from_secs(3);
        assert_eq!(connect_timeout_option(t, SrtMode::Caller), 3000);
        assert_eq!(connect_timeout_option(t, SrtMode::Rendezvous), 300);
        assert_eq!(connect_timeout_option(Duration::ZERO, SrtMode::Caller), 1);
    }
}
