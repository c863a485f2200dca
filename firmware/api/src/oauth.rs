//! Server-side verification of two-legged OAuth 1.0 HMAC-SHA1 signatures
//! (RFC 5849), which the Kraken REST API requires on every request.
//!
//! "Two-legged" means the client signs with its consumer key and secret
//! only: there is no token, so the token secret is empty. A request that
//! nevertheless carries an `oauth_token` is verified the same way; the token
//! is just one more signed parameter.
//!
//! [`verify`] takes the parts of an HTTP request as [`RequestParts`] (so this
//! module knows nothing of the HTTP stack), rebuilds the signature base
//! string exactly as RFC 5849 §3.4.1 describes, and checks the signature,
//! the timestamp window and the nonce. The OAuth parameters may come from
//! the `Authorization` header, the query or a form-encoded body (§3.5), but
//! from one of them only.
//!
//! The pieces ([`signature_base_string`], [`sign`], [`percent_encode`]) are
//! public so tests and tools can produce signed requests.

mod base_string;
mod encoding;
mod header;
mod nonce;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::Mac as _;

pub use base_string::{sign, signature_base_string};
pub use encoding::percent_encode;
pub use nonce::{
    NonceCache, NonceError, DEFAULT_CAPACITY_PER_KEY, DEFAULT_WINDOW_SECS,
    LATENESS_AT_SUSTAINED_RATE_SECS, SUSTAINED_RATE_PER_KEY,
};

use base_string::{base_string_from, collect_parameters, keyed_mac, Location, Param};

/// Longest accepted `oauth_nonce`, in bytes. The [`NonceCache`] keeps a
/// fixed-size hash of each, so this only bounds the work of hashing one.
/// Real clients send 8 to 64 characters.
pub const MAX_NONCE_LEN: usize = 256;

/// The parts of an HTTP request that take part in its signature.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// Request method, any case (`GET`, `post`).
    pub method: &'a str,
    /// `http` or `https`: how the request reached us, which the client
    /// signed as part of the URI.
    pub scheme: &'a str,
    /// The `Host` header value, possibly with a `:port`.
    pub host: &'a str,
    /// The request path as sent, still percent-encoded, without the query.
    pub path: &'a str,
    /// The raw query string, without the `?`.
    pub query: Option<&'a str>,
    /// The raw `Authorization` header value.
    pub authorization: Option<&'a str>,
    /// The raw `Content-Type` header value.
    pub content_type: Option<&'a str>,
    /// The request body; only read when it is form-encoded.
    pub body: &'a [u8],
}

/// Why a request failed OAuth verification. The messages name the problem
/// but never a secret, so they can be logged and returned to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A required `oauth_*` parameter is absent or empty.
    #[error("missing OAuth parameter {0}")]
    MissingParameter(&'static str),
    /// The `Authorization` header is not a well-formed OAuth header.
    #[error("malformed OAuth Authorization header: {0}")]
    MalformedHeader(String),
    /// The query, the body or a parameter value cannot be decoded.
    #[error("malformed request parameters: {0}")]
    MalformedParameters(String),
    /// The `Host` header cannot be used to rebuild the request URI.
    #[error("malformed Host header {0}")]
    MalformedHost(String),
    /// An `oauth_*` parameter appears more than once.
    #[error("duplicated OAuth parameter {0}")]
    DuplicateParameter(String),
    /// `oauth_*` parameters were spread over the header, query and body;
    /// RFC 5849 §3.5 allows exactly one of them.
    #[error(
        "OAuth parameters must all be in one of the Authorization header, the query or the body"
    )]
    MixedParameterLocations,
    /// `oauth_signature_method` is not `HMAC-SHA1`.
    #[error("unsupported signature method {0:?} (only HMAC-SHA1 is supported)")]
    UnsupportedSignatureMethod(String),
    /// `oauth_version` is present but not `1.0`.
    #[error("unsupported OAuth version {0:?} (only 1.0 is supported)")]
    UnsupportedVersion(String),
    /// No secret is known for this consumer key.
    #[error("unknown consumer key {0:?}")]
    UnknownConsumerKey(String),
    /// `oauth_timestamp` is not a decimal number of seconds.
    #[error("oauth_timestamp is not a number of seconds")]
    BadTimestamp,
    /// `oauth_timestamp` is too far from the server's clock. Positive skew
    /// means the client is ahead.
    #[error(
        "oauth_timestamp is {skew_secs} s away from the server clock (allowed: ±{window_secs} s)"
    )]
    StaleTimestamp {
        /// Client timestamp minus server time.
        skew_secs: i64,
        /// The accepted skew either way.
        window_secs: u64,
    },
    /// `oauth_nonce` is longer than [`MAX_NONCE_LEN`].
    #[error("oauth_nonce is longer than {MAX_NONCE_LEN} bytes")]
    BadNonce,
    /// The nonce was already used with this key and timestamp.
    #[error("oauth_nonce already used")]
    ReplayedNonce,
    /// The signature does not match the request.
    #[error("invalid OAuth signature")]
    BadSignature,
    /// The timestamp is at or below the floor of this key's replay
    /// record: the key sent so many requests since that second was
    /// forgotten, so a nonce stamped then can no longer be checked.
    #[error(
        "oauth_timestamp {timestamp} is not after {floor}: this key's replay record has \
         moved past it (more than {capacity} requests since); sign with the current time"
    )]
    TimestampBelowFloor {
        /// The request's timestamp.
        timestamp: u64,
        /// The newest second the key's record has forgotten.
        floor: u64,
        /// The record's bound on entries per key.
        capacity: usize,
    },
}

