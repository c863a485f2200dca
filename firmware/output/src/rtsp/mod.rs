//! RTSP outputs: the stream served at `rtsp://<box>:port/name` to RTSP
//! clients (players, VMSs), as a camera serves its stream, over RTP on
//! UDP or interleaved in the RTSP connection.
//!
//! The output binds its TCP port when it opens, so a port in use fails
//! the stream's start. One output has one port: two outputs on the same
//! port fail the second's start, whatever their paths (see
//! [`RtspError::Listen`]). Each output has one server thread (connections,
//! requests, writing what TCP clients have queued, reading RTCP); the
//! stream's sender thread demuxes the transport stream it is given into
//! access units and audio frames and hands their RTP packets to every
//! playing client without waiting on any ([`clients`]).

mod clients;
mod media;
mod server;
mod settings;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{SystemTime, UNIX_EPOCH};

use socket2::{Domain, Protocol, Socket, Type};
use thiserror::Error;

use crate::datagram::TS_PACKET_LEN;
use crate::status::OutputStatus;
use clients::{lock, Published, Shared, UdpPair, Wake};
use media::Media;
use server::Server;

pub use server::{DESCRIBE_WAIT, MAX_CLIENTS, SESSION_TIMEOUT};
pub use settings::{set_login, RtspSettings};

/// Why an RTSP output could not open.
#[derive(Debug, Error)]
pub enum RtspError {
    #[error("output '{output}' is not an RTSP output")]
    NotRtsp { output: String },
    #[error("output '{output}': cannot listen for RTSP clients on {endpoint}: {reason}")]
    Listen {
        output: String,
        endpoint: String,
        reason: String,
    },
    #[error("output '{output}': no UDP ports for RTP near {endpoint}: {reason}")]
    UdpPorts {
        output: String,
        endpoint: String,
        reason: String,
    },
    #[error("output '{output}': no thread for the RTSP server: {reason}")]
    Thread { output: String, reason: String },
}

/// An open RTSP output.
pub struct RtspOutput {
    settings: RtspSettings,
    shared: Arc<Shared>,
    /// Boxed: the demuxer's state is large beside the other outputs'.
    media: Box<Media>,
    status: Arc<OutputStatus>,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
    local: SocketAddr,
    units: Vec<media::Unit>,
}

impl std::fmt::Debug for RtspOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtspOutput")
            .field("settings", &self.settings)
            .field("local", &self.local)
            .finish()
    }
}

impl RtspOutput {
    /// Binds the port and starts serving: clients that connect before
    /// the stream's first key frame wait for it (at most
    /// [`DESCRIBE_WAIT`]).
    pub fn open(settings: RtspSettings) -> Result<RtspOutput, RtspError> {
        let endpoint = settings.endpoint();
        let listen = |reason: String| RtspError::Listen {
            output: settings.name.clone(),
            endpoint: endpoint.clone(),
            reason,
        };
        let listener =
            TcpListener::bind(SocketAddr::new(settings.bind, settings.port)).map_err(|e| {
                listen(match e.kind() {
                    std::io::ErrorKind::AddrInUse => format!(
                        "port {} is in use (another output or program listens on it)",
                        settings.port
                    ),
                    _ => e.to_string(),
                })
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| listen(e.to_string()))?;
        let local = listener.local_addr().map_err(|e| listen(e.to_string()))?;
        let udp = udp_pair(&settings).map_err(|reason| RtspError::UdpPorts {
            output: settings.name.clone(),
            endpoint: endpoint.clone(),
            reason,
        })?;
        let media = Box::new(Media::new(&settings.name));
        let shared = Arc::new(Shared {
            name: settings.name.clone(),
            published: Mutex::new(Published::waiting(media.unavailable())),
            subscribers: Mutex::new(Vec::new()),
            udp,
            wake: Wake::default(),
            cname: format!("makara@{}", local.ip()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let server = Server {
            listener,
            shared: Arc::clone(&shared),
            path: settings.path.clone(),
            auth: settings.auth.clone(),
            stop: Arc::clone(&stop),
            sdp_session_id: ntp_seconds(),
            tos: settings.tos,
            ttl: settings.ttl,
            connections: Vec::new(),
            next_id: 0,
        };
        let server = thread::Builder::new()
            .name("rtsp output".into())
            .spawn(move || server.run())
            .map_err(|e| RtspError::Thread {
                output: settings.name.clone(),
                reason: e.to_string(),
            })?;
        tracing::info!(output = %settings.name, "serving RTSP at {}", settings.endpoint_with_port(local.port()));
        Ok(RtspOutput {
            status: Arc::new(OutputStatus::new(&settings.name)),
            settings,
            shared,
            media,
            stop,
            server: Some(server),
            local,
            units: Vec::new(),
        })
    }

    /// The address listened on (with the port chosen, if 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Demuxes the packets and sends every unit they complete to every
    /// playing client; returns the transport-stream bytes taken.
    pub fn send<'p>(&mut self, packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>) -> u64 {
        let mut taken = 0u64;
        let counted = packets.inspect(|_| taken += TS_PACKET_LEN as u64);
        self.units.clear();
        let mut units = std::mem::take(&mut self.units);
        let before = self.media.description().cloned();
        self.media.push(counted, &mut units);
        if self.media.description() != before.as_ref() {
            lock(&self.shared.published).description = self.media.description().cloned();
        }
        if self.media.description().is_none() {
            // Why not yet changes as the stream starts (no program, then
            // no key frame): clients are told the latest.
            let why = self.media.unavailable();
            let mut published = lock(&self.shared.published);
            if published.unavailable != why {
                published.unavailable = why;
            }
        }
        for unit in &units {
            self.shared.deliver(unit);
        }
        self.units = units;
        taken
    }

    pub fn status(&self) -> Arc<OutputStatus> {
        Arc::clone(&self.status)
    }

    pub fn settings(&self) -> &RtspSettings {
        &self.settings
    }
}

impl Drop for RtspOutput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify();
        if let Some(server) = self.server.take() {
            if server.join().is_err() {
                tracing::error!(output = %self.settings.name, "the RTSP server thread panicked");
            }
        }
    }
}

/// An RTP and an RTCP socket on consecutive ports, RTP's even (RFC 3550
/// §11), on the output's address; a few tries, as another program may
/// take the odd port between two binds.
fn udp_pair(settings: &RtspSettings) -> Result<UdpPair, String> {
    let mut last = String::from("no even port was free");
    for _ in 0..32 {
        let rtp = bind_udp(
            SocketAddr::new(settings.bind, 0),
            settings.tos,
            settings.ttl,
        )
        .map_err(|e| e.to_string())?;
        let port = rtp.local_addr().map_err(|e| e.to_string())?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        match bind_udp(
            SocketAddr::new(settings.bind, port + 1),
            settings.tos,
            settings.ttl,
        ) {
            Ok(rtcp) => return Ok(UdpPair { rtp, rtcp }),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

fn bind_udp(at: SocketAddr, tos: u8, ttl: u8) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(at), Type::DGRAM, Some(Protocol::UDP))?;
    if at.is_ipv4() {
        socket.set_tos_v4(u32::from(tos))?;
        socket.set_ttl_v4(u32::from(ttl))?;
    } else {
        socket.set_unicast_hops_v6(u32::from(ttl))?;
    }
    // Room for bursts of a key frame to several clients.
    let _ = socket.set_send_buffer_size(1 << 20);
    socket.bind(&at.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// NTP seconds now: the SDP's session id and version.
fn ntp_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 2_208_988_800
}

#[cfg(test)]
mod tests;
