//! The certificate of a running server, changed without a restart: new
//! handshakes get whichever pair [`LiveCert`] holds at that moment, while
//! connections already open keep the session they made. [`CertKeeper`]
//! decides when to change it: at start and then at each periodic check
//! (makarad's own certificate renewed within [`RENEW_BEFORE`] of its end,
//! and a pair changed on disk, the operator's included, loaded).
//!
//! [`RENEW_BEFORE`]: super::self_signed::RENEW_BEFORE

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use super::self_signed::{ensure_self_signed_at, CertStatus};
use super::{read_certs, read_key, CertPaths, TlsError};

/// The pair every new handshake is answered with.
#[derive(Debug)]
pub struct LiveCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl LiveCert {
    pub fn new(pair: Arc<CertifiedKey>) -> LiveCert {
        LiveCert {
            current: RwLock::new(pair),
        }
    }

    /// The pair being served now.
    pub fn serving(&self) -> Arc<CertifiedKey> {
        // A panic while holding the lock cannot leave a half-written Arc.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Serves `pair` from the next handshake on.
    pub fn swap(&self, pair: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = pair;
    }
}

impl ResolvesServerCert for LiveCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.serving())
    }
}

/// Loads the pair in `paths`, refusing a key that does not belong to the
/// certificate (as a half-finished copy would leave it).
pub fn load_pair(paths: &CertPaths) -> Result<Arc<CertifiedKey>, TlsError> {
    let certs = read_certs(&paths.cert)?;
    let key = read_key(&paths.key)?;
    let provider = rustls::crypto::ring::default_provider();
    Ok(Arc::new(CertifiedKey::from_der(certs, key, &provider)?))
}

/// A rustls server configuration answering with `live`, HTTP/1.1 only.
pub fn live_server_config(live: Arc<LiveCert>) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(live);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads the host name the certificate must carry, at each check (it may
/// change while makarad runs).
pub type HostName = Box<dyn Fn() -> String + Send + Sync>;

/// What one check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// What was found in the data directory; `None` for a pair given by
    /// path (`--tls-cert`), which makarad never makes.
    pub status: Option<CertStatus>,
    /// Whether the served pair changed.
    pub swapped: bool,
}

/// Keeps the served certificate current.
pub struct CertKeeper {
    paths: CertPaths,
    /// `Some` when makarad manages the pair (the data directory's).
    own: Option<HostName>,
    live: Arc<LiveCert>,
}

impl std::fmt::Debug for CertKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertKeeper")
            .field("paths", &self.paths)
            .field("own", &self.own.is_some())
            .finish_non_exhaustive()
    }
}

impl CertKeeper {
    /// A keeper of the operator's pair at `paths`: reloaded when it changes.
    pub fn operators(paths: CertPaths) -> Result<CertKeeper, TlsError> {
        let live = Arc::new(LiveCert::new(load_pair(&paths)?));
        Ok(CertKeeper {
            paths,
            own: None,
            live,
        })
    }

    /// A keeper of the data directory's pair, made or renewed first when
    /// needed (see [`super::ensure_self_signed`]); also says what it found.
    pub fn in_data_dir(
        paths: CertPaths,
        host: HostName,
    ) -> Result<(CertKeeper, CertStatus), TlsError> {
        let status = ensure_self_signed_at(&paths, &host(), SystemTime::now())?;
        let live = Arc::new(LiveCert::new(load_pair(&paths)?));
        let keeper = CertKeeper {
            paths,
            own: Some(host),
            live,
        };
        Ok((keeper, status))
    }

    pub fn live(&self) -> Arc<LiveCert> {
        Arc::clone(&self.live)
    }

    pub fn paths(&self) -> &CertPaths {
        &self.paths
    }

    /// Renews makarad's own certificate if it is due at `now`, then serves
    /// the pair on disk if it is not the one served. A pair that does not
    /// load is an error and the served one stays.
    pub fn check_at(&self, now: SystemTime) -> Result<Checked, TlsError> {
        let status = match &self.own {
            Some(host) => {
                self.refuse_a_copy_in_progress()?;
                Some(ensure_self_signed_at(&self.paths, &host(), now)?)
            }
            None => None,
        };
        let on_disk = read_certs(&self.paths.cert)?;
        if on_disk == self.live.serving().cert {
            return Ok(Checked {
                status,
                swapped: false,
            });
        }
        self.live.swap(load_pair(&self.paths)?);
        Ok(Checked {
            status,
            swapped: true,
        })
    }

    /// While serving, a pair of files that does not load is an operator's
    /// copy half done (makarad's own writes end before a check starts), not
    /// a renewal cut short: making a new pair now could overwrite the key
    /// they just put there. The served pair stays until the next check.
    fn refuse_a_copy_in_progress(&self) -> Result<(), TlsError> {
        if self.paths.cert.exists() && self.paths.key.exists() {
            load_pair(&self.paths)?;
        }
        Ok(())
    }

    /// [`Self::check_at`] now, with what happened logged.
    pub fn check_and_log(&self) {
        let cert = self.paths.cert.display();
        match self.check_at(SystemTime::now()) {
            Ok(checked) => {
                if let Some(CertStatus::Generated(why)) = &checked.status {
                    tracing::info!(%cert, "generated a self-signed certificate: {why}");
                }
                if checked.swapped {
                    tracing::info!(%cert, "now serving the certificate on disk");
                }
            }
            Err(e) => {
                tracing::warn!(%cert, "certificate check failed, still serving the one before: {e}")
            }
        }
    }

    /// Checks every `every` (after the first `every`) until the runtime
    /// stops. The check reads files and may make a key, so it runs on a
    /// blocking thread.
    pub fn spawn_checks(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let keeper = Arc::clone(&self);
                let _ = tokio::task::spawn_blocking(move || keeper.check_and_log()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests;
