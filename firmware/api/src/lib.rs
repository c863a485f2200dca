//! The appliance's HTTP API: the Kraken XML REST API v1.0 over HTTPS with
//! two-legged OAuth 1.0, and a subset of the HMP JSON API with login
//! sessions ([`hmp`]).
//!
//! This is the only crate that knows HTTP, XML and JSON. It turns each request
//! into one [`makara_supervisor::Command`] and writes the reply back as the
//! contract's XML. The routing, parsing and rendering are plain functions
//! ([`kraken::route`], [`kraken::render`]), tested without sockets; the
//! server around them is [`server::serve`].

#![forbid(unsafe_code)]

pub mod access;
pub mod body;
pub mod discovery;
pub mod guard;
pub mod handler;
pub mod hmp;
pub mod kraken;
pub mod metrics;
pub mod oauth;
pub mod onvif;
pub mod server;
pub mod tls;
mod xml;

use std::sync::Arc;

use axum::Router;

pub use handler::App;

/// The axum router: one handler for every path, since the Kraken routing
/// table lives in [`kraken::route`].
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handler::handle).with_state(app)
}
