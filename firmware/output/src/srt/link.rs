//! A libsrt socket as one peer of an output, and an output's settings as
//! libsrt's.

use makara_config::SrtEncryption;
use makara_media::SrtLinkStats;
use makara_srt::{KeyLength, SrtError, SrtSettings, SrtSocket};

use super::peers::Link;
use super::settings::SrtOutputSettings;

/// One connected peer.
pub(crate) struct SrtLink(SrtSocket);

impl SrtLink {
    pub fn new(socket: SrtSocket) -> SrtLink {
        SrtLink(socket)
    }
}

impl Link for SrtLink {
    /// A full send buffer drops the message inside the socket (counted in
    /// its statistics' dropped packets); only a gone peer is an error.
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        self.0.send(message).map_err(|e| describe(&e))
    }

    fn stats(&mut self) -> SrtLinkStats {
        self.0.stats()
    }
}

/// The link settings of an output, as libsrt takes them.
pub(crate) fn srt_settings(settings: &SrtOutputSettings) -> SrtSettings {
    SrtSettings {
        latency_ms: settings.latency_ms,
        passphrase: settings.passphrase.clone(),
        key_length: match settings.encryption {
            SrtEncryption::None => KeyLength::Auto,
            SrtEncryption::Aes128 => KeyLength::Aes128,
            SrtEncryption::Aes256 => KeyLength::Aes256,
        },
        stream_id: settings.stream_id.clone(),
        ip_ttl: Some(settings.ttl),
        ip_tos: Some(settings.tos),
    }
}

/// An error as the output's report says it after "SRT caller to
/// host:port: ": a refusal by its reason alone, the rest as libsrt's
/// wrapper words it.
pub(crate) fn describe(e: &SrtError) -> String {
    match e {
        SrtError::Rejected { reason, .. } => format!("rejected: {reason}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use makara_srt::RejectReason;

    use super::*;

    #[test]
    fn a_refusal_reads_as_its_reason() {
        let e = SrtError::Rejected {
            peer: "127.0.0.1:9000".parse().unwrap(),
            reason: RejectReason::WrongPassphrase,
        };
        assert_eq!(describe(&e), "rejected: the passphrase does not match");
    }
}
