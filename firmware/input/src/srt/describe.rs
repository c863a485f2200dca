//! What went wrong on an SRT link, in the words of an input's report:
//! "SRT caller to 127.0.0.1:9000: rejected: the passphrase does not match;
//! retrying".

use std::time::Duration;

use makara_srt::SrtError;

/// Why a connection attempt failed.
#[derive(Debug)]
pub enum Failure {
    /// The peer's name did not resolve.
    Resolve {
        host: String,
        reason: String,
    },
    Srt(SrtError),
    /// The attempt's thread could not be started or died.
    Internal(String),
}

/// What a connection attempt's failure means, without the peer (the
/// caller's prefix names it). `expected_mode` is the mode the peer should
/// be in: "listener" for a caller, "rendezvous" for a rendezvous peer.
pub fn failure(failure: &Failure, expected_mode: &str) -> String {
    match failure {
        Failure::Resolve { host, reason } => format!("cannot resolve {host}: {reason}"),
        Failure::Srt(SrtError::Rejected { reason, .. }) => format!("rejected: {reason}"),
        Failure::Srt(SrtError::TimedOut { after, .. }) => format!(
            "no answer within {}: check that the peer runs in {expected_mode} mode and that UDP gets through",
            seconds(*after)
        ),
        Failure::Srt(SrtError::AddressInUse { local }) => format!(
            "local UDP port {} is in use by another input, output or program",
            local.port()
        ),
        Failure::Srt(other) => other.to_string(),
        Failure::Internal(what) => what.clone(),
    }
}

/// Why a connected link ended.
pub fn ended(error: &SrtError) -> String {
    match error {
        SrtError::Closed { .. } => {
            "the connection ended: the peer closed it or stopped answering".to_string()
        }
        other => format!("the connection failed: {other}"),
    }
}

/// "3 s", "1.5 s".
pub fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use makara_srt::RejectReason;

    use super::*;

    #[test]
    fn failures_say_what_to_fix() {
        let peer = "127.0.0.1:9000".parse().unwrap();
        let rejected = Failure::Srt(SrtError::Rejected {
            peer,
            reason: RejectReason::WrongPassphrase,
        });
        assert_eq!(
            failure(&rejected, "listener"),
            "rejected: the passphrase does not match"
        );
        let silent = Failure::Srt(SrtError::TimedOut {
            peer,
            after: Duration::from_secs(3),
        });
        assert_eq!(
            failure(&silent, "rendezvous"),
            "no answer within 3 s: check that the peer runs in rendezvous mode and that UDP gets through"
        );
        let unknown = Failure::Resolve {
            host: "nosuch.invalid".into(),
            reason: "no address".into(),
        };
        assert_eq!(
            failure(&unknown, "listener"),
            "cannot resolve nosuch.invalid: no address"
        );
        assert_eq!(
            ended(&SrtError::Closed { peer }),
            "the connection ended: the peer closed it or stopped answering"
        );
    }
}
