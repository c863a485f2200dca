//! One accepted connection, from its first byte to its close.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::limits::{BUFFER_BYTES, MAX_HEADERS, MAX_HEAD_BYTES};
use super::refusals::KrakenRefusals;
use super::service::ConnectionService;
use super::slots::{Slot, Watch};
use crate::handler;
use crate::kraken::{ApiError, Code};

/// A client must send its first byte and finish its TLS handshake within
/// this time of being accepted.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// A stranger must send each request's line and headers within this time
/// of being accepted or answered; it is closed when it stays idle longer.
pub const STRANGER_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection that has proved a key may wait for its next
/// request's headers. hyper starts this clock when it begins waiting, not
/// at the first byte, so it is also the idle keep-alive limit: a short one
/// races clients that reuse a connection after a pause (an operator script
/// polling every 10 s would meet a closed socket now and then). 75 s is
/// the common web-server choice.
pub const PROVEN_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// What every connection task shares.
pub struct Shared {
    acceptor: TlsAcceptor,
    app: Router,
    http: http1::Builder,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub fn new(acceptor: TlsAcceptor, app: Router) -> Shared {
        Shared {
            acceptor,
            app,
            http: http_builder(),
        }
    }
}

/// HTTP/1.1 with the API's bounds on heads and their timing (the plain
/// ONVIF listener's too).
pub(super) fn http_builder() -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(PROVEN_IDLE_TIMEOUT)
        .max_buf_size(BUFFER_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        // One write per response head: what `KrakenRefusals` relies on.
        .writev(false);
    http
}

/// Serves the connection until it ends, its slot is shed, or it stays an
/// idle stranger too long.
pub async fn run(stream: TcpStream, peer: SocketAddr, slot: Slot, shared: Arc<Shared>) {
    let slot = Arc::new(slot);
    let why = tokio::select! {
        () = serve(stream, peer, &slot, &shared) => return,
        () = slot.shed() => "shed to make room for a newer connection",
        () = idle_stranger(&slot) => "a stranger sent no request in time",
    };
    tracing::debug!(%peer, why, "connection closed");
}

/// Completes when the connection is a stranger idle for longer than
/// [`STRANGER_IDLE_TIMEOUT`]; never once it has proved a key.
pub(super) async fn idle_stranger(slot: &Slot) {
    loop {
        match slot.watch(STRANGER_IDLE_TIMEOUT, Instant::now().into_std()) {
            Watch::Gone => return,
            Watch::Proven => std::future::pending().await,
            Watch::CloseIdleAt(at) => {
                if at <= Instant::now().into_std() {
                    return;
                }
                tokio::time::sleep_until(at.into()).await;
            }
        }
    }
}

async fn serve(stream: TcpStream, peer: SocketAddr, slot: &Arc<Slot>, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let handshake_ends = Instant::now() + HANDSHAKE_TIMEOUT;
    let mut first = [0u8; 1];
    match tokio::time::timeout_at(handshake_ends, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return,
    }
    if first[0] != TLS_HANDSHAKE {
        let service = hyper::service::service_fn(|_| async { Ok::<_, Infallible>(needs_https()) });
        let io = TokioIo::new(KrakenRefusals::new(stream));
        let _ = shared.http.serve_connection(io, service).await;
        return;
    }
    let tls = match tokio::time::timeout_at(handshake_ends, shared.acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    // The handler limits failed authorisations per client address.
    let app = shared.app.clone().layer(Extension(ConnectInfo(peer)));
    let service = ConnectionService::new(app, Arc::clone(slot));
    let io = TokioIo::new(KrakenRefusals::new(tls));
    if let Err(e) = shared.http.serve_connection(io, service).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// The contract lists plain HTTP as a cause of 1014 Not Authorized.
fn needs_https() -> axum::response::Response {
    handler::error(&ApiError::with(
        Code::NotAuthorized,
        "the API is served over HTTPS only",
    ))
}
