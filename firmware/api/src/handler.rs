//! The HTTP front: admission from the request head (the API switch, limits
//! on failed authorisations, the body's type and size, the OAuth
//! signature), then the body, the Kraken router, the supervisor call and
//! the response document.
//!
//! No byte of a body is read before its request is authorised. The
//! signature never covers an XML body, only a form-encoded one, and those
//! are refused as not XML, so the head is all verification needs and a
//! stranger costs no body memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use makara_access::AccessState;
use makara_supervisor::Handle;

use crate::access::AccessWatch;
use crate::body::{self, BodyBudget, BodyShape, BODY_LIMITS, MAX_BODY_BYTES};
use crate::guard::{Guard, NewBlocks, Peer, Turn};
use crate::hmp::{self, Hmp};
use crate::kraken::{self, ApiError, ApiRequest, Code, Links};
use crate::metrics;
use crate::oauth::{self, NonceCache, OAuthError, RequestParts};

/// Put in a response's extensions when its request passed authorisation,
/// so the connection layer can tell clients that proved a key from
/// strangers (who get shorter timeouts and are shed first).
#[derive(Debug, Clone, Copy)]
pub struct Authenticated;

/// What every request needs.
#[derive(Debug)]
pub struct App {
    pub supervisor: Handle,
    pub access: Arc<AccessWatch>,
    pub nonces: NonceCache,
    pub guard: Guard,
    pub bodies: BodyBudget,
    pub server_id: String,
    /// The HMP JSON API's users, login sessions and lockouts.
    pub hmp: Hmp,
}

impl App {
    /// An app with the default replay record, failure limits and body
    /// budget.
    pub fn new(supervisor: Handle, access: Arc<AccessWatch>, hmp: Hmp, server_id: String) -> App {
        metrics::mark_start();
        App {
            supervisor,
            access,
            nonces: NonceCache::default(),
            guard: Guard::default(),
            bodies: BodyBudget::default(),
            server_id,
            hmp,
        }
    }
}

/// Answers one request. Never fails: every problem becomes a Kraken error
/// (or, under the HMP paths, an HMP one).
pub async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if hmp::owns(parts.uri.path()) {
        return hmp::handle(&app, parts, body).await;
    }
    if metrics::owns(parts.uri.path()) {
        return metrics::handle(&app, parts, body).await;
    }
    let host = host_of(&parts);
    if let Err(e) = admit(&app, &parts, &host, BodyShape::of(&body)) {
        body::drain(body);
        return error(&e);
    }
    let mut response = match app.bodies.read(body, &BODY_LIMITS).await {
        Ok(body) => answer(&app, &parts, &host, &body.bytes).await,
        Err(e) => error(&ApiError::from(e)),
    };
    response.extensions_mut().insert(Authenticated);
    response
}

/// The `Host` header, or the request target's authority.
fn host_of(parts: &Parts) -> String {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost")
        .to_string()
}

/// Decides from the head alone, in this order: API switched off → 403/1015;
/// too many failed authorisations → 429/1014 (signature unchecked); a body
/// that is not XML → 415, or announced too large → 413; bad signature →
/// 401/1014.
fn admit(app: &App, parts: &Parts, host: &str, body: BodyShape) -> Result<(), ApiError> {
    let access = app.access.current();
    if !access.enabled {
        return Err(ApiError::new(Code::ApiDisabled));
    }
    let header_str = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let content_type = header_str(header::CONTENT_TYPE);
    let signed = RequestParts {
        method: parts.method.as_str(),
        scheme: "https",
        host,
        path: parts.uri.path(),
        query: parts.uri.query(),
        authorization: header_str(header::AUTHORIZATION),
        content_type,
        body: b"",
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| Peer::of(c.0.ip()));
    let now = Instant::now();
    let claimed = oauth::claimed_consumer_key(&signed);
    if let Err(refusal) = app.guard.check(peer, claimed.as_deref(), now) {
        log_refused(app, now, || {
            tracing::info!(peer = %show(peer), reason = %refusal, "request refused unchecked");
        });
        return Err(refusal.into());
    }
    body.check(content_type, MAX_BODY_BYTES)?;
    verify(app, &access, &signed, peer, now)
}