impl OAuthError {
    /// The HTTP status RFC 5849 §3.2 prescribes: 400 for a malformed or
    /// unsupported request, 401 for bad credentials (a timestamp below the
    /// key's floor is as stale as one outside the window).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::MissingParameter(_)
            | Self::MalformedHeader(_)
            | Self::MalformedParameters(_)
            | Self::MalformedHost(_)
            | Self::DuplicateParameter(_)
            | Self::MixedParameterLocations
            | Self::UnsupportedSignatureMethod(_)
            | Self::UnsupportedVersion(_)
            | Self::BadTimestamp
            | Self::BadNonce => 400,
            Self::UnknownConsumerKey(_)
            | Self::StaleTimestamp { .. }
            | Self::ReplayedNonce
            | Self::BadSignature
            | Self::TimestampBelowFloor { .. } => 401,
        }
    }

    /// Whether the failure is a guess at credentials (an unknown key or a
    /// wrong signature), which brute force produces and an honest client
    /// with a working configuration never does.
    pub fn is_guess(&self) -> bool {
        matches!(self, Self::UnknownConsumerKey(_) | Self::BadSignature)
    }
}

/// Verifies a request's OAuth 1.0 signature and returns its consumer key.
///
/// `secret_for` maps a consumer key to its secret. `now_unix` is the
/// server's clock; the accepted skew is the nonce cache's window. The nonce
/// is recorded only once the signature has verified, so only holders of a
/// key's secret can add to that key's record.
///
/// # Errors
///
/// Any [`OAuthError`]: the request is malformed, uses an unsupported
/// method or version, is outside the time window, is signed with an
/// unknown key or the wrong secret, replays a nonce, or is stamped below
/// its key's replay floor.
pub fn verify(
    req: &RequestParts<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
    now_unix: u64,
    nonces: &NonceCache,
) -> Result<String, OAuthError> {
    let params = collect_parameters(req)?;
    check_oauth_parameters_are_unique(&params)?;
    let oauth = OAuthParams::extract(&params)?;

    if oauth.signature_method != "HMAC-SHA1" {
        return Err(OAuthError::UnsupportedSignatureMethod(
            oauth.signature_method.to_owned(),
        ));
    }
    if let Some(version) = oauth.version.filter(|v| *v != "1.0") {
        return Err(OAuthError::UnsupportedVersion(version.to_owned()));
    }
    let timestamp = check_timestamp(oauth.timestamp, now_unix, nonces.window_secs())?;
    if oauth.nonce.len() > MAX_NONCE_LEN {
        return Err(OAuthError::BadNonce);
    }
    let secret = secret_for(oauth.consumer_key)
        .ok_or_else(|| OAuthError::UnknownConsumerKey(oauth.consumer_key.to_owned()))?;

    let base = base_string_from(req, &params)?;
    let claimed = BASE64
        .decode(oauth.signature)
        .map_err(|_| OAuthError::BadSignature)?;
    // `verify_slice` compares in constant time.
    keyed_mac(&secret, "")
        .chain_update(base.as_bytes())
        .verify_slice(&claimed)
        .map_err(|_| OAuthError::BadSignature)?;

    nonces
        .record(oauth.consumer_key, oauth.nonce, timestamp, now_unix)
        .map_err(|e| match e {
            NonceError::Replayed => OAuthError::ReplayedNonce,
            NonceError::BelowFloor { floor } => OAuthError::TimestampBelowFloor {
                timestamp,
                floor,
                capacity: nonces.capacity_per_key(),
            },
        })?;
    Ok(oauth.consumer_key.to_owned())
}

