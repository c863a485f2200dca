//! The certificate makarad makes for itself in `DATA_DIR/tls/`: named for
//! this host (subject CN and subjectAltName, beside `localhost`, 127.0.0.1
//! and ::1), valid for [`VALIDITY`], and made anew (at start, and at each
//! check while serving, see [`super::live`]) when it would expire within
//! [`RENEW_BEFORE`], no longer names the host, or cannot be used. A
//! certificate the operator put in its place is never touched.
//!
//! `tls/generated.pem` tells the two apart: it holds the certificates
//! makarad made here (the newest, and the one it replaced), so `cert.pem` is
//! makarad's own exactly while it is one of them.

use std::fs;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use thiserror::Error;

use super::{read_certs, server_config, write_private, CertPaths, TlsError};

const DAY: u64 = 86_400;
/// How long a made certificate is valid: 825 days, the longest that
/// Apple's systems accept for a TLS server certificate, self-signed or not.
pub const VALIDITY: Duration = Duration::from_secs(825 * DAY);
/// makarad's certificate is made anew at a check when it expires sooner.
pub const RENEW_BEFORE: Duration = Duration::from_secs(30 * DAY);
/// The subject makarad gave its certificates before `generated.pem` existed
/// (rcgen's default): those are makarad's too.
const LEGACY_SUBJECT: &[u8] = b"rcgen self signed cert";

/// What [`ensure_self_signed`] found in the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertStatus {
    /// The operator's certificate: used as it is, never replaced.
    Operator,
    /// makarad's own, good for this host beyond [`RENEW_BEFORE`].
    Current,
    /// makarad made a new one, for this reason.
    Generated(Renewal),
}

/// Why makarad made a new certificate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Renewal {
    #[error("there was none")]
    Missing,
    #[error("the one there was made by an earlier makarad, without an end date or the host name as subject")]
    Legacy,
    #[error("the one there expires within {} days", RENEW_BEFORE.as_secs() / DAY)]
    Expiring,
    #[error("the one there does not name this host, {0}")]
    Renamed(String),
    #[error("the one there cannot be used: {0}")]
    Unusable(String),
}

/// Makes a certificate for `hostname` in `paths` unless a good one of
/// makarad's, or any of the operator's, is there.
pub fn ensure_self_signed(paths: &CertPaths, hostname: &str) -> Result<CertStatus, TlsError> {
    ensure_self_signed_at(paths, hostname, SystemTime::now())
}

pub(super) fn ensure_self_signed_at(
    paths: &CertPaths,
    hostname: &str,
    now: SystemTime,
) -> Result<CertStatus, TlsError> {
    let made = read_certs(&marker(paths)).unwrap_or_default();
    let host = host_name(hostname);
    let renewal = match read_certs(&paths.cert) {
        Err(_) if !paths.cert.exists() => Renewal::Missing,
        Ok(certs) if made.contains(&certs[0]) => {
            match check(paths, &certs[0], host.as_deref(), now) {
                Ok(()) => return Ok(CertStatus::Current),
                Err(why) => why,
            }
        }
        Ok(certs) if made.is_empty() && is_legacy(&certs[0]) => Renewal::Legacy,
        _ => return Ok(CertStatus::Operator),
    };
    generate(paths, host.as_deref(), now, renewal != Renewal::Missing)?;
    Ok(CertStatus::Generated(renewal))
}

fn marker(paths: &CertPaths) -> std::path::PathBuf {
    paths.cert.with_file_name("generated.pem")
}

/// The host name as a certificate can carry it, unless it is `localhost`
/// (always named) or no DNS name.
fn host_name(hostname: &str) -> Option<String> {
    let name = hostname.trim().to_ascii_lowercase();
    match ServerName::try_from(name.as_str()) {
        Ok(ServerName::DnsName(_)) if name != "localhost" => Some(name),
        _ => None,
    }
}

fn is_legacy(cert: &CertificateDer) -> bool {
    cert.windows(LEGACY_SUBJECT.len())
        .any(|window| window == LEGACY_SUBJECT)
}

/// Whether a client that trusts this certificate would accept it for the
/// host `RENEW_BEFORE` from now, and whether the pair loads at all.
fn check(
    paths: &CertPaths,
    cert: &CertificateDer<'static>,
    host: Option<&str>,
    now: SystemTime,
) -> Result<(), Renewal> {
    let unusable = |e: &dyn std::fmt::Display| Renewal::Unusable(e.to_string());
    server_config(paths).map_err(|e| unusable(&e))?;
    let name = host.unwrap_or("localhost");
    let server_name = ServerName::try_from(name).map_err(|e| unusable(&e))?;
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).map_err(|e| unusable(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| unusable(&e))?;
    let later = UnixTime::since_unix_epoch(since_epoch(now) + RENEW_BEFORE);
    match verifier.verify_server_cert(cert, &[], &server_name, &[], later) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InvalidCertificate(e)) => match e {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                Err(Renewal::Expiring)
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Err(Renewal::Renamed(name.to_string()))
            }
            // The clock is far behind the certificate's start (no real-time
            // clock yet?): a certificate made now would be no better.
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => Ok(()),
            other => Err(unusable(&format!("{other:?}"))),
        },
        Err(e) => Err(unusable(&e)),
    }
}

fn since_epoch(time: SystemTime) -> Duration {
    time.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Writes a new pair. The marker comes first and, on a renewal, still names
/// the certificate being replaced: a crash at any point leaves a
/// `cert.pem` that is recognised as makarad's, and a pair that does not
/// load is made anew at the next start.
fn generate(
    paths: &CertPaths,
    host: Option<&str>,
    now: SystemTime,
    replacing: bool,
) -> Result<(), TlsError> {
    let failed = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut names: Vec<String> = host.map(str::to_string).into_iter().collect();
    names.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
    let mut params = CertificateParams::new(names).map_err(failed)?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, host.unwrap_or("localhost"));
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    // A day's grace for clients whose clocks are a little behind.
    params.not_before = epoch + since_epoch(now).saturating_sub(Duration::from_secs(DAY));
    params.not_after = epoch + since_epoch(now) + VALIDITY;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;

    let mut made = if replacing {
        fs::read(&paths.cert).unwrap_or_default()
    } else {
        Vec::new()
    };
    made.extend_from_slice(cert.pem().as_bytes());
    write_private(&marker(paths), &made)?;
    write_private(&paths.key, key.serialize_pem().as_bytes())?;
    write_private(&paths.cert, cert.pem().as_bytes())
}

#[cfg(test)]
mod tests;
