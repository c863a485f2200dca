//! Who may watch: the `Authorization` header of a request, checked by
//! Basic or by Digest (RFC 2617, MD5, the server's nonce) against a
//! caller-given [`Verifier`], and the `WWW-Authenticate` challenges of a
//! 401.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};

use crate::sdp::hex;

/// Where users and their passwords come from.
pub trait Verifier: Send + Sync {
    /// `user` with `password` may watch.
    fn check_password(&self, user: &str, password: &str) -> bool;
    /// MD5 of `user:realm:password` for Digest; `None` when the user is
    /// unknown or the source keeps no password Digest could use (then
    /// only Basic succeeds for them).
    fn digest_ha1(&self, user: &str, realm: &str) -> Option<[u8; 16]>;
}

/// Whether a request must carry credentials.
#[derive(Clone)]
pub enum AuthPolicy {
    /// Anyone who reaches the port may watch.
    Open,
    /// Every request but OPTIONS must carry a user's credentials.
    Required {
        realm: String,
        verifier: Arc<dyn Verifier>,
    },
}

impl std::fmt::Debug for AuthPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthPolicy::Open => f.write_str("Open"),
            AuthPolicy::Required { realm, .. } => write!(f, "Required {{ realm: {realm:?} }}"),
        }
    }
}

/// The verifier of an open output: it knows no one. (An open output
/// never asks it.)
#[derive(Debug, Clone, Copy)]
pub struct NoAuthentication;

impl Verifier for NoAuthentication {
    fn check_password(&self, _: &str, _: &str) -> bool {
        false
    }

    fn digest_ha1(&self, _: &str, _: &str) -> Option<[u8; 16]> {
        None
    }
}

/// MD5(`user:realm:password`), what a [`Verifier`] that keeps passwords
/// gives Digest.
pub fn ha1(user: &str, realm: &str, password: &str) -> [u8; 16] {
    Md5::digest(format!("{user}:{realm}:{password}")).into()
}

/// What an `Authorization` header claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        user: String,
        password: String,
    },
    Digest {
        user: String,
        realm: String,
        nonce: String,
        uri: String,
        response: String,
        /// `qop=auth` with its count and client nonce, when the client
        /// used it.
        qop: Option<(String, String)>,
    },
}

impl Credentials {
    pub fn user(&self) -> &str {
        match self {
            Credentials::Basic { user, .. } | Credentials::Digest { user, .. } => user,
        }
    }

    /// Reads an `Authorization` value; `None` if it is neither scheme, or
    /// malformed.
    pub fn parse(value: &str) -> Option<Credentials> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        if scheme.eq_ignore_ascii_case("Basic") {
            let decoded = STANDARD.decode(rest.trim()).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (user, password) = text.split_once(':')?;
            return Some(Credentials::Basic {
                user: user.to_string(),
                password: password.to_string(),
            });
        }
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let params = params(rest)?;
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        if get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return None;
        }
        let qop = match get("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => Some((get("nc")?, get("cnonce")?)),
            Some(_) => return None,
        };
        Some(Credentials::Digest {
            user: get("username")?,
            realm: get("realm")?,
            nonce: get("nonce")?,
            uri: get("uri")?,
            response: get("response")?,
            qop,
        })
    }
}

/// `key=value, key="quoted, value"`: the parameters of a Digest header.
fn params(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim_end(), &after[end..])
            }
        };
        out.push((key.trim().to_string(), value.to_string()));
        if out.len() > 16 {
            return None;
        }
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some(out)
}

/// The challenges of a 401: Digest first (clients take the first they
/// support), then Basic.
pub fn challenges(realm: &str, nonce: &str) -> [String; 2] {
    [
        format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5"),
        format!("Basic realm=\"{realm}\""),
    ]
}

/// Whether `credentials` prove a user of `verifier`, for a request of
/// `method` on a connection whose nonce is `nonce`.
pub fn verify(
    credentials: &Credentials,
    method: &str,
    realm: &str,
    nonce: &str,
    verifier: &dyn Verifier,
) -> bool {
    match credentials {
        Credentials::Basic { user, password } => verifier.check_password(user, password),
        Credentials::Digest {
            user,
            realm: claimed_realm,
            nonce: claimed_nonce,
            uri,
            response,
            qop,
        } => {
            if claimed_realm != realm || claimed_nonce != nonce {
                return false;
            }
            let Some(ha1) = verifier.digest_ha1(user, realm) else {
                return false;
            };
            let expected = digest_response(&hex(&ha1), nonce, method, uri, qop.as_ref());
            same(
                expected.as_bytes(),
                response.to_ascii_lowercase().as_bytes(),
            )
        }
    }
}

