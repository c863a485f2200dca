//! The signature base string (RFC 5849 §3.4.1) and the HMAC-SHA1 signature
//! over it (§3.4.2).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::encoding::{parse_form, percent_encode, percent_encode_bytes};
use super::header::parse_authorization;
use super::{OAuthError, RequestParts};

pub(crate) type HmacSha1 = Hmac<Sha1>;

/// Where a parameter came from. OAuth parameters must all come from one
/// place (§3.5), so the verifier needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Header,
    Query,
    Body,
}

/// One request parameter, decoded.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: Vec<u8>,
    pub(crate) value: Vec<u8>,
    pub(crate) location: Location,
}

/// Builds the signature base string of `req` (§3.4.1.1):
/// `METHOD&enc(base string URI)&enc(normalized parameters)`.
///
/// # Errors
///
/// [`OAuthError::MalformedHeader`], [`OAuthError::MalformedParameters`] or
/// [`OAuthError::MalformedHost`] when the request cannot be parsed.
pub fn signature_base_string(req: &RequestParts<'_>) -> Result<String, OAuthError> {
    let params = collect_parameters(req)?;
    base_string_from(req, &params)
}

/// [`signature_base_string`] for parameters already collected, so the
/// verifier parses the request once.
pub(crate) fn base_string_from(
    req: &RequestParts<'_>,
    params: &[Param],
) -> Result<String, OAuthError> {
    let uri = base_string_uri(req.scheme, req.host, req.path)?;
    Ok(format!(
        "{}&{}&{}",
        percent_encode(&req.method.to_ascii_uppercase()),
        percent_encode(&uri),
        percent_encode(&normalized_parameters(params)),
    ))
}

