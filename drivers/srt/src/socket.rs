//! A connected SRT socket: live mode, one 1316-byte message per call,
//! sends that never block and receives bounded by a timeout.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use makara_media::SrtLinkStats;

use crate::error::{detail, RejectReason, SrtError};
use crate::ffi::{self, Epoll, FfiError, IntOption, Interest, Socket, LIVE_MAX_PAYLOAD};
use crate::settings::{self, SrtMode, SrtSettings, PAYLOAD_SIZE};
use crate::stats::StatsMeter;

/// `SRT_REJ_UNKNOWN`: no reject reason recorded.
const REJECT_UNKNOWN: i32 = 0;
/// `SRT_REJ_TIMEOUT`: libsrt's own connect timeout ran out.
const REJECT_TIMEOUT: i32 = 16;

/// How long to back off when epoll wakes with nothing to do (a state
/// change libsrt has announced but not yet made visible), so such a wake
/// cannot become a busy loop.
pub(crate) const SPURIOUS_WAKE_PAUSE: Duration = Duration::from_millis(2);

/// One connected SRT link. Closed when dropped.
///
/// Each socket is independent: a send never waits (a full send buffer
/// drops the message), so one stalled peer cannot hold up sends to others.
#[derive(Debug)]
pub struct SrtSocket {
    socket: Socket,
    epoll: Epoll,
    peer: SocketAddr,
    stream_id: Option<String>,
    /// Messages dropped here because libsrt's send buffer was full.
    send_drops: u64,
    meter: Mutex<StatsMeter>,
}

impl SrtSocket {
    /// Connects to a listener at `remote`, waiting at most `timeout` for
    /// the handshake.
    pub fn call(
        remote: SocketAddr,
        settings: &SrtSettings,
        timeout: Duration,
    ) -> Result<SrtSocket, SrtError> {
        let deadline = Instant::now() + timeout;
        let action = format!("call SRT peer {remote}");
        let (socket, epoll) = prepare(settings, SrtMode::Caller, timeout, &action, None)?;
        socket
            .connect(remote)
            .map_err(|e| connect_failure(&socket, remote, timeout, e))?;
        wait_connected(&socket, &epoll, remote, timeout, deadline)?;
        SrtSocket::connected(socket, epoll, remote)
    }

    /// Meets a peer doing the same from `remote`, both sides sending from
    /// the port they expect the other to call: `local` here.
    pub fn rendezvous(
        local: SocketAddr,
        remote: SocketAddr,
        settings: &SrtSettings,
        timeout: Duration,
    ) -> Result<SrtSocket, SrtError> {
        let deadline = Instant::now() + timeout;
        let action = format!("meet SRT peer {remote} in rendezvous from {local}");
        let (socket, epoll) =
            prepare(settings, SrtMode::Rendezvous, timeout, &action, Some(local))?;
        socket.rendezvous(local, remote).map_err(|e| {
            if is_address_in_use(&e) {
                SrtError::AddressInUse { local }
            } else {
                connect_failure(&socket, remote, timeout, e)
            }
        })?;
        wait_connected(&socket, &epoll, remote, timeout, deadline)?;
        SrtSocket::connected(socket, epoll, remote)
    }

    /// A socket a listener accepted from `peer`.
    pub(crate) fn accepted(socket: Socket, peer: SocketAddr) -> Result<SrtSocket, SrtError> {
        let epoll = Epoll::watch(&socket, Interest::Read).map_err(|e| SrtError::Link {
            peer,
            detail: detail(&e),
        })?;
        let stream_id = socket
            .stream_id()
            .ok()
            .filter(|id| !id.is_empty())
            .map(|id| String::from_utf8_lossy(&id).into_owned());
        Ok(SrtSocket::new(socket, epoll, peer, stream_id))
    }

    fn connected(socket: Socket, epoll: Epoll, peer: SocketAddr) -> Result<SrtSocket, SrtError> {
        epoll.change(Interest::Read).map_err(|e| SrtError::Link {
            peer,
            detail: detail(&e),
        })?;
        Ok(SrtSocket::new(socket, epoll, peer, None))
    }

