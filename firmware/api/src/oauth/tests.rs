//! End-to-end tests of [`super::verify`]: published and generated vectors
//! in `vectors`, every rejection path in `rejections`. Shared helpers here.

mod rejections;
mod vectors;

use super::*;

/// Consumer credentials shaped like the ones the appliance issues.
const KEY: &str = "U5k4J0/397WeUaRNWTs+CA";
const SECRET: &str = "kd94hf93k423kf44/+Zz==";

fn secret_for(key: &str) -> Option<String> {
    (key == KEY).then(|| SECRET.to_owned())
}

fn request<'a>(method: &'a str, host: &'a str, path: &'a str) -> RequestParts<'a> {
    RequestParts {
        method,
        scheme: "https",
        host,
        path,
        query: None,
        authorization: None,
        content_type: None,
        body: b"",
    }
}

/// An `Authorization` header for `req` signed with `secret`, carrying the
/// given protocol parameters (name, raw value) plus the signature.
fn signed_header(req: RequestParts<'_>, secret: &str, oauth: &[(&str, &str)]) -> String {
    let unsigned = header_from(oauth);
    let base = signature_base_string(&RequestParts {
        authorization: Some(&unsigned),
        ..req
    })
    .unwrap_or_else(|e| panic!("base string: {e}"));
    let signature = sign(&base, secret, "");
    format!(
        "{unsigned}, oauth_signature=\"{}\"",
        percent_encode(&signature)
    )
}

fn header_from(oauth: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = oauth
        .iter()
        .map(|(n, v)| format!("{}=\"{}\"", percent_encode(n), percent_encode(v)))
        .collect();
    format!("OAuth {}", pairs.join(", "))
}

const NOW: u64 = 1_700_000_000;

fn standard_params(nonce: &str, timestamp: &str) -> Vec<(&'static str, String)> {
    vec![
        ("oauth_consumer_key", KEY.to_owned()),
        ("oauth_signature_method", "HMAC-SHA1".to_owned()),
        ("oauth_timestamp", timestamp.to_owned()),
        ("oauth_nonce", nonce.to_owned()),
        ("oauth_version", "1.0".to_owned()),
    ]
}

/// Signs a GET of `/apis/servers` with the given nonce and timestamp and
/// runs it through `verify`.
fn verify_signed(
    secret: &str,
    nonce: &str,
    timestamp: &str,
    cache: &NonceCache,
) -> Result<String, OAuthError> {
    let req = request("GET", "127.0.0.1:8443", "/apis/servers");
    let params = standard_params(nonce, timestamp);
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let header = signed_header(req, secret, &borrowed);
    verify(
        &RequestParts {
            authorization: Some(&header),
            ..req
        },
        secret_for,
        NOW,
        cache,
    )
}
