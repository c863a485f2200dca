//! One keep-alive HTTPS connection and OAuth-signed requests over it.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::body::Body as _;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use makara_test_support::oauth::Signer;
use rand::Rng as _;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What every connection and request to one URL shares.
pub struct Endpoint {
    signer: Signer,
    skew_secs: u64,
    /// `host` or `host:port`, as sent in `Host` and signed.
    authority: String,
    /// Host name without IPv6 brackets, and port, to connect to.
    host: String,
    port: u16,
    path: String,
    /// RFC 5849 §3.4.1.2 base string URI.
    base_uri: String,
    tls: TlsConnector,
}

impl Endpoint {
    pub fn new(args: &crate::Args) -> Result<Self, Error> {
        let uri: Uri = args.url.parse()?;
        let authority = match uri.authority() {
            Some(a) if uri.scheme_str() == Some("https") && uri.query().is_none() => a,
            _ => return Err(format!("{}: need an https URL, no query", args.url).into()),
        };
        let lower = authority.as_str().to_ascii_lowercase();
        let base_host = lower.strip_suffix(":443").unwrap_or(&lower);
        Ok(Self {
            signer: Signer::new(args.key.as_str(), args.secret.as_str()),
            skew_secs: args.timestamp_skew_secs,
            authority: authority.as_str().to_owned(),
            host: authority.host().trim_matches(['[', ']']).to_owned(),
            port: authority.port_u16().unwrap_or(443),
            path: uri.path().to_owned(),
            base_uri: format!("https://{base_host}{}", uri.path()),
            tls: tls_connector(&args.ca)?,
        })
    }

    /// Opens a connection and completes the TLS and HTTP/1.1 handshakes.
    pub async fn connect(&self) -> Result<SendRequest<String>, Error> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(self.host.clone())?;
        let tls = self.tls.connect(name, tcp).await?;
        let (sender, conn) = http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        Ok(sender)
    }

    /// Sends one freshly signed request and reads the whole response.
    pub async fn send(
        &self,
        sender: &mut SendRequest<String>,
        method: &str,
        body: String,
    ) -> Result<(StatusCode, Vec<u8>), Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(self.path.as_str())
            .header("host", self.authority.as_str())
            .header("authorization", self.authorization(method));
        if !body.is_empty() {
            request = request.header("content-type", "application/xml");
        }
        sender.ready().await?;
        let response = sender.send_request(request.body(body)?).await?;
        let status = response.status();
        let mut incoming = response.into_body();
        let mut data = Vec::new();
        while let Some(frame) =
            std::future::poll_fn(|cx| Pin::new(&mut incoming).poll_frame(cx)).await
        {
            if let Ok(chunk) = frame?.into_data() {
                data.extend_from_slice(&chunk);
            }
        }
        Ok((status, data))
    }

    /// A two-legged OAuth 1.0 HMAC-SHA1 `Authorization` header (RFC 5849
    /// §3.5.1) with a new nonce and the current time (less the skew).
    fn authorization(&self, method: &str) -> String {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs().saturating_sub(self.skew_secs));
        let nonce = format!("{:032x}", rand::thread_rng().gen::<u128>());
        self.signer
            .authorization(method, &self.base_uri, &nonce, timestamp)
    }
}

/// A TLS client that trusts only the certificates in the PEM file `ca`.
fn tls_connector(ca: &Path) -> Result<TlsConnector, Error> {
    let file = File::open(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
        roots.add(cert?)?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no PEM certificate", ca.display()).into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
