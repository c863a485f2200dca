//! The HTTP service of one connection: the router, plus what the
//! connection's slot needs to know about each request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use tower::ServiceExt;

use super::body::Deadline;
use super::limits;
use super::slots::Slot;
use crate::handler::{self, Authenticated};
use crate::hmp;

/// How long a connection that has proved a key may take to send a body.
pub const PROVEN_BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stranger may take to send a body after its headers.
pub const STRANGER_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves requests of one connection with `app`, marking the slot busy
/// while a request is served and proven once an answer says so.
#[derive(Debug, Clone)]
pub struct ConnectionService {
    app: Router,
    slot: Arc<Slot>,
}

impl ConnectionService {
    pub fn new(app: Router, slot: Arc<Slot>) -> ConnectionService {
        ConnectionService { app, slot }
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Answer {
        if let Err(e) = limits::check_uri(request.uri()) {
            // An HMP path gets HMP's JSON error; hyper's own 431 (head too
            // large, path unread) stays Kraken's.
            let answer = if hmp::owns(request.uri().path()) {
                hmp::error_response(&hmp::HmpError::uri_too_long(limits::MAX_URI_BYTES))
            } else {
                handler::error(&e)
            };
            return Box::pin(async move { Ok(answer) });
        }
        let proven = self.slot.begin_request();
        let limit = if proven {
            PROVEN_BODY_TIMEOUT
        } else {
            STRANGER_BODY_TIMEOUT
        };
        let request = request.map(|body| Body::new(Deadline::new(body, limit)));
        let app = self.app.clone();
        let slot = Arc::clone(&self.slot);
        Box::pin(async move {
            let Ok(response) = app.oneshot(request).await;
            let authenticated = response.extensions().get::<Authenticated>().is_some();
            slot.end_request(authenticated, Instant::now());
            Ok(response)
        })
    }
}
