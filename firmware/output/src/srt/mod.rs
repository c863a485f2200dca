//! SRT outputs: the stream to every connected peer, seven TS packets per
//! message, from the sender's thread without ever waiting on the network.
//!
//! Each output has a thread of its own that makes the connections: a
//! caller or a rendezvous connects, and when the peer goes away connects
//! again, 250 ms after the loss and then at doubling intervals up to 2 s;
//! a listener accepts callers, up to [`MAX_CALLERS`] at once, each sent
//! the same stream. The sender hands each message to every peer's send
//! buffer; a peer whose buffer is full loses that message (counted in its
//! link's dropped packets), one whose connection is gone is dropped, and
//! neither touches the others.

mod link;
mod peers;
mod settings;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use makara_srt::{SrtListener, SrtSocket};

use crate::datagram::{Datagrams, TS_PACKET_LEN};
use crate::status::OutputStatus;
use crate::udp::OutputError;
use link::SrtLink;
use peers::Peers;

pub use settings::{packets_per_message, SrtOutputSettings, SrtRole};

/// TS packets per SRT message: 1316 bytes, the live payload every SRT
/// implementation expects.
pub const PACKETS_PER_MESSAGE: usize = 7;
/// Callers one listener output serves at once; more are refused (and
/// logged) until one leaves. Each costs a send buffer and a copy of the
/// stream on the uplink.
pub const MAX_CALLERS: usize = 16;
/// The first wait before connecting again, doubled after each failure.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long one connection attempt may take (libsrt's own default).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one wait for a caller lasts, so that a close is seen promptly.
const ACCEPT_POLL: Duration = Duration::from_millis(100);
/// How often the links' statistics are read into the report.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// An open SRT output.
pub struct SrtSender {
    settings: SrtOutputSettings,
    peers: Arc<Peers<SrtLink>>,
    status: Arc<OutputStatus>,
    stop: Arc<AtomicBool>,
    /// The listener's accept thread, joined on drop. A caller's thread is
    /// not: an attempt under way may last [`CONNECT_TIMEOUT`], and the
    /// thread ends on its own after it.
    acceptor: Option<JoinHandle<()>>,
    /// Where a listener listens (with the port chosen, if 0 was asked).
    listening: Option<SocketAddr>,
    message: Datagrams,
}

impl std::fmt::Debug for SrtSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtSender")
            .field("settings", &self.settings)
            .field("peers", &self.peers.len())
            .finish()
    }
}

impl SrtSender {
    /// A listener binds its port now (a port in use fails the start); a
    /// caller or rendezvous starts connecting in the background.
    pub fn open(mut settings: SrtOutputSettings) -> Result<SrtSender, OutputError> {
        let listener = match settings.role {
            SrtRole::Listener { bind, port } => {
                let listener =
                    SrtListener::bind(SocketAddr::new(bind, port), &link::srt_settings(&settings))
                        .map_err(|e| OutputError::SrtListen {
                            output: settings.name.clone(),
                            endpoint: settings.endpoint().to_string(),
                            reason: e.to_string(),
                        })?;
                // The port chosen, when 0 was asked (tests).
                settings.role = SrtRole::Listener {
                    bind,
                    port: listener.local_addr().port(),
                };
                Some(listener)
            }
            _ => None,
        };
        let (waiting, capacity) = match listener {
            Some(_) => (
                format!("no caller connected to {}", settings.endpoint()),
                MAX_CALLERS,
            ),
            None => (format!("{}: connecting", what(&settings)), 1),
        };
        let status = Arc::new(OutputStatus::waiting(&settings.name, waiting.clone()));
        let peers = Arc::new(Peers::new(Arc::clone(&status), capacity, waiting));
        let stop = Arc::new(AtomicBool::new(false));
        let listening = listener.as_ref().map(SrtListener::local_addr);
        let acceptor = match listener {
            Some(listener) => {
                let job = Acceptor {
                    listener,
                    settings: settings.clone(),
                    peers: Arc::clone(&peers),
                    stop: Arc::clone(&stop),
                };
                Some(spawn(&settings, move || job.run())?)
            }
            None => {
                let job = Connector {
                    settings: settings.clone(),
                    peers: Arc::clone(&peers),
                    stop: Arc::clone(&stop),
                };
                spawn(&settings, move || job.run())?;
                None
            }
        };
        let message = Datagrams::new(settings.packets_per_message);
        Ok(SrtSender {
            settings,
            peers,
            status,
            stop,
            acceptor,
            listening,
            message,
        })
    }

    /// A listener's bound address; `None` for a caller or rendezvous.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listening
    }

    /// Hands every message the packets complete to every peer; returns the
    /// bytes at least one peer took.
    pub fn send<'p>(&mut self, packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>) -> u64 {
        let mut sent = 0;
        let mut gone = Vec::new();
        for packet in packets {
            if let Some(message) = self.message.push(packet) {
                if self.peers.send(message, &mut |who, why| {
                    gone.push((who.to_string(), why.to_string()))
                }) {
                    sent += message.len() as u64;
                }
            }
        }
        self.left(gone);
        sent
    }

    /// Sends the unfinished message, shorter.
    pub fn flush(&mut self) {
        let mut gone = Vec::new();
        if let Some(message) = self.message.flush() {
            self.peers.send(message, &mut |who, why| {
                gone.push((who.to_string(), why.to_string()))
            });
        }
        self.left(gone);
    }

    pub fn status(&self) -> Arc<OutputStatus> {
        Arc::clone(&self.status)
    }

    pub fn settings(&self) -> &SrtOutputSettings {
        &self.settings
    }

    /// Peers dropped by a send: logged, and a caller's report says why
    /// until it is connected again.
    fn left(&self, gone: Vec<(String, String)>) {
        for (who, why) in gone {
            tracing::warn!(output = %self.settings.name, "SRT peer gone: {who}: {why}");
            if !matches!(self.settings.role, SrtRole::Listener { .. }) {
                self.peers
                    .set_waiting(format!("{}: {why}; reconnecting", what(&self.settings)));
            }
        }
    }
}