    fn new(socket: Socket, epoll: Epoll, peer: SocketAddr, stream_id: Option<String>) -> SrtSocket {
        SrtSocket {
            socket,
            epoll,
            peer,
            stream_id,
            send_drops: 0,
            meter: Mutex::new(StatsMeter::default()),
        }
    }

    /// Sends one message of up to [`PAYLOAD_SIZE`] bytes. Never blocks: if
    /// libsrt's send buffer is full the message is dropped and counted
    /// (in [`SrtLinkStats::packets_dropped`]), and this returns Ok. Err
    /// when the peer is gone.
    pub fn send(&mut self, message: &[u8]) -> Result<(), SrtError> {
        if message.len() > PAYLOAD_SIZE {
            return Err(SrtError::MessageTooLong {
                len: message.len(),
                max: PAYLOAD_SIZE,
            });
        }
        match self.socket.send_message(message) {
            Ok(_) => Ok(()),
            Err(e) if e.code == ffi::SRT_EASYNCSND || e.code == ffi::SRT_ECONGEST => {
                self.send_drops += 1;
                Ok(())
            }
            Err(e) => Err(self.link_error(&e)),
        }
    }

    /// Receives one message into `buf`. Ok(None) when nothing came within
    /// `timeout`; Err([`SrtError::Closed`]) when the peer left. A message
    /// longer than `buf` is an error (and lost): give it [`PAYLOAD_SIZE`]
    /// bytes, or 1456 for peers that send larger live payloads.
    pub fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<Option<usize>, SrtError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(n) = self.try_recv(buf)? {
                return Ok(Some(n));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(None);
            }
            match self.epoll.wait(remaining) {
                Ok(None) => return Ok(None),
                Ok(Some(_)) => {}
                Err(e) => return Err(self.link_error(&e)),
            }
            if let Some(n) = self.try_recv(buf)? {
                return Ok(Some(n));
            }
            thread::sleep(
                SPURIOUS_WAKE_PAUSE.min(deadline.saturating_duration_since(Instant::now())),
            );
        }
    }

    /// One message if one is ready, without waiting.
    fn try_recv(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SrtError> {
        let result = if buf.len() >= LIVE_MAX_PAYLOAD {
            self.socket.recv_message(buf)
        } else {
            // libsrt would cut a longer message to fit without saying so:
            // receive whole, then copy if it fits.
            let mut whole = [0u8; LIVE_MAX_PAYLOAD];
            self.socket.recv_message(&mut whole).inspect(|&n| {
                if let Some(dst) = buf.get_mut(..n) {
                    dst.copy_from_slice(&whole[..n]);
                }
            })
        };
        match result {
            Ok(0) => Err(SrtError::Closed { peer: self.peer }),
            Ok(n) if n > buf.len() => Err(SrtError::BufferTooSmall {
                peer: self.peer,
                len: n,
                capacity: buf.len(),
            }),
            Ok(n) => Ok(Some(n)),
            Err(e) if e.code == ffi::SRT_EASYNCRCV || e.code == ffi::SRT_ETIMEOUT => Ok(None),
            Err(e) => Err(self.link_error(&e)),
        }
    }

    /// Closed for the codes that mean the link is gone, Link otherwise.
    fn link_error(&self, e: &FfiError) -> SrtError {
        let gone = [
            ffi::SRT_ECONNLOST,
            ffi::SRT_ENOCONN,
            ffi::SRT_EINVSOCK,
            ffi::SRT_EPOLLEMPTY,
        ];
        if gone.contains(&e.code) || !self.socket.is_connected() {
            SrtError::Closed { peer: self.peer }
        } else {
            SrtError::Link {
                peer: self.peer,
                detail: detail(e),
            }
        }
    }

    /// The link's statistics (libsrt's totals since the connection was
    /// made; rates over about the last second). Once the link is gone,
    /// the last ones seen, with zero rates.
    pub fn stats(&self) -> SrtLinkStats {
        let mut meter = self
            .meter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match self.socket.stats() {
            Ok(perf) => meter.sample(&perf, Instant::now(), self.send_drops),
            Err(_) => meter.gone(self.send_drops),
        }
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// On a socket a listener accepted: the stream id the caller sent
    /// (None if it sent none). None on callers and rendezvous sockets.
    pub fn stream_id(&self) -> Option<String> {
        self.stream_id.clone()
    }

    /// The AES key length in use, in bytes (16, 24 or 32), or None if the
    /// link is not encrypted.
    pub fn key_length_bytes(&self) -> Option<u32> {
        // SRT_KM_S_SECURED: keys exchanged, decrypting works.
        const SECURED: i32 = 2;
        let state = self.socket.get_int(IntOption::KeyMaterialState).ok()?;
        if state != SECURED {
            return None;
        }
        let bytes = self.socket.get_int(IntOption::KeyLength).ok()?;
        u32::try_from(bytes).ok().filter(|&b| b > 0)
    }
}

/// A socket set up to connect as `mode` within `timeout` (binding
/// `local`, for rendezvous), and an epoll set to wait for it with.
fn prepare(
    settings: &SrtSettings,
    mode: SrtMode,
    timeout: Duration,
    action: &str,
    local: Option<SocketAddr>,
) -> Result<(Socket, Epoll), SrtError> {
    settings.check(mode)?;
    let setup = |e: FfiError| SrtError::Setup {
        action: action.to_owned(),
        detail: detail(&e),
    };
    let socket = Socket::new().map_err(setup)?;
    settings.apply(&socket, mode).map_err(setup)?;
    if let Some(local) = local {
        settings::apply_local(&socket, local).map_err(setup)?;
    }
    let conn_timeo = settings::connect_timeout_option(timeout, mode);
    socket
        .set_int(IntOption::ConnectTimeout, conn_timeo)
        .map_err(setup)?;
    let epoll = Epoll::watch(&socket, Interest::Connect).map_err(setup)?;
    Ok((socket, epoll))
}

/// True if `e` says the local port is taken.
pub(crate) fn is_address_in_use(e: &FfiError) -> bool {
    e.sys_errno == libc::EADDRINUSE
        || e.code == ffi::SRT_EBINDCONFLICT
        || e.code == ffi::SRT_EDUPLISTEN
}

/// Waits for a connect started on `socket` to finish or fail, until
/// `deadline`.
fn wait_connected(
    socket: &Socket,
    epoll: &Epoll,
    remote: SocketAddr,
    timeout: Duration,
    deadline: Instant,
) -> Result<(), SrtError> {
    loop {
        if socket.is_connected() {
            return Ok(());
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(SrtError::TimedOut {
                peer: remote,
                after: timeout,
            });
        }
        match epoll.wait(remaining) {
            Ok(None) => {}
            Ok(Some(ready)) if ready.error && !socket.is_connected() => {
                return Err(refusal(socket, remote, timeout));
            }
            Ok(Some(_)) => thread::sleep(SPURIOUS_WAKE_PAUSE.min(remaining)),
            Err(e) => {
                return Err(SrtError::Setup {
                    action: format!("connect to SRT peer {remote}"),
                    detail: detail(&e),
                })
            }
        }
    }
}

/// The error for a connect that failed at once.
fn connect_failure(
    socket: &Socket,
    remote: SocketAddr,
    timeout: Duration,
    e: FfiError,
) -> SrtError {
    match e.code {
        ffi::SRT_ECONNREJ => refusal(socket, remote, timeout),
        ffi::SRT_ENOSERVER => SrtError::TimedOut {
            peer: remote,
            after: timeout,
        },
        _ => SrtError::Setup {
            action: format!("connect to SRT peer {remote}"),
            detail: detail(&e),
        },
    }
}

/// The error for a connect libsrt gave up on: its reject reason.
fn refusal(socket: &Socket, remote: SocketAddr, timeout: Duration) -> SrtError {
    match socket.reject_reason() {
        // No refusal: the link came up and broke at once (the peer closed
        // it as soon as it accepted).
        REJECT_UNKNOWN => SrtError::Closed { peer: remote },
        REJECT_TIMEOUT => SrtError::TimedOut {
            peer: remote,
            after: timeout,
        },
        code => SrtError::Rejected {
            peer: remote,
            reason: RejectReason::from_code(code),
        },
    }
}