/// RFC 2617 §3.2.2.1: MD5(HA1:nonce:HA2), or with qop=auth
/// MD5(HA1:nonce:nc:cnonce:auth:HA2), where HA2 = MD5(method:uri).
fn digest_response(
    ha1: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop: Option<&(String, String)>,
) -> String {
    let ha2 = hex(&Md5::digest(format!("{method}:{uri}")));
    let text = match qop {
        None => format!("{ha1}:{nonce}:{ha2}"),
        Some((nc, cnonce)) => format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"),
    };
    hex(&Md5::digest(text))
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A Digest response without qop, for other modules' tests.
    pub fn response(ha1: &str, nonce: &str, method: &str, uri: &str) -> String {
        super::digest_response(ha1, nonce, method, uri, None)
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One user, "operator" / "secret".
    struct One;

    impl Verifier for One {
        fn check_password(&self, user: &str, password: &str) -> bool {
            (user, password) == ("operator", "secret")
        }

        fn digest_ha1(&self, user: &str, realm: &str) -> Option<[u8; 16]> {
            (user == "operator").then(|| ha1(user, realm, "secret"))
        }
    }

    #[test]
    fn basic() {
        // "operator:secret"
        let good = Credentials::parse("Basic b3BlcmF0b3I6c2VjcmV0").unwrap();
        assert_eq!(good.user(), "operator");
        assert!(verify(&good, "DESCRIBE", "r", "n", &One));
        let bad = Credentials::parse("Basic b3BlcmF0b3I6d3Jvbmc=").unwrap();
        assert!(!verify(&bad, "DESCRIBE", "r", "n", &One));
        assert_eq!(Credentials::parse("Basic !!!"), None);
        assert_eq!(Credentials::parse("Bearer x"), None);
    }

    /// The response computed independently: python3 -c 'import hashlib;
    /// m=lambda s: hashlib.md5(s.encode()).hexdigest();
    /// print(m(m("operator:Makara:secret")+":abc123:"+m("DESCRIBE:rtsp://h/live")))'
    const RESPONSE: &str = "c7bb93b2016ba46865086fecb7035e18";

    #[test]
    fn digest_golden() {
        let ha1_hex = hex(&ha1("operator", "Makara", "secret"));
        let computed = digest_response(&ha1_hex, "abc123", "DESCRIBE", "rtsp://h/live", None);
        assert_eq!(computed, RESPONSE);
        let header = format!(
            "Digest username=\"operator\", realm=\"Makara\", nonce=\"abc123\", \
             uri=\"rtsp://h/live\", response=\"{computed}\""
        );
        let credentials = Credentials::parse(&header).unwrap();
        assert!(verify(&credentials, "DESCRIBE", "Makara", "abc123", &One));
        // Another method, nonce or realm than the one signed fails.
        assert!(!verify(&credentials, "PLAY", "Makara", "abc123", &One));
        assert!(!verify(&credentials, "DESCRIBE", "Makara", "other", &One));
        assert!(!verify(&credentials, "DESCRIBE", "Other", "abc123", &One));
    }

    #[test]
    fn digest_with_qop() {
        let ha1_hex = hex(&ha1("operator", "R", "secret"));
        let qop = ("00000001".to_string(), "c0ffee".to_string());
        let computed = digest_response(&ha1_hex, "n", "PLAY", "rtsp://h/live/", Some(&qop));
        let header = format!(
            "Digest username=\"operator\",realm=\"R\",nonce=\"n\",uri=\"rtsp://h/live/\",\
             qop=auth,nc=00000001,cnonce=\"c0ffee\",response=\"{computed}\",algorithm=MD5"
        );
        let credentials = Credentials::parse(&header).unwrap();
        assert!(verify(&credentials, "PLAY", "R", "n", &One));
    }

    #[test]
    fn malformed_digest_headers() {
        for header in [
            "Digest username=\"a\"",
            "Digest username=\"a, realm=x",
            "Digest username=a, realm=b, nonce=c, uri=d, response=e, algorithm=SHA-256",
            "Digest username=a, realm=b, nonce=c, uri=d, response=e, qop=auth-int",
        ] {
            assert_eq!(Credentials::parse(header), None, "{header}");
        }
    }

    #[test]
    fn challenge_golden() {
        assert_eq!(
            challenges("Makara", "00ff"),
            [
                "Digest realm=\"Makara\", nonce=\"00ff\", algorithm=MD5".to_string(),
                "Basic realm=\"Makara\"".to_string()
            ]
        );
    }
}
