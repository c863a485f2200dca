//! How large a request head may be, and the Kraken answers when it is not.
//!
//! Two checks meet a request head. hyper reads at most [`MAX_HEAD_BYTES`]
//! of request line and headers and at most [`MAX_HEADERS`] headers; past
//! either it answers 431 itself, with an empty body, which
//! [`super::refusals`] turns into [`head_too_large`]. A head that fits
//! reaches our service, which answers a URI longer than [`MAX_URI_BYTES`]
//! with [`uri_too_long`]. Kraken paths and queries are far shorter; the
//! largest header a client sends is OAuth's `Authorization` (< 1 KiB).

use axum::http::Uri;

use crate::kraken::{ApiError, Code};

/// The longest URI (path and query) answered; longer ones get 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The largest request line plus headers hyper reads; larger ones get 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most headers a request may have; more get 431.
pub const MAX_HEADERS: usize = 100;
/// hyper's per-connection read and write buffer bound: a head must fit
/// it, and bodies are read in pieces of at most this size.
pub const BUFFER_BYTES: usize = 2 * MAX_HEAD_BYTES;

/// 414: the request's URI is longer than [`MAX_URI_BYTES`].
pub fn uri_too_long() -> ApiError {
    ApiError::with(
        Code::BadUri,
        format!("the URI is longer than {MAX_URI_BYTES} bytes"),
    )
    .with_status(414)
}

/// 431: the request line and headers exceed [`MAX_HEAD_BYTES`] or
/// [`MAX_HEADERS`].
pub fn head_too_large() -> ApiError {
    ApiError::with(
        Code::BadArguments,
        format!(
            "the request line and headers are larger than {MAX_HEAD_BYTES} bytes \
             or hold more than {MAX_HEADERS} headers"
        ),
    )
    .with_status(431)
}

/// The error answer for a request whose head hyper accepted but we do not.
pub fn check_uri(uri: &Uri) -> Result<(), ApiError> {
    let len = uri
        .path_and_query()
        .map_or(uri.path().len(), |pq| pq.as_str().len());
    if len > MAX_URI_BYTES {
        return Err(uri_too_long());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_up_to_the_limit_pass() {
        let at_limit = format!("/{}", "a".repeat(MAX_URI_BYTES - 1));
        assert!(check_uri(&at_limit.parse().unwrap()).is_ok());
        let over = format!("/apis/kraken?{}", "q".repeat(MAX_URI_BYTES));
        let e = check_uri(&over.parse().unwrap()).unwrap_err();
        assert_eq!((e.status(), e.code), (414, Code::BadUri));
        assert!(e.message().contains("8192 bytes"), "{}", e.message());
    }

    #[test]
    fn head_too_large_is_431_with_a_kraken_body() {
        let e = head_too_large();
        assert_eq!((e.status(), e.code), (431, Code::BadArguments));
        assert!(e.to_xml().contains("<code>1013</code>"));
    }
}
