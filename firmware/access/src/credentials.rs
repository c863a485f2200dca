//! One consumer key/secret pair and how new ones are made.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;

/// An OAuth 1.0 consumer key and its shared secret.
///
/// `Debug` leaves the secret out, so credentials can be logged safely.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Identifies the client; 22 characters of standard base64 without
    /// padding (16 random bytes), e.g. `U5k4J0/397WeUaRNWTs+CA`.
    pub consumer_key: String,
    /// The HMAC key shared with the client, made like the key.
    pub consumer_secret: String,
    /// When the pair was created, in seconds since the Unix epoch.
    pub created_unix: u64,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("created_unix", &self.created_unix)
            .finish()
    }
}

impl Credentials {
    /// A fresh pair from the operating system's random source, which is
    /// the one source fit for secrets; its failure is reported rather than
    /// papered over.
    pub(crate) fn generate() -> Result<Credentials, rand::Error> {
        Ok(Credentials {
            consumer_key: random_token()?,
            consumer_secret: random_token()?,
            created_unix: now_unix(),
        })
    }
}

/// 128 random bits: the spec's keys have this shape, and it is plenty for
/// an HMAC secret.
fn random_token() -> Result<String, rand::Error> {
    let mut bytes = [0u8; 16];
    OsRng.try_fill_bytes(&mut bytes)?;
    Ok(STANDARD_NO_PAD.encode(bytes))
}

fn now_unix() -> u64 {
    // A clock before 1970 is broken; the timestamp is informational only.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_spec_shape() {
        let creds = Credentials::generate().expect("random");
        for token in [&creds.consumer_key, &creds.consumer_secret] {
            assert_eq!(token.len(), 22, "{token}");
            let bytes = STANDARD_NO_PAD.decode(token).expect("base64");
            assert_eq!(bytes.len(), 16);
        }
        assert_ne!(creds.consumer_key, creds.consumer_secret);
        assert!(creds.created_unix > 1_600_000_000);
    }

    #[test]
    fn debug_hides_the_secret() {
        let creds = Credentials::generate().expect("random");
        let shown = format!("{creds:?}");
        assert!(shown.contains(&creds.consumer_key));
        assert!(!shown.contains(&creds.consumer_secret), "{shown}");
    }
}
