//! The HTTPS certificate: supplied by the operator, or generated and kept
//! in the data directory (renewed before it expires, see [`self_signed`]),
//! and changed in the running server without a restart (see [`live`]).

mod live;
mod self_signed;

use std::fs;
use std::io::{BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use thiserror::Error;

pub use live::{live_server_config, load_pair, CertKeeper, Checked, HostName, LiveCert};
pub use self_signed::{ensure_self_signed, CertStatus, Renewal, RENEW_BEFORE};

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("{0} holds no PEM private key")]
    NoKey(PathBuf),
    #[error("the self-signed certificate could not be generated: {0}")]
    Generate(String),
    #[error("the certificate and key cannot be used: {0}")]
    Config(#[from] rustls::Error),
}

/// Where the certificate and key are.
#[derive(Debug, Clone)]
pub struct CertPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertPaths {
    /// The generated pair's place in the data directory.
    pub fn in_data_dir(data_dir: &Path) -> CertPaths {
        let dir = data_dir.join("tls");
        CertPaths {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

/// Writes a file whole or not at all (a temporary file, fsync, rename),
/// readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    let write_error = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(write_error)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    fs::rename(&tmp, path).map_err(write_error)
}

/// A rustls server configuration for the pair, HTTP/1.1 only.
pub fn server_config(paths: &CertPaths) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(&paths.cert)?;
    let key = read_key(&paths.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn open(path: &Path) -> Result<BufReader<fs::File>, TlsError> {
    fs::File::open(path)
        .map(BufReader::new)
        .map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut open(path)?)
        .collect::<Result<_, _>>()
        .map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    rustls_pemfile::private_key(&mut open(path)?)
        .map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .ok_or_else(|| TlsError::NoKey(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn garbage_files_are_clear_errors() {
        let dir = TestDir::new("api-tls-bad");
        let paths = CertPaths {
            cert: dir.join("c.pem"),
            key: dir.join("k.pem"),
        };
        fs::write(&paths.cert, "nothing").unwrap();
        fs::write(&paths.key, "nothing").unwrap();
        assert!(matches!(
            server_config(&paths),
            Err(TlsError::NoCertificate(_))
        ));
    }
}
