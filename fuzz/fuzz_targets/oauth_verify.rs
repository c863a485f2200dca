//! OAuth 1.0 verification of a fuzzed request: the `Authorization` header
//! parser (`oauth::header`), query and form-body decoding, the base
//! string, the signature check, the time window and the nonce cache, with
//! one known key, a fixed clock and a fresh cache per input. Seeds that
//! are correctly signed pass, so the fuzzer starts on the accepting path.
//!
//! Input: `METHOD PATH[?QUERY]`, header lines (`Host`, `Authorization`,
//! `Content-Type`; a line starting with a space continues the one before,
//! as a folded header), an empty line, then the body.
//!
//! Beyond "no panic": a request that verifies names the known key (and
//! `claimed_consumer_key`, read before verifying, agrees), cannot verify
//! twice (its nonce is spent), and a refusal is a 400 or 401 whose error
//! document a client can read.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_api::kraken::{ApiError, Code};
use makara_api::oauth::{claimed_consumer_key, NonceCache, OAuthError, DEFAULT_WINDOW_SECS};
use makara_fuzz::{check_error_document, request_with_headers, verify_as_fuzz_consumer, OAUTH_KEY};

fuzz_target!(|data: &[u8]| {
    let Some(request) = request_with_headers(data) else {
        return;
    };
    let parts = request.oauth_parts();
    let nonces = NonceCache::new(DEFAULT_WINDOW_SECS);
    let claimed = claimed_consumer_key(&parts);
    match verify_as_fuzz_consumer(&parts, &nonces) {
        Ok(key) => {
            assert_eq!(key, OAUTH_KEY);
            assert_eq!(claimed.as_deref(), Some(OAUTH_KEY));
            let again = verify_as_fuzz_consumer(&parts, &nonces);
            assert_eq!(again, Err(OAuthError::ReplayedNonce));
        }
        Err(e) => {
            assert!(matches!(e.http_status(), 400 | 401), "{e:?}");
            let xml = ApiError::with(Code::NotAuthorized, &e).to_xml();
            if let Err(why) = check_error_document(&xml) {
                panic!("error document for {e:?} is not well-formed: {why}\n{xml}");
            }
        }
    }
});
