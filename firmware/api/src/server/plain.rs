//! Plain HTTP under the same connection limits as the API: for the ONVIF
//! device service, which ONVIF clients reach at `http://host:port/onvif/…`
//! and which authenticates each request inside its SOAP body.
//!
//! Slots, per-address bounds, shedding and stranger timeouts are the
//! API's own ([`super::slots`], [`super::connection`]); a connection is
//! proven once an answer on it carries [`crate::handler::Authenticated`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::connection::{http_builder, idle_stranger};
use super::service::ConnectionService;
use super::slots::{Limits, Slot, Slots};
use super::{open_files, MAX_CONNECTIONS, MAX_PER_PEER};

/// The address of this end of a connection, as the client reached it: put
/// in every request's extensions by [`serve_plain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr(pub SocketAddr);

/// Serves `app` over plain HTTP on `listener` until `shutdown` completes.
pub async fn serve_plain(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let limits = Limits {
        total: open_files::connection_bound(MAX_CONNECTIONS),
        per_peer: MAX_PER_PEER,
    };
    let slots = Arc::new(Slots::new(limits));
    let http = Arc::new(http_builder());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match slots.admit(peer.ip(), Instant::now()) {
            Ok(slot) => {
                let app = app.clone();
                tokio::spawn(run(stream, peer, slot, app, Arc::clone(&http)));
            }
            Err(refused) => tracing::debug!(%peer, ?refused, "connection refused"),
        }
    }
}

async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    app: Router,
    http: Arc<http1::Builder>,
) {
    let slot = Arc::new(slot);
    let why = tokio::select! {
        () = serve(stream, peer, &slot, app, &http) => return,
        () = slot.shed() => "shed to make room for a newer connection",
        () = idle_stranger(&slot) => "a stranger sent no request in time",
    };
    tracing::debug!(%peer, why, "connection closed");
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    slot: &Arc<Slot>,
    app: Router,
    http: &http1::Builder,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let app = app
        .layer(Extension(ConnectInfo(peer)))
        .layer(Extension(LocalAddr(local)));
    let service = ConnectionService::new(app, Arc::clone(slot));
    if let Err(e) = http.serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
