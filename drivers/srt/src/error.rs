//! What goes wrong on an SRT link, in words an engineer can act on: the
//! peer's address, and for a refused connection libsrt's reject reason.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;

use crate::ffi::{self, FfiError};

/// Every failure of this crate's sockets and listeners.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SrtError {
    /// A setting libsrt cannot take (checked before any socket is made).
    #[error("SRT setting refused: {0}")]
    Setting(String),
    /// Binding the local address failed because something holds the port.
    #[error("cannot open SRT on {local}: the address is in use (another input, output or program has UDP port {port})", port = local.port())]
    AddressInUse { local: SocketAddr },
    /// Making, configuring or binding the socket failed for another reason.
    #[error("cannot {action}: {detail}")]
    Setup { action: String, detail: String },
    /// The peer answered and refused the connection.
    #[error("SRT peer {peer} refused the connection: {reason}")]
    Rejected {
        peer: SocketAddr,
        reason: RejectReason,
    },
    /// No handshake completed within the timeout.
    #[error("no answer from SRT peer {peer} within {}: check that it is running in the matching mode and that UDP gets through", seconds(*after))]
    TimedOut { peer: SocketAddr, after: Duration },
    /// The connection ended: the peer closed it, or stopped answering.
    #[error("the SRT connection with {peer} ended: the peer closed it or stopped answering")]
    Closed { peer: SocketAddr },
    /// `send` was given more than one message holds.
    #[error("an SRT message holds at most {max} bytes; this one has {len}")]
    MessageTooLong { len: usize, max: usize },
    /// A received message did not fit the caller's buffer (it is lost).
    #[error("an SRT message of {len} bytes from {peer} did not fit the {capacity}-byte buffer")]
    BufferTooSmall {
        peer: SocketAddr,
        len: usize,
        capacity: usize,
    },
    /// Another libsrt failure on a connected link.
    #[error("SRT link with {peer}: {detail}")]
    Link { peer: SocketAddr, detail: String },
}

/// "3 s", "1.5 s": a duration as a person reads it.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// libsrt's words for a failed call, for the `detail` of an error.
pub(crate) fn detail(err: &FfiError) -> String {
    let mut text = format!("{} failed", err.call);
    if !err.message.is_empty() {
        text.push_str(": ");
        text.push_str(&err.message);
    }
    if err.sys_errno != 0 {
        let sys = std::io::Error::from_raw_os_error(err.sys_errno);
        text.push_str(&format!(" ({sys})"));
    }
    text
}

/// Why a peer refused a connection (`srt_getrejectreason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// `SRT_REJ_BADSECRET`: both sides encrypt, with different passphrases.
    WrongPassphrase,
    /// `SRT_REJ_UNSECURE`: one side has a passphrase and the other none.
    EncryptionMismatch,
    /// A listener refused the caller's stream id (codes 1400, 1401, 1403,
    /// 1404 and 1405; ours sends 1404).
    StreamIdRefused { code: i32 },
    /// `SRT_REJ_BACKLOG`: too many callers waiting to be accepted.
    Busy,
    /// `SRT_REJ_CLOSE`: the peer's socket is closing.
    Closing,
    /// Any other reason, with libsrt's code.
    Other { code: i32 },
}

impl RejectReason {
    pub(crate) fn from_code(code: i32) -> RejectReason {
        match code {
            10 => RejectReason::WrongPassphrase,
            11 => RejectReason::EncryptionMismatch,
            5 => RejectReason::Busy,
            7 => RejectReason::Closing,
            1400 | 1401 | 1403 | ffi::REJECT_STREAM_ID | 1405 => {
                RejectReason::StreamIdRefused { code }
            }
            code => RejectReason::Other { code },
        }
    }

    /// libsrt's code for the reason.
    pub fn code(self) -> i32 {
        match self {
            RejectReason::WrongPassphrase => 10,
            RejectReason::EncryptionMismatch => 11,
            RejectReason::Busy => 5,
            RejectReason::Closing => 7,
            RejectReason::StreamIdRefused { code } | RejectReason::Other { code } => code,
        }
    }
}

/// What libsrt's internal codes (`SRT_REJECT_REASON`) and the predefined
/// application codes (`access_control.h`) mean.
fn other_reason(code: i32) -> &'static str {
    match code {
        0 => "no reason given",
        1 => "a system call failed",
        2 => "the peer refused",
        3 => "the peer ran out of resources",
        4 => "the handshake was malformed",
        6 => "libsrt failed internally",
        8 => "the peer needs a newer SRT version",
        9 => "both rendezvous peers chose the same cookie; try again",
        12 => "one side uses the message API and the other the stream API",
        13 => "one side is in live mode and the other in file mode",
        14 => "the packet filters (FEC) do not match",
        15 => "the bonding groups do not match",
        16 => "the handshake timed out",
        1402 => "the peer is overloaded",
        1409 => "the stream is in use by another connection",
        1500 => "the peer's application failed internally",
        1503 => "the peer's service is down",
        1000..=1999 => "the peer's application refused",
        2000.. => "the peer's application refused with its own code",
        _ => "unknown reason",
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::WrongPassphrase => f.write_str("the passphrase does not match"),
            RejectReason::EncryptionMismatch => {
                f.write_str("one side has a passphrase and the other none")
            }
            RejectReason::StreamIdRefused { code } => {
                write!(f, "the listener refused the stream id (code {code})")
            }
            RejectReason::Busy => {
                f.write_str("the listener is busy: too many callers are waiting to be accepted")
            }
            RejectReason::Closing => f.write_str("the peer is closing"),
            RejectReason::Other { code } => write!(f, "{} (code {code})", other_reason(*code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_what_to_fix() {
        let peer: SocketAddr = "192.0.2.1:9000".parse().unwrap();
        let err = SrtError::Rejected {
            peer,
            reason: RejectReason::from_code(10),
        };
        assert_eq!(
            err.to_string(),
            "SRT peer 192.0.2.1:9000 refused the connection: the passphrase does not match"
        );
        let unsecure = RejectReason::from_code(11).to_string();
        assert_eq!(unsecure, "one side has a passphrase and the other none");
        assert_eq!(
            RejectReason::from_code(1404),
            RejectReason::StreamIdRefused { code: 1404 }
        );
        assert!(RejectReason::from_code(5).to_string().contains("busy"));
        assert!(RejectReason::from_code(13)
            .to_string()
            .contains("live mode"));
    }

    #[test]
    fn codes_round_trip() {
        for code in [0, 1, 5, 7, 10, 11, 16, 1400, 1404, 1503, 2001] {
            assert_eq!(RejectReason::from_code(code).code(), code);
        }
    }

    #[test]
    fn timeouts_read_as_seconds() {
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let err = SrtError::TimedOut {
            peer,
            after: Duration::from_millis(1500),
        };
        assert!(err.to_string().contains("within 1.5 s"), "{err}");
        let err = SrtError::TimedOut {
            peer,
            after: Duration::from_secs(3),
        };
        assert!(err.to_string().contains("within 3 s"), "{err}");
    }
}
