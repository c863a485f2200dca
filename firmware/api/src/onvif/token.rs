//! WS-Security UsernameToken (OASIS UsernameToken Profile 1.0), as ONVIF
//! clients send it in the SOAP header: reading it, the PasswordDigest
//! (`Base64(SHA-1(nonce + created + password))`, the nonce as decoded
//! bytes and `Created` as the text sent), and the age of `Created`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha1::{Digest, Sha1};
use thiserror::Error;

use super::soap::Node;
use super::time;

pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

/// How old a token's `Created` may be: five minutes.
pub const MAX_AGE_SECS: i64 = 300;
/// How far ahead of the device's clock a `Created` may be: the same five
/// minutes, for a client whose clock runs ahead.
pub const MAX_AHEAD_SECS: i64 = 300;
/// The longest nonce taken, decoded (clients send 16 bytes).
const MAX_NONCE_BYTES: usize = 64;
/// The longest username or password text taken.
const MAX_FIELD_BYTES: usize = 256;

/// The credentials of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameToken {
    pub username: String,
    pub password: Password,
    /// Decoded from base64.
    pub nonce: Option<Vec<u8>>,
    pub created: Option<Created>,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    Text(String),
    /// The 20 bytes of a SHA-1 digest.
    Digest(Vec<u8>),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Password::Text(_) => f.write_str("Text(<redacted>)"),
            Password::Digest(_) => f.write_str("Digest(..)"),
        }
    }
}

/// `wsu:Created`: the text as sent (the digest covers it) and its instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub text: String,
    pub unix: i64,
}

