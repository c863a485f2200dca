//! The HMP JSON API subset (seed 001, digested in
//! `../shared/research/hmp.md`): login sessions with the
//! `calypso-session-id` cookie, the box's outputs as sources, sessions
//! (groups of sources), local recordings and the assets they leave, the
//! event list and the version; every other seed path answers as the seed
//! does for things that do not exist (`routes`).
//!
//! A request's life: the API switch, the route, then (for everything but
//! the login itself) the cookie's session and the user's role, then the
//! body (JSON only, bounded like Kraken's), then one supervisor command,
//! and the reply written in HMP's words (`views`).

mod auth;
mod bodies;
mod body;
mod credentials;
mod download;
mod error;
mod errors;
pub(crate) mod lockout;
mod login;
mod query;
mod respond;
mod routes;
mod thumbs;
pub(crate) mod time;
mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::request::Parts;
use axum::response::Response;
use makara_access::users::{UserWatch, USERS_POLL_INTERVAL};

pub use credentials::{prove_user, Refusal};
pub use download::ByteRange;
pub use error::HmpError;
pub use login::{DEFAULT_IDLE, IDLE_RANGE_SECS};
pub use respond::error as error_response;

use crate::handler::{App, Authenticated};
use routes::Action;

/// The name of the session cookie (HMP's own).
pub const COOKIE: &str = "calypso-session-id";

/// What the HMP routes keep between requests.
#[derive(Debug)]
pub struct Hmp {
    // The ONVIF service checks the same users under the same lockout.
    pub(crate) users: Arc<UserWatch>,
    logins: login::LoginSessions,
    pub(crate) lockout: lockout::Lockout,
    thumbs: thumbs::Thumbs,
}

impl Hmp {
    /// `idle`: how long a login session lives without a request.
    pub fn new(users: Arc<UserWatch>, idle: Duration) -> Hmp {
        Hmp {
            users,
            logins: login::LoginSessions::new(idle),
            lockout: lockout::Lockout::default(),
            thumbs: thumbs::Thumbs::default(),
        }
    }

    /// Re-reads the users every [`USERS_POLL_INTERVAL`], so
    /// `makarad user …` takes effect while serving.
    pub fn spawn_users_poller(&self) {
        let users = Arc::clone(&self.users);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(USERS_POLL_INTERVAL);
            loop {
                tick.tick().await;
                let u = Arc::clone(&users);
                // File reads block; keep them off the async workers.
                let read = tokio::task::spawn_blocking(move || u.refresh()).await;
                match read {
                    Ok(Ok(true)) => tracing::info!("users changed"),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "the users could not be read; keeping the previous ones")
                    }
                    _ => {}
                }
            }
        });
    }
}

/// Everything the HMP API decides about a request on its own, without the
/// supervisor, a session or a socket: the route, the list query, the JSON
/// body and the typed request read from it, and a `Range` header against a
/// file of `file_len` bytes. For the fuzz target (`fuzz/`) and tests: any
/// input gives `Ok` or an error document, never a panic.
pub fn examine(
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    range: Option<&str>,
    file_len: u64,
) -> Result<Option<download::ByteRange>, HmpError> {
    let action = routes::route(method, path)?;
    query::ListQuery::parse(query, true)?;
    let json = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(body)
                .map_err(|e| HmpError::input(format!("The body is not valid JSON: {e}")))?,
        )
    };
    respond::check_body(&action, json.as_ref())?;
    match download::wanted(range, file_len) {
        download::Wanted::Part(r) => Ok(Some(r)),
        download::Wanted::Whole => Ok(None),
        download::Wanted::Unsatisfiable => Err(HmpError::range_not_satisfiable(file_len)),
    }
}

/// The first segments under `/apis/` of the seed's paths.
const FAMILIES: [&str; 11] = [
    "authentication",
    "system",
    "users",
    "groups",
    "sources",
    "sessions",
    "recordings",
    "categories",
    "assets",
    "streams",
    "events",
];

/// Whether `path` belongs to the HMP API: under `/apis/`, in one of the
/// seed's path families. Every other path under `/apis/` stays Kraken's
/// (1006 "Unknown API function requested" for one it does not know).
pub fn owns(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/apis/") else {
        return false;
    };
    let first = rest.split('/').next().unwrap_or_default();
    FAMILIES.contains(&first)
}

/// Answers one HMP request. Never fails: every problem becomes an HMP
/// error document. An answer given to a logged-in session (or to a good
/// login) carries [`Authenticated`], as a Kraken answer to a good
/// signature does.
pub async fn handle(app: &App, parts: Parts, body: Body) -> Response {
    let mut proven = false;
    let mut response = match answer(app, &parts, body, &mut proven).await {
        Ok(response) => response,
        Err(e) => respond::error(&e),
    };
    if proven {
        response.extensions_mut().insert(Authenticated);
    }
    response
}

async fn answer(
    app: &App,
    parts: &Parts,
    body: Body,
    proven: &mut bool,
) -> Result<Response, HmpError> {
    if !app.access.current().enabled {
        crate::body::drain(body);
        return Err(HmpError::api_disabled());
    }
    let action = match routes::route(parts.method.as_str(), parts.uri.path()) {
        Ok(action) => action,
        Err(e) => {
            crate::body::drain(body);
            return Err(e);
        }
    };
    match action {
        Action::Login => {
            let response = auth::login(app, parts, body).await?;
            *proven = true;
            Ok(response)
        }
        Action::Logout => {
            crate::body::drain(body);
            auth::logout(app, parts)
        }
        action => {
            let session = match auth::session(app, parts) {
                Ok(s) => s,
                Err(e) => {
                    crate::body::drain(body);
                    return Err(e);
                }
            };
            *proven = true;
            if let Err(e) = auth::allow(&session, &action) {
                crate::body::drain(body);
                return Err(e);
            }
            // Only a POST or PUT carries a request; a DELETE's body, like a
            // GET's, is drained and ignored.
            let takes_body = matches!(parts.method.as_str(), "POST" | "PUT");
            let body = body::read(app, parts, body, takes_body).await?;
            respond::act(app, parts, &session, action, body).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::owns;

    #[test]
    fn hmp_owns_the_seeds_path_families_and_kraken_the_rest() {
        for path in [
            "/apis/authentication/login",
            "/apis/sources",
            "/apis/streams/x/seek",
        ] {
            assert!(owns(path), "{path}");
        }
        for path in [
            "/apis/kraken/streams",
            "/apis/servers",
            "/apis/unknown",
            "/apis",
            "/",
            "/sources",
        ] {
            assert!(!owns(path), "{path}");
        }
    }
}
