//! HMP users proving who they are outside the HMP API (`/metrics`, whose
//! scrapers cannot log in): HTTP Basic credentials, checked exactly as a
//! login is (the same lockout table, so failures here and at the login
//! count together, and a locked user or address is refused before its
//! password is checked), or the cookie of a live login session.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::header;
use axum::http::request::Parts;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use makara_access::users::VerifyError;

use super::{auth, respond};
use crate::guard::Peer;
use crate::handler::App;

/// Why a request's user was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Neither Basic credentials nor a session cookie.
    Missing,
    /// Unknown user, wrong password, malformed credentials, or a cookie
    /// of no live session.
    Invalid,
    /// Too many failed logins for the user or from the address; for this
    /// long yet.
    Locked(Duration),
    /// Too many passwords are being checked at once.
    Busy,
    /// The users could not be checked.
    Failed,
}

/// The name of the HMP user (any role) the request proves.
pub async fn prove_user(app: &App, parts: &Parts) -> Result<String, Refusal> {
    if let Some(basic) = basic(parts) {
        let (username, password) = basic.ok_or(Refusal::Invalid)?;
        return check_password(app, parts, username, password).await;
    }
    if has_cookie(parts) {
        return auth::session(app, parts)
            .map(|login| login.username)
            .map_err(|_| Refusal::Invalid);
    }
    Err(Refusal::Missing)
}

/// `Some(Some((user, password)))` for good Basic credentials,
/// `Some(None)` for a Basic header that is malformed, `None` without one.
fn basic(parts: &Parts) -> Option<Option<(String, String)>> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    Some(decode(encoded.trim()))
}

fn decode(encoded: &str) -> Option<(String, String)> {
    let bytes = BASE64.decode(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn has_cookie(parts: &Parts) -> bool {
    parts.headers.contains_key(header::COOKIE)
}

/// As a login: the lockout first, then the password (off the async
/// workers), a failure counted and a new lock put on the event list.
async fn check_password(
    app: &App,
    parts: &Parts,
    username: String,
    password: String,
) -> Result<String, Refusal> {
    let ip = ip_of(parts);
    let peer = ip.map(Peer::of);
    if let Err(left) = app.hmp.lockout.check(&username, peer, Instant::now()) {
        tracing::warn!(user = %username, peer = %show(peer), "metrics refused: logins locked after repeated failures");
        return Err(Refusal::Locked(left));
    }
    let watch = Arc::clone(&app.hmp.users);
    let name = username.clone();
    let checked = tokio::task::spawn_blocking(move || {
        if let Err(e) = watch.refresh() {
            tracing::error!(error = %e, "the users could not be read; checking against the previous ones");
        }
        watch.verify(&name, &password)
    })
    .await;
    match checked {
        Ok(Ok(user)) => {
            app.hmp.lockout.succeeded(&user.username);
            Ok(user.username)
        }
        Ok(Err(VerifyError::InvalidCredentials)) => {
            let users = app.hmp.users.current();
            let known = users.get(&username).map(|u| u.username.as_str());
            let locks = app.hmp.lockout.failed(known, peer, Instant::now());
            tracing::info!(user = %username, peer = %show(peer), "metrics credentials refused");
            if locks.any() {
                tracing::warn!(user = %username, peer = %show(peer), "logins locked after repeated failures");
                respond::record_lockout(app, &locks, ip).await;
            }
            Err(Refusal::Invalid)
        }
        Ok(Err(VerifyError::Busy(_))) => Err(Refusal::Busy),
        Ok(Err(e)) => {
            tracing::error!(error = %e, user = %username, "metrics credentials could not be checked");
            Err(Refusal::Failed)
        }
        Err(join) => {
            tracing::error!(error = %join, "the metrics credentials check panicked");
            Err(Refusal::Failed)
        }
    }
}

fn ip_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

fn show(peer: Option<Peer>) -> String {
    peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
}