/// Signs a base string with HMAC-SHA1 (§3.4.2) and returns it base64-encoded,
/// as it travels in `oauth_signature`. The key is
/// `enc(consumer_secret)&enc(token_secret)`; two-legged requests pass an
/// empty token secret, leaving the key ending in `&`.
pub fn sign(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let mac = keyed_mac(consumer_secret, token_secret).chain_update(base.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// The HMAC-SHA1 instance for a pair of secrets, before any data.
pub(crate) fn keyed_mac(consumer_secret: &str, token_secret: &str) -> HmacSha1 {
    let key = format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    );
    // HMAC accepts keys of any length (long ones are hashed first), so this
    // `Result` exists only because `KeyInit` is shared with fixed-key MACs.
    HmacSha1::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length")
}

/// Gathers the parameters of §3.4.1.3.1: the query, a form-encoded body and
/// the `Authorization` header minus its `realm`. `oauth_signature` is kept
/// here (the verifier needs it) and dropped by [`normalized_parameters`].
pub(crate) fn collect_parameters(req: &RequestParts<'_>) -> Result<Vec<Param>, OAuthError> {
    let mut params = Vec::new();
    let mut push = |pairs: Vec<(Vec<u8>, Vec<u8>)>, location| {
        params.extend(pairs.into_iter().map(|(name, value)| Param {
            name,
            value,
            location,
        }));
    };
    if let Some(query) = req.query {
        push(parse_form(query.as_bytes())?, Location::Query);
    }
    if is_form_urlencoded(req.content_type) {
        push(parse_form(req.body)?, Location::Body);
    }
    if let Some(header) = req.authorization {
        let mut pairs = parse_authorization(header)?;
        pairs.retain(|(name, _)| name != b"realm");
        push(pairs, Location::Header);
    }
    Ok(params)
}

/// Whether the body counts as parameters: only for an
/// `application/x-www-form-urlencoded` content type, whatever its
/// parameters (`; charset=...`) or letter case.
fn is_form_urlencoded(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let media_type = ct.split(';').next().unwrap_or_default().trim();
        media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// Normalises parameters (§3.4.1.3.2): encode names and values, sort by
/// encoded name then encoded value (bytewise), join as `n=v` with `&`.
/// Sorting the pairs, not the joined `n=v` strings, matters: `a=...` must
/// sort before `a2=...` although `=` sorts after `2`.
pub(crate) fn normalized_parameters(params: &[Param]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|p| p.name != b"oauth_signature")
        .map(|p| {
            (
                percent_encode_bytes(&p.name),
                percent_encode_bytes(&p.value),
            )
        })
        .collect();
    encoded.sort_unstable();
    let joined: Vec<String> = encoded
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    joined.join("&")
}

/// Builds the base string URI (§3.4.1.2): lowercase scheme and host, the
/// port only if it is not the scheme's default, the path as sent, no query.
pub(crate) fn base_string_uri(scheme: &str, host: &str, path: &str) -> Result<String, OAuthError> {
    let scheme = scheme.to_ascii_lowercase();
    let (hostname, port) = split_host_port(host)?;
    let hostname = hostname.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok(match port {
        Some(port) if Some(port) != default_port => format!("{scheme}://{hostname}:{port}{path}"),
        _ => format!("{scheme}://{hostname}{path}"),
    })
}

/// Splits a `Host` header value into host and optional port, handling
/// bracketed IPv6 literals (`[::1]:8443`). An empty port (`host:`) means
/// the default one, as in RFC 3986.
fn split_host_port(host: &str) -> Result<(&str, Option<u16>), OAuthError> {
    let bad = |reason: &str| OAuthError::MalformedHost(format!("{host:?}: {reason}"));
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']').ok_or_else(|| bad("unclosed IPv6 literal"))?;
        let (name, after) = host.split_at(end + 1);
        match after.strip_prefix(':') {
            Some(port) => (name, Some(port)),
            None if after.is_empty() => (name, None),
            None => return Err(bad("junk after IPv6 literal")),
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace() || b == b'/') {
        return Err(bad("invalid host name"));
    }
    let port = match port {
        None | Some("") => None,
        Some(digits) => {
            let valid = digits.bytes().all(|b| b.is_ascii_digit());
            match digits.parse::<u16>() {
                Ok(port) if valid && port != 0 => Some(port),
                _ => return Err(bad("invalid port")),
            }
        }
    };
    Ok((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(scheme: &str, host: &str, path: &str) -> String {
        base_string_uri(scheme, host, path).unwrap_or_else(|e| panic!("{host}: {e}"))
    }

    #[test]
    fn rfc_base_string_uri_examples() {
        // §3.4.1.2: "GET /r%20v/X?id=123" with "Host: EXAMPLE.COM:80".
        assert_eq!(
            uri("http", "EXAMPLE.COM:80", "/r%20v/X"),
            "http://example.com/r%20v/X"
        );
        // §3.4.1.2: "GET /?q=1" with "Host: www.example.net:8080" over TLS.
        assert_eq!(
            uri("https", "www.example.net:8080", "/"),
            "https://www.example.net:8080/"
        );
    }

    #[test]
    fn default_ports_are_dropped_only_for_their_scheme() {
        assert_eq!(
            uri("https", "example.com:443", "/a"),
            "https://example.com/a"
        );
        assert_eq!(
            uri("HTTPS", "example.com:0443", "/a"),
            "https://example.com/a"
        );
        assert_eq!(
            uri("http", "example.com:443", "/a"),
            "http://example.com:443/a"
        );
        assert_eq!(
            uri("https", "example.com:80", "/a"),
            "https://example.com:80/a"
        );
        assert_eq!(uri("https", "example.com:", "/a"), "https://example.com/a");
    }

    #[test]
    fn non_default_port_is_kept() {
        assert_eq!(
            uri("https", "127.0.0.1:8443", "/apis/servers"),
            "https://127.0.0.1:8443/apis/servers"
        );
    }

    #[test]
    fn ipv6_literals_keep_their_brackets() {
        assert_eq!(
            uri("https", "[FE80::1]:8443", "/x"),
            "https://[fe80::1]:8443/x"
        );
        assert_eq!(uri("https", "[::1]:443", "/x"), "https://[::1]/x");
        assert_eq!(uri("https", "[::1]", "/x"), "https://[::1]/x");
    }

    #[test]
    fn empty_path_becomes_slash_and_path_is_kept_as_sent() {
        assert_eq!(uri("http", "a", ""), "http://a/");
        assert_eq!(
            uri("http", "a", "/Mixed/Case%2fx"),
            "http://a/Mixed/Case%2fx"
        );
    }

    #[test]
    fn malformed_hosts_are_rejected() {
        for host in [
            "", ":80", "a:b", "a:65536", "a:0", "a:+80", "[::1", "[::1]x", "a b", "::1",
        ] {
            assert!(
                matches!(
                    base_string_uri("http", host, "/"),
                    Err(OAuthError::MalformedHost(_))
                ),
                "{host:?}"
            );
        }
    }

    #[test]
    fn form_content_type_detection() {
        assert!(is_form_urlencoded(Some(
            "application/x-www-form-urlencoded"
        )));
        assert!(is_form_urlencoded(Some(
            "Application/X-WWW-Form-URLEncoded ; charset=UTF-8"
        )));
        assert!(!is_form_urlencoded(Some("multipart/form-data; boundary=x")));
        assert!(!is_form_urlencoded(Some("application/json")));
        assert!(!is_form_urlencoded(None));
    }

    #[test]
    fn body_is_ignored_unless_form_encoded() {
        let req = RequestParts {
            method: "POST",
            scheme: "http",
            host: "a",
            path: "/",
            query: None,
            authorization: None,
            content_type: Some("application/json"),
            body: b"x=1",
        };
        assert_eq!(
            signature_base_string(&req).as_deref(),
            Ok("POST&http%3A%2F%2Fa%2F&")
        );
    }

    #[test]
    fn sorting_is_by_name_then_value_not_by_joined_string() {
        let req = RequestParts {
            method: "get",
            scheme: "http",
            host: "a",
            path: "/",
            query: Some("a2=1&a=2&a=10&b=%20"),
            authorization: None,
            content_type: None,
            body: b"",
        };
        let params = collect_parameters(&req).unwrap_or_default();
        assert_eq!(normalized_parameters(&params), "a=10&a=2&a2=1&b=%20");
    }
}