/// Checks the signature and keeps the failure limits and the replay
/// record up to date.
fn verify(
    app: &App,
    access: &AccessState,
    signed: &RequestParts,
    peer: Option<Peer>,
    now: Instant,
) -> Result<(), ApiError> {
    let unix_now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secret_for = |key: &str| access.secret_for(key).map(str::to_string);
    let verified = oauth::verify(signed, secret_for, unix_now, &app.nonces);
    let outcome = match verified {
        Ok(key) => {
            app.guard.succeeded(peer, &key, now);
            Ok(())
        }
        Err(e) => {
            let blocks = if e.is_guess() {
                let known_key = matches!(e, OAuthError::BadSignature)
                    .then(|| oauth::claimed_consumer_key(signed))
                    .flatten();
                app.guard.failed(peer, known_key.as_deref(), now)
            } else {
                NewBlocks::default()
            };
            log_refused(app, now, || log_failure(signed, peer, &e, blocks));
            Err(e.into())
        }
    };
    forget_revoked_keys(app, access);
    outcome
}

/// Keeps the keys tracked by the replay record and the failure limits to
/// the keys configured, so revoking keys frees their records.
fn forget_revoked_keys(app: &App, access: &AccessState) {
    let configured = |key: &str| access.secret_for(key).is_some();
    if app.nonces.keys_tracked() > access.keys.len() {
        app.nonces.retain_keys(configured);
    }
    if app.guard.keys_tracked() > access.keys.len() {
        app.guard.retain_keys(configured);
    }
}

/// Writes a line about a refused request if the log budget allows, after
/// a summary of the ones left out in the last window.
fn log_refused(app: &App, now: Instant, line: impl FnOnce()) {
    if let Turn::Write { left_out } = app.guard.log_turn(now) {
        if left_out > 0 {
            tracing::warn!(
                left_out,
                "{left_out} more refused requests were not logged in the last minute"
            );
        }
        line();
    }
}

fn log_failure(signed: &RequestParts, peer: Option<Peer>, e: &OAuthError, blocks: NewBlocks) {
    tracing::info!(error = %e, method = signed.method, path = signed.path, peer = %show(peer), "request not authorised");
    if let Some(block) = blocks.address {
        tracing::warn!(peer = %show(peer), seconds = block.as_secs(), "address blocked after repeated failed authorisations");
    }
    if let Some(block) = blocks.key {
        tracing::warn!(
            seconds = block.as_secs(),
            "consumer key blocked for unknown addresses after repeated wrong signatures"
        );
    }
}

fn show(peer: Option<Peer>) -> String {
    peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
}

/// Routes an authorised request, calls the supervisor and renders its reply.
async fn answer(app: &App, parts: &Parts, host: &str, body: &[u8]) -> Response {
    let request = ApiRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        body,
    };
    let answer = match kraken::route(&request, &app.server_id) {
        Ok((command, render)) => {
            let supervisor = app.supervisor.clone();
            let links = Links::new(host, &app.server_id);
            let reply = tokio::task::spawn_blocking(move || supervisor.call(command)).await;
            match reply {
                Ok(Ok(reply)) => kraken::render(&render, reply, &links),
                Ok(Err(e)) => Err(ApiError::from(e)),
                Err(join) => {
                    tracing::error!(error = %join, "supervisor call panicked");
                    Err(ApiError::new(Code::ExecutionFailed))
                }
            }
        }
        Err(e) => Err(e),
    };
    match answer {
        Ok(a) => xml(a.status, a.body),
        Err(e) => error(&e),
    }
}

pub fn xml(status: u16, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

pub fn error(e: &ApiError) -> Response {
    let mut response = xml(e.status(), e.to_xml());
    if e.status() == 401 {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("OAuth realm=\"makara\""),
        );
    }
    if let Some(secs) = e.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
