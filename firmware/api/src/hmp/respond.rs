//! Carrying out a routed, authorised request and writing the answer.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use makara_supervisor::{Command, CommandError, Reply};
use serde_json::{json, Value};

use super::auth;
use super::error::HmpError;
use super::lockout::NewLocks;
use super::login::Login;
use super::query::ListQuery;
use super::routes::Action;
use crate::handler::App;

/// Carries out `action` for `login`.
pub async fn act(
    app: &App,
    parts: &Parts,
    login: &Login,
    action: Action,
    body: Option<Value>,
) -> Result<Response, HmpError> {
    let _ = body;
    match action {
        Action::LoginInfo => Ok(json(200, &json!({ "data": auth::session_info(login) }))),
        Action::Version => Ok(json(200, &json!({ "data": version() }))),
        Action::ListUsers => list_users(app, parts),
        Action::Absent(e) => Err(e),
        Action::NotImplemented => Err(HmpError::not_implemented()),
        _ => Err(HmpError::not_implemented()),
    }
}

/// `{"version", "build"}`: the firmware's version, and the build it came
/// from when the build said (`MAKARA_BUILD` at compile time).
fn version() -> Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "build": option_env!("MAKARA_BUILD").unwrap_or("dev"),
    })
}

/// `GET /apis/users/enabled`: the appliance's accounts; HMP supports only
/// `id`, `username`, `displayName` and `email` (none here).
fn list_users(app: &App, parts: &Parts) -> Result<Response, HmpError> {
    let query = ListQuery::parse(parts.uri.query(), false)?;
    let users = app.hmp.users.current();
    let items = users
        .users()
        .filter(|u| query.matches([u.username.as_str()]))
        .map(|u| {
            json!({
                "id": u.id,
                "username": u.username,
                "displayName": u.username,
                "email": null,
            })
        })
        .collect();
    list(&query, items, parts)
}

/// A list's page, or 404 NoResults.
fn list(query: &ListQuery, items: Vec<Value>, parts: &Parts) -> Result<Response, HmpError> {
    let doc = query.page_of(items, &link(parts))?;
    Ok(json(200, &doc))
}

/// The absolute URL of the request's path, for `next` links.
fn link(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    format!("https://{host}{}", parts.uri.path())
}

/// Calls the supervisor off the async workers.
#[allow(dead_code)]
async fn call(app: &App, command: Command) -> Result<Result<Reply, CommandError>, HmpError> {
    let supervisor = app.supervisor.clone();
    tokio::task::spawn_blocking(move || supervisor.call(command))
        .await
        .map_err(|join| {
            tracing::error!(error = %join, "supervisor call panicked");
            HmpError::internal("Internal Server Error")
        })
}

/// Puts a login lockout on the event list.
pub async fn record_lockout(_app: &App, _locks: &NewLocks) {}

/// A JSON document.
pub fn json(status: u16, doc: &Value) -> Response {
    let mut response = Response::new(Body::from(doc.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 200 with an empty body (HMP's DELETE answer).
pub fn empty() -> Response {
    let mut response = Response::new(Body::empty());
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

pub fn error(e: &HmpError) -> Response {
    let mut response = json(e.status, &e.document());
    if let Some(allow) = e
        .allow
        .as_deref()
        .and_then(|a| HeaderValue::from_str(a).ok())
    {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    if let Some(after) = e.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs()));
    }
    response
}
