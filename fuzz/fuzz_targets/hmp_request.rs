//! The HMP JSON API's request path short of the supervisor:
//! `hmp::examine` routes a fuzzed method and path, reads the list query,
//! parses the JSON body into the route's typed request, and reads a
//! `Range` header against a file as long as the body. A request is either
//! accepted or refused with an error document a client can read.
//!
//! Input: `METHOD PATH[?QUERY]`, optional header lines (only `Range` is
//! read), a blank line, then the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_api::hmp::examine;
use makara_fuzz::{check_json_error, request_with_headers};

fuzz_target!(|data: &[u8]| {
    let Some(request) = request_with_headers(data) else {
        return;
    };
    let file_len = request.body.len() as u64;
    match examine(
        request.method,
        request.path,
        request.query,
        request.body,
        request.header("Range"),
        file_len,
    ) {
        Ok(Some(range)) => {
            assert!(range.first <= range.last && range.last < file_len, "{range:?} of {file_len}");
        }
        Ok(None) => {}
        Err(e) => {
            if let Err(why) = check_json_error(&e.document(), e.status) {
                panic!("error document for {e:?} is wrong: {why}");
            }
        }
    }
});
