//! Logging in and out, the session a cookie names, and what each role may
//! do.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use makara_access::users::{Role, VerifyError};
use serde_json::{json, Value};

use super::error::HmpError;
use super::lockout::NewLocks;
use super::login::Login;
use super::routes::Action;
use super::{body, respond, time, COOKIE};
use crate::guard::Peer;
use crate::handler::App;

/// `POST /apis/authentication/login`.
pub async fn login(app: &App, parts: &Parts, body: Body) -> Result<Response, HmpError> {
    let ip = ip_of(parts);
    let peer = ip.map(Peer::of);
    let body = body::read(app, parts, body, true).await?;
    let (username, password) = credentials(body.as_ref())?;
    if let Err(left) = app.hmp.lockout.check(&username, peer, Instant::now()) {
        tracing::warn!(user = %username, peer = %show(peer), "login refused: locked after repeated failures");
        return Err(HmpError::login_locked(left));
    }
    let checked = {
        let watch = std::sync::Arc::clone(&app.hmp.users);
        let username = username.clone();
        tokio::task::spawn_blocking(move || {
            // A user just added by `makarad user add` can log in at once,
            // not only after the next poll (a stat when nothing changed).
            if let Err(e) = watch.refresh() {
                tracing::error!(error = %e, "the users could not be read; checking against the previous ones");
            }
            watch.verify(&username, &password)
        })
        .await
    };
    let users = app.hmp.users.current();
    let user = match checked {
        Ok(Ok(user)) => user,
        Ok(Err(VerifyError::InvalidCredentials)) => {
            let known = users.get(&username).map(|u| u.username.as_str());
            let locks = app.hmp.lockout.failed(known, peer, Instant::now());
            log_failure(app, &username, ip, &locks).await;
            return Err(HmpError::invalid_credentials());
        }
        Ok(Err(VerifyError::Busy(_))) => {
            let mut busy =
                HmpError::unavailable("Too many logins are being checked; try again in a moment");
            busy.retry_after = Some(std::time::Duration::from_secs(1));
            return Err(busy);
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, user = %username, "a login could not be checked");
            return Err(HmpError::create_user_session());
        }
        Err(join) => {
            tracing::error!(error = %join, "the login check panicked");
            return Err(HmpError::create_user_session());
        }
    };
    app.hmp.lockout.succeeded(&user.username);
    let login = app.hmp.logins.open(&user, Instant::now(), time::unix_ms());
    tracing::info!(user = %user.username, role = user.role.as_str(), peer = %show(peer), "logged in");
    let mut response = respond::json(200, &json!({ "data": session_info(&login) }));
    let cookie = format!(
        "{COOKIE}={}; Path=/apis/; Max-Age={}; Secure; HttpOnly; SameSite=Strict",
        login.token,
        app.hmp.logins.idle().as_secs()
    );
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `DELETE /apis/authentication/login`: 404 AuthSessionNotFound for a
/// session that is unknown or already over (not 401: the seed's own
/// answer here).
pub fn logout(app: &App, parts: &Parts) -> Result<Response, HmpError> {
    let token = cookie(parts).ok_or_else(HmpError::auth_session_not_found)?;
    if !app.hmp.logins.close(&token, Instant::now()) {
        return Err(HmpError::auth_session_not_found());
    }
    Ok(respond::empty())
}

/// The live session the request's cookie names, its idle time restarted;
/// 401 UserNotAuthorized otherwise.
pub fn session(app: &App, parts: &Parts) -> Result<Login, HmpError> {
    let token = cookie(parts).ok_or_else(HmpError::not_authorized)?;
    let users = app.hmp.users.current();
    app.hmp
        .logins
        .touch(&token, &users, Instant::now(), time::unix_ms())
        .ok_or_else(HmpError::not_authorized)
}

/// Viewers read; operators also record (start, pause, resume, stop);
/// administrators do everything.
pub fn allow(login: &Login, action: &Action) -> Result<(), HmpError> {
    let needed = match action {
        a if !a.writes() => Role::Viewer,
        Action::StartRecording(_) | Action::ChangeRecording(_) | Action::StopRecording(_) => {
            Role::Operator
        }
        _ => Role::Administrator,
    };
    if login.role.allows(needed) {
        return Ok(());
    }
    let may = match login.role {
        Role::Viewer => "may only read",
        Role::Operator => "may only read and record",
        Role::Administrator => "may do anything",
    };
    Err(HmpError::forbidden(format!(
        "User {} has the role {}, which {may}",
        login.username,
        login.role.as_str()
    )))
}

/// The session information of a login, with every key of the seed's
/// example (hmp.md DEC-4): `sessionId` is the cookie's value.
pub fn session_info(login: &Login) -> Value {
    let role = role_json(login.role);
    json!({
        "id": null,
        "sessionId": login.token,
        "username": login.username,
        "admin": login.role == Role::Administrator,
        "groups": [],
        "roleIds": [role["id"]],
        "roles": [role],
        "sessions": {},
        "assets": {},
        "ldapUser": false,
        "displayName": login.username,
        "expires": time::iso8601(login.expires_unix_ms),
    })
}

/// A role as HMP names its default roles (hmp.md §3.2): operator is
/// "Content Creator".
fn role_json(role: Role) -> Value {
    let (id, name, permissions): (&str, &str, &[&str]) = match role {
        Role::Administrator => ("admin", "Administrator", &["All"]),
        Role::Operator => (
            "contentcreator",
            "Content Creator",
            &[
                "Sources - VIEW",
                "Sessions - VIEW",
                "Sessions - RECORD",
                "Recordings - VIEW",
                "Recordings - DOWNLOAD",
                "Recordings - RECORD",
                "System - VIEW",
            ],
        ),
        Role::Viewer => (
            "viewer",
            "Viewer",
            &[
                "Sources - VIEW",
                "Sessions - VIEW",
                "Recordings - VIEW",
                "Recordings - DOWNLOAD",
                "System - VIEW",
            ],
        ),
    };
    json!({ "id": id, "name": name, "admin": role == Role::Administrator, "permissions": permissions })
}

/// `username` and `password`, both strings.
pub fn credentials(body: Option<&Value>) -> Result<(String, String), HmpError> {
    let field = |name: &str| {
        body.and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HmpError::input(format!("{name} is required, as a string")))
    };
    Ok((field("username")?, field("password")?))
}

/// The value of the session cookie, from any `Cookie` header.
fn cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
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

async fn log_failure(app: &App, username: &str, ip: Option<IpAddr>, locks: &NewLocks) {
    let peer = ip.map(Peer::of);
    tracing::info!(user = %username, peer = %show(peer), "login failed");
    if locks.any() {
        tracing::warn!(
            user = locks.user.as_deref().unwrap_or("-"),
            peer = %locks.address.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            minutes = super::lockout::LOCK.as_secs() / 60,
            "logins locked after repeated failures"
        );
        respond::record_lockout(app, locks, ip).await;
    }
}
