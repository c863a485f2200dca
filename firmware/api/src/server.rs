//! Accepting connections: HTTPS for the API, and a plain-HTTP answer that
//! says the API needs HTTPS.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::handler;
use crate::kraken::{ApiError, Code};

/// More simultaneous connections than this wait to be accepted.
const MAX_CONNECTIONS: usize = 512;
/// A client must start its TLS handshake within this time.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may wait for its next request's headers.
/// hyper starts this clock when it begins waiting, not at the first byte, so
/// it is also the idle keep-alive limit: a short one races clients that reuse
/// a connection after a pause (an operator script polling every 10 s would
/// meet a closed socket now and then). 75 s is the common web-server choice.
const NEXT_REQUEST_TIMEOUT: Duration = Duration::from_secs(75);
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Running out of descriptors is transient; do not spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            connection(stream, peer, acceptor, app).await;
            drop(permit);
        });
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, acceptor: TlsAcceptor, app: Router) {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    match tokio::time::timeout(CLIENT_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return,
    }
    let http = {
        let mut b = http1::Builder::new();
        b.timer(TokioTimer::new())
            .header_read_timeout(NEXT_REQUEST_TIMEOUT);
        b
    };
    if first[0] != TLS_HANDSHAKE {
        let service = hyper::service::service_fn(|_| async { Ok::<_, Infallible>(needs_https()) });
        let _ = http.serve_connection(TokioIo::new(stream), service).await;
        return;
    }
    let tls = match tokio::time::timeout(CLIENT_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    // The handler limits failed authorisations per client address.
    let service = TowerToHyperService::new(app.layer(Extension(ConnectInfo(peer))));
    if let Err(e) = http.serve_connection(TokioIo::new(tls), service).await {
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
