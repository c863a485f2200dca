//! The whole Kraken request path short of the supervisor: `kraken::route`
//! takes a fuzzed method, path, query and body, so the XML parser
//! (`xml::tree`) and every body's validation run on it. A request is
//! either routed to a command or refused with an error whose document a
//! client can read.
//!
//! Input: `METHOD PATH[?QUERY]`, a newline, then the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_api::kraken::{route, ApiRequest};
use makara_fuzz::{check_error_document, request_line_and_body};

/// A server id, so that `/apis/servers/server<id>/...` paths route.
const SERVER_ID: &str = "bc305be293d3";

fuzz_target!(|data: &[u8]| {
    let Some(request) = request_line_and_body(data) else {
        return;
    };
    let api_request = ApiRequest {
        method: request.method,
        path: request.path,
        query: request.query,
        body: request.body,
    };
    if let Err(e) = route(&api_request, SERVER_ID) {
        let status = e.status();
        assert!((400..600).contains(&status), "status {status} for {e:?}");
        let xml = e.to_xml();
        if let Err(why) = check_error_document(&xml) {
            panic!("error document for {e:?} is not well-formed: {why}\n{xml}");
        }
    }
});