impl Drop for SrtSender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            if acceptor.join().is_err() {
                tracing::error!(output = %self.settings.name, "the SRT accept thread panicked");
            }
        }
        self.peers.clear();
    }
}

/// "SRT caller to host:9000", as a caller's or rendezvous's messages begin.
fn what(settings: &SrtOutputSettings) -> String {
    match &settings.role {
        SrtRole::Caller { host, port } => format!("SRT caller to {}", host_port(host, *port)),
        SrtRole::Rendezvous {
            host,
            port,
            local_port,
        } => format!(
            "SRT rendezvous with {} from port {local_port}",
            host_port(host, *port)
        ),
        SrtRole::Listener { .. } => settings.endpoint().to_string(),
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn spawn(
    settings: &SrtOutputSettings,
    job: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, OutputError> {
    thread::Builder::new()
        .name("srt output".into())
        .spawn(job)
        .map_err(|e| OutputError::SrtListen {
            output: settings.name.clone(),
            endpoint: settings.endpoint().to_string(),
            reason: format!("no thread for the connection: {e}"),
        })
}

/// A listener's thread: accepts callers until the output closes.
struct Acceptor {
    listener: SrtListener,
    settings: SrtOutputSettings,
    peers: Arc<Peers<SrtLink>>,
    stop: Arc<AtomicBool>,
}

impl Acceptor {
    fn run(self) {
        let name = &self.settings.name;
        let mut reported = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            match self.listener.accept(ACCEPT_POLL) {
                Ok(Some(socket)) => {
                    let who = peer_name(&socket);
                    match self.peers.admit(SrtLink::new(socket), who.clone()) {
                        Ok(count) => {
                            tracing::info!(output = %name, callers = count, "SRT {who} connected")
                        }
                        // Dropping it closes the connection.
                        Err(_refused) => tracing::warn!(output = %name,
                            "SRT {who} refused: {MAX_CALLERS} callers are connected already"),
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(output = %name, "SRT caller not accepted: {e}");
                    self.peers.set_waiting(format!(
                        "no caller connected to {}; the last one failed: {}",
                        self.settings.endpoint(),
                        link::describe(&e)
                    ));
                }
            }
            if reported.elapsed() >= REPORT_INTERVAL {
                self.peers.refresh();
                reported = Instant::now();
            }
        }
    }
}

fn peer_name(socket: &SrtSocket) -> String {
    format!("caller {}", socket.peer())
}

/// A caller's or rendezvous's thread: connects, waits while the peer is
/// there, and connects again with backoff when it is gone.
struct Connector {
    settings: SrtOutputSettings,
    peers: Arc<Peers<SrtLink>>,
    stop: Arc<AtomicBool>,
}

impl Connector {
    fn run(self) {
        let what = what(&self.settings);
        let mut backoff = FIRST_BACKOFF;
        let mut last_failure = String::new();
        while !self.stopped() {
            match self.connect() {
                Ok(socket) => {
                    tracing::info!(output = %self.settings.name, "{what}: connected");
                    last_failure.clear();
                    backoff = FIRST_BACKOFF;
                    if self.peers.admit(SrtLink::new(socket), what.clone()).is_ok() {
                        self.while_connected();
                    }
                }
                Err(reason) => {
                    if reason != last_failure {
                        tracing::warn!(output = %self.settings.name, "{what}: {reason}; retrying");
                        last_failure = reason.clone();
                    }
                    self.peers
                        .set_waiting(format!("{what}: {reason}; retrying"));
                }
            }
            self.sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn connect(&self) -> Result<SrtSocket, String> {
        let srt = link::srt_settings(&self.settings);
        match &self.settings.role {
            SrtRole::Caller { host, port } => {
                let remote = resolve(host, *port)?;
                SrtSocket::call(remote, &srt, CONNECT_TIMEOUT).map_err(|e| link::describe(&e))
            }
            SrtRole::Rendezvous {
                host,
                port,
                local_port,
            } => {
                let remote = resolve(host, *port)?;
                let local = SocketAddr::new(unspecified_like(remote.ip()), *local_port);
                SrtSocket::rendezvous(local, remote, &srt, CONNECT_TIMEOUT)
                    .map_err(|e| link::describe(&e))
            }
            SrtRole::Listener { .. } => Err("a listener does not connect".into()),
        }
    }

    /// Until the sender finds the peer gone, or the output closes.
    fn while_connected(&self) {
        let mut reported = Instant::now();
        while !self.stopped() && self.peers.len() > 0 {
            thread::sleep(ACCEPT_POLL);
            if reported.elapsed() >= REPORT_INTERVAL {
                self.peers.refresh();
                reported = Instant::now();
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn sleep(&self, total: Duration) {
        let step = Duration::from_millis(50);
        let until = Instant::now() + total;
        while !self.stopped() && Instant::now() < until {
            thread::sleep(step.min(until.saturating_duration_since(Instant::now())));
        }
    }
}

/// The peer's address; a name is looked up before every attempt, so that
/// a peer that moved is found.
fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}: no address"))
}

fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}
