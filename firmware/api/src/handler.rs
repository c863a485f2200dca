//! The HTTP front: authorisation, then the Kraken router, the supervisor
//! call and the response document.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use makara_supervisor::Handle;

use crate::access::AccessWatch;
use crate::kraken::{self, ApiError, ApiRequest, Code, Links};
use crate::oauth::{self, NonceCache, RequestParts};

/// Request bodies larger than this are refused; Kraken bodies are < 4 KiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

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
    pub server_id: String,
}

/// Answers one request. Never fails: every problem becomes a Kraken error.
pub async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost")
        .to_string();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error(&ApiError::with(
                Code::BadXml,
                "the body is larger than 1 MiB or was cut off",
            ))
        }
    };
    let header_str = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let signed = RequestParts {
        method: parts.method.as_str(),
        scheme: "https",
        host: &host,
        path: parts.uri.path(),
        query: parts.uri.query(),
        authorization: header_str(header::AUTHORIZATION),
        content_type: header_str(header::CONTENT_TYPE),
        body: &body,
    };
    if let Err(e) = authorise(&app, &signed) {
        return error(&e);
    }
    let mut response = answer(&app, &parts, &host, &body).await;
    response.extensions_mut().insert(Authenticated);
    response
}

/// Routes an authorised request, calls the supervisor and renders its reply.
async fn answer(
    app: &App,
    parts: &axum::http::request::Parts,
    host: &str,
    body: &[u8],
) -> Response {
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

/// API switched off → 403/1015; bad signature → 401/1014.
fn authorise(app: &App, request: &RequestParts) -> Result<(), ApiError> {
    let access = app.access.current();
    if !access.enabled {
        return Err(ApiError::new(Code::ApiDisabled));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secret_for = |key: &str| access.secret_for(key).map(str::to_string);
    match oauth::verify(request, secret_for, now, &app.nonces) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::info!(error = %e, method = request.method, path = request.path, "request not authorised");
            Err(ApiError::with(Code::NotAuthorized, e))
        }
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
    if e.code == Code::NotAuthorized {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("OAuth realm=\"makara\""),
        );
    }
    response
}