/// The consumer key a request claims, read without verifying anything, so
/// limits on failed authorisations can be applied before the signature is
/// checked. `None` when the request carries no readable one.
pub fn claimed_consumer_key(req: &RequestParts<'_>) -> Option<String> {
    let params = collect_parameters(req).ok()?;
    let key = find(&params, "oauth_consumer_key").ok()??;
    (!key.is_empty()).then(|| key.to_owned())
}

/// The protocol parameters `verify` checks, borrowed from the request.
struct OAuthParams<'p> {
    consumer_key: &'p str,
    signature: &'p str,
    signature_method: &'p str,
    timestamp: &'p str,
    nonce: &'p str,
    version: Option<&'p str>,
}

impl<'p> OAuthParams<'p> {
    fn extract(params: &'p [Param]) -> Result<Self, OAuthError> {
        let required = |name: &'static str| match find(params, name)? {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(OAuthError::MissingParameter(name)),
        };
        Ok(Self {
            consumer_key: required("oauth_consumer_key")?,
            signature: required("oauth_signature")?,
            signature_method: required("oauth_signature_method")?,
            timestamp: required("oauth_timestamp")?,
            nonce: required("oauth_nonce")?,
            version: find(params, "oauth_version")?,
        })
    }
}

/// The value of parameter `name`, which must be UTF-8 (all protocol
/// parameter values are ASCII in practice).
fn find<'p>(params: &'p [Param], name: &str) -> Result<Option<&'p str>, OAuthError> {
    params
        .iter()
        .find(|p| p.name == name.as_bytes())
        .map(|p| {
            std::str::from_utf8(&p.value)
                .map_err(|_| OAuthError::MalformedParameters(format!("{name} is not UTF-8")))
        })
        .transpose()
}

/// Rejects repeated `oauth_*` parameters, which would make it ambiguous
/// which value was checked, and `oauth_*` parameters spread over several
/// locations (§3.5 says "one and only one").
fn check_oauth_parameters_are_unique(params: &[Param]) -> Result<(), OAuthError> {
    let oauth: Vec<&Param> = params
        .iter()
        .filter(|p| p.name.starts_with(b"oauth_"))
        .collect();
    let mut names = BTreeSet::new();
    for p in &oauth {
        if !names.insert(p.name.as_slice()) {
            return Err(OAuthError::DuplicateParameter(
                String::from_utf8_lossy(&p.name).into_owned(),
            ));
        }
    }
    let location: Option<Location> = oauth.first().map(|p| p.location);
    if oauth.iter().any(|p| Some(p.location) != location) {
        return Err(OAuthError::MixedParameterLocations);
    }
    Ok(())
}

/// Parses `oauth_timestamp` and checks it is within `window_secs` of `now`.
fn check_timestamp(raw: &str, now: u64, window_secs: u64) -> Result<u64, OAuthError> {
    // `u64::from_str` would also take a leading `+`; the RFC wants digits.
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OAuthError::BadTimestamp);
    }
    let timestamp: u64 = raw.parse().map_err(|_| OAuthError::BadTimestamp)?;
    if timestamp.abs_diff(now) > window_secs {
        let skew = i128::from(timestamp) - i128::from(now);
        return Err(OAuthError::StaleTimestamp {
            skew_secs: i64::try_from(skew).unwrap_or(if skew < 0 { i64::MIN } else { i64::MAX }),
            window_secs,
        });
    }
    Ok(timestamp)
}
