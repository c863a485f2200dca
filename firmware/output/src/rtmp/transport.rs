//! The connection under RTMP: TCP, or TLS over TCP for `rtmps`, with
//! every wait bounded and a stop seen between short waits.
//!
//! TLS trusts the system's certificate authorities: the PEM bundle at
//! `SSL_CERT_FILE` when that is set (as OpenSSL reads it), else Debian's
//! `/etc/ssl/certs/ca-certificates.crt`. The server's certificate must
//! name the URL's host.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use makara_config::RtmpUrl;
use rustls::pki_types::ServerName;
use socket2::{Domain, Protocol, Socket, Type};

use super::settings::Marking;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// Where the system keeps its bundle of certificate authorities.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The environment variable that names another bundle.
pub const CA_FILE_ENV: &str = "SSL_CERT_FILE";
/// How long one read waits before the stop flag and the deadline are
/// looked at again.
pub const POLL: Duration = Duration::from_millis(50);

/// A failure, in the words the output's report uses after
/// "rtmp://host:port/app: ".
pub type Failure = String;

/// A connected socket, plain or TLS.
pub enum Transport {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tcp(_) => "Transport::Tcp",
            Transport::Tls(_) => "Transport::Tls",
        })
    }
}

/// A handle that can break the connection from another thread, so that a
/// blocked write ends at once when the output closes.
#[derive(Debug, Clone, Default)]
pub struct Breaker(Arc<Mutex<Option<TcpStream>>>);

impl Breaker {
    fn arm(&self, socket: &TcpStream) {
        if let Ok(clone) = socket.try_clone() {
            *self.lock() = Some(clone);
        }
    }

    pub fn disarm(&self) {
        *self.lock() = None;
    }

    /// Shuts the connection down, if there is one.
    pub fn break_connection(&self) {
        if let Some(socket) = self.lock().take() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<TcpStream>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Transport {
    /// Resolves the host, connects within `timeout`, and for TLS sets up
    /// the session (its handshake runs with the first bytes sent).
    pub fn connect(
        url: &RtmpUrl,
        marking: Marking,
        timeout: Duration,
        breaker: &Breaker,
    ) -> Result<Transport, Failure> {
        let (host, tls) = (url.host(), url.tls());
        let address = resolve(host, url.port())?;
        let socket = marked_socket(address, marking)
            .map_err(|e| format!("cannot open a socket to {address}: {e}"))?;
        socket
            .connect_timeout(&address.into(), timeout)
            .map_err(|e| connect_error(&e))?;
        let socket = TcpStream::from(socket);
        let _ = socket.set_nodelay(true);
        socket
            .set_write_timeout(Some(timeout))
            .map_err(|e| format!("cannot set a write timeout: {e}"))?;
        breaker.arm(&socket);
        if !tls {
            return Ok(Transport::Tcp(socket));
        }
        let config = tls_config()?;
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| format!("TLS: '{host}' is not a name a certificate can carry: {e}"))?;
        let session = ClientConnection::new(config, name).map_err(|e| format!("TLS: {e}"))?;
        Ok(Transport::Tls(Box::new(StreamOwned::new(session, socket))))
    }

    fn socket(&self) -> &TcpStream {
        match self {
            Transport::Tcp(s) => s,
            Transport::Tls(s) => s.get_ref(),
        }
    }

    /// Sends everything, or fails (the write timeout bounds each write).
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let result = match self {
            Transport::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Transport::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
        };
        result.map_err(|e| io_error("sending", &e))
    }

    /// Reads what has arrived, waiting at most `wait`: `Ok(0)` when
    /// nothing came. A closed connection is a failure.
    pub fn receive(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize, Failure> {
        self.socket()
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .map_err(|e| format!("cannot set a read timeout: {e}"))?;
        let result = match self {
            Transport::Tcp(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        };
        match result {
            Ok(0) => Err("the server closed the connection".into()),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(io_error("receiving", &e)),
        }
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, Failure> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}: no address"))
}

/// A TCP socket whose packets, the connection's first included, carry
/// the output's marking.
fn marked_socket(address: SocketAddr, marking: Marking) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if address.is_ipv4() {
        socket.set_tos_v4(u32::from(marking.tos))?;
        socket.set_ttl_v4(u32::from(marking.ttl))?;
    } else {
        socket.set_unicast_hops_v6(u32::from(marking.ttl))?;
    }
    Ok(socket)
}

fn connect_error(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused (nothing listens at that port)".into()
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "no connection within {} s (the server does not answer)",
            super::WAIT.as_secs()
        ),
        _ => format!("cannot connect: {e}"),
    }
}

fn io_error(doing: &str, e: &io::Error) -> Failure {
    // rustls puts its own error inside the io::Error: say it plainly.
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return format!("TLS: {tls}");
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "the server took nothing for {} s while {doing}",
            super::WAIT.as_secs()
        ),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
            "the server closed the connection".into()
        }
        io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        _ => format!("{doing} failed: {e}"),
    }
}

/// TLS 1.2 and 1.3 with ring, trusting the system's authorities.
fn tls_config() -> Result<Arc<ClientConfig>, Failure> {
    let roots = trust_anchors()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The certificate authorities in the bundle that [`CA_FILE_ENV`] names,
/// or in the system's.
fn trust_anchors() -> Result<RootCertStore, Failure> {
    let path = std::env::var_os(CA_FILE_ENV)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| SYSTEM_CA_BUNDLE.into());
    let file = std::fs::File::open(&path).map_err(|e| {
        format!(
            "TLS: cannot read the certificate authorities in {}: {e}",
            path.display()
        )
    })?;
    let mut reader = io::BufReader::new(file);
    let certificates = rustls_pemfile::certs(&mut reader).filter_map(Result::ok);
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(format!(
            "TLS: no certificate authority could be read from {}",
            path.display()
        ));
    }
    Ok(roots)
}

#[cfg(test)]
mod marking_tests {
    use super::*;

    #[test]
    fn the_socket_carries_the_outputs_tos_and_ttl_before_it_connects() {
        let marking = Marking { tos: 0x88, ttl: 17 };
        let socket = marked_socket("127.0.0.1:1935".parse().unwrap(), marking).unwrap();
        assert_eq!(socket.tos_v4().unwrap(), 0x88);
        assert_eq!(socket.ttl_v4().unwrap(), 17);
    }
}