/// Why a token was refused before any password was looked at.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    #[error("the request carries no WS-Security UsernameToken")]
    Missing,
    #[error("the UsernameToken has no {0}")]
    Lacks(&'static str),
    #[error("the UsernameToken's {0} is malformed")]
    Malformed(&'static str),
    #[error("the UsernameToken's password type '{0}' is neither PasswordDigest nor PasswordText")]
    PasswordType(String),
    #[error("the UsernameToken was created {0} s ago; at most {MAX_AGE_SECS} s are accepted (is the client's clock right? GetSystemDateAndTime tells the device's)")]
    TooOld(i64),
    #[error("the UsernameToken was created {0} s in the future; at most {MAX_AHEAD_SECS} s are accepted (is the client's clock right? GetSystemDateAndTime tells the device's)")]
    InFuture(i64),
}

/// The UsernameToken of a request's SOAP header.
pub fn read(header: Option<&Node>) -> Result<UsernameToken, TokenError> {
    let token = header
        .and_then(|h| h.child(WSSE_NS, "Security"))
        .and_then(|s| s.child(WSSE_NS, "UsernameToken"))
        .ok_or(TokenError::Missing)?;
    let username = token
        .child(WSSE_NS, "Username")
        .map(|u| u.trimmed().to_owned())
        .filter(|u| !u.is_empty())
        .ok_or(TokenError::Lacks("Username"))?;
    if username.len() > MAX_FIELD_BYTES {
        return Err(TokenError::Malformed("Username"));
    }
    let password = password(
        token
            .child(WSSE_NS, "Password")
            .ok_or(TokenError::Lacks("Password"))?,
    )?;
    let nonce = match token.child(WSSE_NS, "Nonce") {
        None => None,
        Some(n) => Some(
            STANDARD
                .decode(n.trimmed())
                .ok()
                .filter(|b| !b.is_empty() && b.len() <= MAX_NONCE_BYTES)
                .ok_or(TokenError::Malformed("Nonce"))?,
        ),
    };
    let created = match token.child(WSU_NS, "Created") {
        None => None,
        Some(c) => {
            let text = c.trimmed().to_owned();
            let unix = time::parse(&text).ok_or(TokenError::Malformed("Created"))?;
            Some(Created { text, unix })
        }
    };
    Ok(UsernameToken {
        username,
        password,
        nonce,
        created,
    })
}

fn password(node: &Node) -> Result<Password, TokenError> {
    let kind = node.attr("Type").unwrap_or("");
    if kind.is_empty() || kind.ends_with("#PasswordText") {
        let text = node.text.clone();
        if text.len() > MAX_FIELD_BYTES {
            return Err(TokenError::Malformed("Password"));
        }
        return Ok(Password::Text(text));
    }
    if kind.ends_with("#PasswordDigest") {
        return STANDARD
            .decode(node.trimmed())
            .ok()
            .filter(|d| d.len() == 20)
            .map(Password::Digest)
            .ok_or(TokenError::Malformed("Password digest"));
    }
    Err(TokenError::PasswordType(kind.chars().take(100).collect()))
}

/// SHA-1 of `nonce`, `created` and `password`, as PasswordDigest defines.
pub fn digest(nonce: &[u8], created: &str, password: &str) -> [u8; 20] {
    let mut sha = Sha1::new();
    sha.update(nonce);
    sha.update(created.as_bytes());
    sha.update(password.as_bytes());
    sha.finalize().into()
}

/// Whether `given` is the digest of `password` for this nonce and
/// `Created`, compared in constant time.
pub fn digest_matches(given: &[u8], nonce: &[u8], created: &str, password: &str) -> bool {
    let expected = digest(nonce, created, password);
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Refuses a `Created` older than [`MAX_AGE_SECS`] or further ahead than
/// [`MAX_AHEAD_SECS`].
pub fn check_fresh(created: &Created, now_unix: i64) -> Result<(), TokenError> {
    let age = now_unix - created.unix;
    if age > MAX_AGE_SECS {
        return Err(TokenError::TooOld(age));
    }
    if -age > MAX_AHEAD_SECS {
        return Err(TokenError::InFuture(-age));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onvif::soap;

    /// The ONVIF Application Programmer's Guide's example: nonce
    /// `LKqI6G/AikKCQrN0zqZFlg==`, created `2010-09-16T07:50:45Z`,
    /// password `userpassword` give `tuOSpGlFlIXsozq4HFNeeGeFLEI=` (also
    /// what Python's hashlib computes from them).
    #[test]
    fn password_digest_matches_the_published_vector() {
        let nonce = STANDARD.decode("LKqI6G/AikKCQrN0zqZFlg==").expect("b64");
        let d = digest(&nonce, "2010-09-16T07:50:45Z", "userpassword");
        assert_eq!(STANDARD.encode(d), "tuOSpGlFlIXsozq4HFNeeGeFLEI=");
        assert!(digest_matches(
            &d,
            &nonce,
            "2010-09-16T07:50:45Z",
            "userpassword"
        ));
        assert!(!digest_matches(
            &d,
            &nonce,
            "2010-09-16T07:50:46Z",
            "userpassword"
        ));
        assert!(!digest_matches(
            &d[..19],
            &nonce,
            "2010-09-16T07:50:45Z",
            "userpassword"
        ));
    }

    fn header(token: &str) -> soap::Node {
        let xml = format!(
            r#"<s:Header xmlns:s="{}" xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}"><wsse:Security s:mustUnderstand="1"><wsse:UsernameToken>{token}</wsse:UsernameToken></wsse:Security></s:Header>"#,
            soap::ENV
        );
        soap::parse(xml.as_bytes()).expect("header")
    }

    #[test]
    fn a_digest_token_is_read_with_its_nonce_and_created() {
        let h = header(
            r#"<wsse:Username>cam</wsse:Username>
               <wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">tuOSpGlFlIXsozq4HFNeeGeFLEI=</wsse:Password>
               <wsse:Nonce EncodingType="x">LKqI6G/AikKCQrN0zqZFlg==</wsse:Nonce>
               <wsu:Created>2010-09-16T07:50:45Z</wsu:Created>"#,
        );
        let token = read(Some(&h)).expect("token");
        assert_eq!(token.username, "cam");
        assert!(matches!(token.password, Password::Digest(ref d) if d.len() == 20));
        assert_eq!(token.nonce.as_deref().map(<[u8]>::len), Some(16));
        let created = token.created.expect("created");
        assert_eq!(created.text, "2010-09-16T07:50:45Z");
        assert_eq!(created.unix, 1_284_623_445);
    }

    #[test]
    fn a_text_token_needs_no_nonce() {
        let h = header("<wsse:Username>cam</wsse:Username><wsse:Password> p w </wsse:Password>");
        let token = read(Some(&h)).expect("token");
        assert_eq!(token.password, Password::Text(" p w ".into()));
        assert!(token.nonce.is_none() && token.created.is_none());
    }

    #[test]
    fn missing_and_malformed_tokens_are_refused() {
        assert_eq!(read(None), Err(TokenError::Missing));
        let cases = [
            ("<wsse:Password>x</wsse:Password>", TokenError::Lacks("Username")),
            ("<wsse:Username>a</wsse:Username>", TokenError::Lacks("Password")),
            (
                r#"<wsse:Username>a</wsse:Username><wsse:Password Type="x#PasswordDigest">short</wsse:Password>"#,
                TokenError::Malformed("Password digest"),
            ),
            (
                r#"<wsse:Username>a</wsse:Username><wsse:Password Type="x#Other">p</wsse:Password>"#,
                TokenError::PasswordType("x#Other".into()),
            ),
            (
                "<wsse:Username>a</wsse:Username><wsse:Password>p</wsse:Password><wsse:Nonce>!!</wsse:Nonce>",
                TokenError::Malformed("Nonce"),
            ),
            (
                "<wsse:Username>a</wsse:Username><wsse:Password>p</wsse:Password><wsu:Created>yesterday</wsu:Created>",
                TokenError::Malformed("Created"),
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(read(Some(&header(token))), Err(expected), "{token}");
        }
    }

    #[test]
    fn created_must_be_within_five_minutes_either_way() {
        let at = |unix| Created {
            text: String::new(),
            unix,
        };
        let now = 1_700_000_000;
        assert!(check_fresh(&at(now), now).is_ok());
        assert!(check_fresh(&at(now - 300), now).is_ok());
        assert_eq!(
            check_fresh(&at(now - 301), now),
            Err(TokenError::TooOld(301))
        );
        assert!(check_fresh(&at(now + 300), now).is_ok());
        assert_eq!(
            check_fresh(&at(now + 301), now),
            Err(TokenError::InFuture(301))
        );
    }
}
