//! `GET /metrics`: the streams' and outputs' health in the Prometheus text
//! exposition format 0.0.4, on the API's HTTPS port, for the monitoring a
//! VMS or an operator runs beside the appliance.
//!
//! Prometheus cannot sign OAuth 1.0 requests, so this path takes an HMP
//! user instead (any role): HTTP Basic credentials, checked as an HMP
//! login is and under the same lockout, or the cookie of a live HMP login
//! session ([`crate::hmp::prove_user`]). Without either the answer is 401
//! with a Basic challenge; wrong credentials are 401 too; a locked user or
//! address is 403 with `Retry-After`. The API switch turns it off with the
//! rest of the API.
//!
//! Everything in one document comes from one list of streams, read from
//! the supervisor's published snapshot (never its thread), and the
//! document is bounded ([`MAX_BYTES`]).

mod exposition;
mod families;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use makara_supervisor::{Command, Kind, Reply};

use crate::handler::{App, Authenticated};
use crate::hmp::{prove_user, Refusal};

pub use exposition::CONTENT_TYPE;

/// The path, outside `/apis/`.
pub const PATH: &str = "/metrics";
/// The longest document. The document's own limits bound it (256 streams
/// of at most 33 outputs, names of at most 128 characters), but at a size
/// no scraper wants; streams past this are left out whole and counted in
/// `makara_metrics_streams_omitted`. A few hundred outputs fit.
pub const MAX_BYTES: usize = 4 << 20;
/// The challenge of a 401.
const CHALLENGE: &str = "Basic realm=\"makarad metrics\", charset=\"UTF-8\"";

/// When the API was made: the process's start, to within its boot.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Notes the start, for `makara_uptime_seconds`.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Whether the request is for `/metrics`.
pub fn owns(path: &str) -> bool {
    path == PATH
}

/// Answers `/metrics`. Never fails: problems are plain-text answers.
pub async fn handle(app: &App, parts: Parts, body: Body) -> Response {
    crate::body::drain(body);
    if !app.access.current().enabled {
        return text(StatusCode::FORBIDDEN, "The API is switched off\n");
    }
    if parts.method != Method::GET && parts.method != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Only GET and HEAD\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if let Err(refusal) = prove_user(app, &parts).await {
        return refused(&refusal);
    }
    let mut response = match document(app).await {
        Ok(doc) => {
            let mut r = Response::new(Body::from(doc));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("{why}\n")),
    };
    response.extensions_mut().insert(Authenticated);
    response
}

/// The document from one snapshot of the streams.
async fn document(app: &App) -> Result<String, String> {
    let supervisor = app.supervisor.clone();
    let reply = tokio::task::spawn_blocking(move || supervisor.call(Command::List(Kind::Stream)))
        .await
        .map_err(|e| format!("the streams could not be read: {e}"))?;
    let streams = match reply {
        Ok(Reply::Streams(streams)) => streams,
        Ok(_) => return Err("the streams could not be read: an unexpected reply".into()),
        Err(e) => return Err(format!("the streams could not be read: {e}")),
    };
    let snapshot = families::Snapshot {
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: STARTED.get_or_init(Instant::now).elapsed().as_secs(),
        streams: &streams,
    };
    Ok(families::render(&snapshot, MAX_BYTES))
}

fn refused(refusal: &Refusal) -> Response {
    let (status, message, retry) = match refusal {
        Refusal::Missing => (
            StatusCode::UNAUTHORIZED,
            "Credentials required: an HMP user's, as HTTP Basic",
            None,
        ),
        Refusal::Invalid => (StatusCode::UNAUTHORIZED, "Invalid credentials", None),
        Refusal::Locked(left) => (
            StatusCode::FORBIDDEN,
            "Too many failed logins for this user or from this address",
            Some(left.as_secs().max(1)),
        ),
        Refusal::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many logins are being checked; try again in a moment",
            Some(1),
        ),
        Refusal::Failed => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The credentials could not be checked",
            None,
        ),
    };
    let mut response = text(status, &format!("{message}\n"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
    }
    if let Some(secs) = retry {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn text(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
