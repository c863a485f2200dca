//! A request's JSON body: its type checked from the head, then read within
//! the same bounds as a Kraken body (size, time, the shared budget).

use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::http::request::Parts;
use serde_json::Value;

use super::error::HmpError;
use crate::body::{self, BodyError, BodyShape, BODY_LIMITS, MAX_BODY_BYTES};
use crate::handler::App;

/// The body of a POST or PUT, parsed; `None` when it sent none (an empty
/// body means "the defaults", as for starting a recording). Any other
/// request's body is drained and ignored, whatever its type: public
/// clients send a `Content-Type` on GETs.
pub async fn read(
    app: &App,
    parts: &Parts,
    body: Body,
    takes_body: bool,
) -> Result<Option<Value>, HmpError> {
    let shape = BodyShape::of(&body);
    if !shape.present {
        return Ok(None);
    }
    if !takes_body {
        body::drain(body);
        return Ok(None);
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(is_json) {
        body::drain(body);
        return Err(HmpError::unsupported_media_type(content_type));
    }
    if shape.length.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        body::drain(body);
        return Err(too_large());
    }
    let bytes = app
        .bodies
        .read(body, &BODY_LIMITS)
        .await
        .map_err(from_body_error)?;
    if bytes.bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes.bytes)
        .map(Some)
        .map_err(|e| HmpError::input(format!("The body is not valid JSON: {e}")))
}

/// `application/json`, any letter case, with any parameters.
pub fn is_json(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/json")
}

fn too_large() -> HmpError {
    HmpError::input(format!(
        "The body is larger than {MAX_BODY_BYTES} bytes, the most a request of this API needs"
    ))
}

fn from_body_error(e: BodyError) -> HmpError {
    match e {
        BodyError::TooLarge { .. } => too_large(),
        BodyError::Busy => {
            let mut busy =
                HmpError::unavailable("Too many request bodies in flight; try again shortly");
            busy.retry_after = Some(Duration::from_secs(1));
            busy
        }
        BodyError::TooSlow(_) | BodyError::CutOff(_) | BodyError::NotXml(_) => {
            HmpError::input(format!("The body could not be read: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_known_by_its_media_type_alone() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/json-patch+json"));
        assert!(!is_json("application/octet-stream"));
    }
}
