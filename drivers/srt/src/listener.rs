//! An SRT listener: callers connect to it, each becoming an [`SrtSocket`].

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{detail, SrtError};
use crate::ffi::{Epoll, FfiError, Interest, Socket};
use crate::filter;
use crate::settings::{self, SrtMode, SrtSettings};
use crate::socket::{is_address_in_use, SrtSocket, SPURIOUS_WAKE_PAUSE};

/// How many callers may wait to be accepted; more are refused as busy.
const BACKLOG: u16 = 16;

/// A bound, listening SRT socket. Its settings (latency, passphrase, key
/// length) hold for every caller it accepts; with a stream id it accepts
/// only callers that send exactly that. Closed when dropped (accepted
/// sockets live on).
#[derive(Debug)]
pub struct SrtListener {
    socket: Socket,
    epoll: Epoll,
    local: SocketAddr,
    /// The stream-id filter's entry; dropped after `socket` (field order),
    /// so the filter outlives the listener's last callback.
    _filter: Option<filter::Registration>,
}

impl SrtListener {
    /// Binds `local` and listens. A port in use fails here, with
    /// [`SrtError::AddressInUse`].
    pub fn bind(local: SocketAddr, settings: &SrtSettings) -> Result<SrtListener, SrtError> {
        settings.check(SrtMode::Listener)?;
        let setup = |e: FfiError| {
            if is_address_in_use(&e) {
                SrtError::AddressInUse { local }
            } else {
                SrtError::Setup {
                    action: format!("listen for SRT on {local}"),
                    detail: detail(&e),
                }
            }
        };
        let socket = Socket::new().map_err(setup)?;
        settings.apply(&socket, SrtMode::Listener).map_err(setup)?;
        settings::apply_local(&socket, local).map_err(setup)?;
        socket.bind(local).map_err(setup)?;
        let filter = match &settings.stream_id {
            Some(stream_id) => {
                let registration = filter::register(socket.filter_key(), stream_id);
                socket.filter_callers().map_err(setup)?;
                Some(registration)
            }
            None => None,
        };
        socket.listen(BACKLOG).map_err(setup)?;
        let bound = socket.local_addr().map_err(setup)?;
        let epoll = Epoll::watch(&socket, Interest::Read).map_err(setup)?;
        Ok(SrtListener {
            socket,
            epoll,
            local: bound,
            _filter: filter,
        })
    }

    /// The next caller, waiting at most `timeout`; Ok(None) if none came.
    pub fn accept(&self, timeout: Duration) -> Result<Option<SrtSocket>, SrtError> {
        let deadline = Instant::now() + timeout;
        loop {
            // Epoll first: libsrt logs an error for every srt_accept that
            // finds nobody waiting.
            let remaining = deadline.saturating_duration_since(Instant::now());
            if self
                .epoll
                .wait(remaining)
                .map_err(|e| self.error(&e))?
                .is_none()
            {
                return Ok(None);
            }
            let accepted = self.socket.accept().map_err(|e| self.error(&e))?;
            if let Some((socket, peer)) = accepted {
                let peer = match peer {
                    Some(peer) => peer,
                    None => socket.peer_addr().map_err(|e| self.error(&e))?,
                };
                return SrtSocket::accepted(socket, peer).map(Some);
            }
            if deadline <= Instant::now() {
                return Ok(None);
            }
            // Ready but nobody to accept: the caller left again at once.
            thread::sleep(SPURIOUS_WAKE_PAUSE);
        }
    }

    /// The bound address (with the port chosen if `bind` was given 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn error(&self, e: &FfiError) -> SrtError {
        SrtError::Setup {
            action: format!("accept SRT callers on {}", self.local),
            detail: detail(e),
        }
    }
}
