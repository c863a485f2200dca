//! Accepting connections: HTTPS for the API, and a plain-HTTP answer that
//! says the API needs HTTPS.
//!
//! Connection slots are bounded ([`MAX_CONNECTIONS`] in all,
//! [`MAX_PER_PEER`] per address) but never queued: the accept loop always
//! accepts, and a new connection that finds a bound reached takes the slot
//! of the least valuable one in its way ([`slots`]). A connection is a
//! stranger until an answer on it carries [`crate::handler::Authenticated`];
//! strangers get short timeouts ([`connection`], [`service`]) and are shed
//! first, so idle or trickling clients cannot keep one that has proved a
//! key from being answered.

mod body;
mod connection;
mod limits;
mod open_files;
mod plain;
mod refusals;
mod service;
mod slots;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use connection::{HANDSHAKE_TIMEOUT, PROVEN_IDLE_TIMEOUT, STRANGER_IDLE_TIMEOUT};
pub use limits::{MAX_HEADERS, MAX_HEAD_BYTES, MAX_URI_BYTES};
pub use plain::{serve_plain, LocalAddr};
pub use service::{PROVEN_BODY_TIMEOUT, STRANGER_BODY_TIMEOUT};

use connection::Shared;
use slots::{Limits, Slots};

/// The most connections held at once (fewer if the open-file limit is low,
/// see [`open_files`]).
pub const MAX_CONNECTIONS: usize = 512;
/// The most connections one peer address (an IPv6 /64) holds at once.
pub const MAX_PER_PEER: usize = 32;

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Limits {
        total: open_files::connection_bound(MAX_CONNECTIONS),
        per_peer: MAX_PER_PEER,
    };
    tracing::debug!(
        total = limits.total,
        per_peer = limits.per_peer,
        "connection limits"
    );
    let slots = Arc::new(Slots::new(limits));
    let shared = Arc::new(Shared::new(TlsAcceptor::from(tls), app));
    tokio::pin!(shutdown);
    loop {
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
        match slots.admit(peer.ip(), Instant::now()) {
            Ok(slot) => {
                tokio::spawn(connection::run(stream, peer, slot, Arc::clone(&shared)));
            }
            // Closing at once tells the client more than a queue would.
            Err(refused) => tracing::debug!(%peer, ?refused, "connection refused"),
        }
    }
}
