//! The UDP receiver: unicast on a local address, or multicast joined on the
//! input's interface.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use makara_config::Endpoint;
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::InputError;
use crate::nic;

/// The receive buffer asked for: about 1.5 s at 20 Mbit/s, so a reader held
/// up for a moment loses nothing. The kernel caps it at
/// `net.core.rmem_max`.
const RECEIVE_BUFFER: usize = 4 << 20;

/// Where the receiver listens, resolved from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPlan {
    pub address: SocketAddr,
    /// NIC the input names; `None` lets the routing table choose.
    pub interface: Option<String>,
}

/// A bound (and, for multicast, joined) UDP socket.
#[derive(Debug)]
pub struct UdpReceiver {
    socket: UdpSocket,
    label: String,
    nonblocking: bool,
    read_timeout: Option<Duration>,
}

impl UdpPlan {
    /// The address in the URL, looked up once if it is a name.
    pub fn resolve(
        label: &str,
        url: &Endpoint,
        interface: Option<&str>,
    ) -> Result<UdpPlan, InputError> {
        let port = url.port().unwrap_or_default();
        let resolve_error = |reason: String| InputError::Resolve {
            label: label.to_string(),
            host: url.host().to_string(),
            reason,
        };
        let address = match url.host().parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => (url.host(), port)
                .to_socket_addrs()
                .map_err(|e| resolve_error(e.to_string()))?
                .next()
                .ok_or_else(|| resolve_error("no address".into()))?,
        };
        Ok(UdpPlan {
            address,
            interface: interface.map(str::to_string),
        })
    }
}

impl UdpReceiver {
    pub fn open(label: &str, plan: &UdpPlan) -> Result<UdpReceiver, InputError> {
        let socket_error = |source| InputError::Socket {
            label: label.to_string(),
            source,
        };
        let address = plan.address;
        let multicast = address.ip().is_multicast();
        let socket = Socket::new(
            Domain::for_address(address),
            Type::DGRAM,
            Some(Protocol::UDP),
        )
        .map_err(socket_error)?;
        if multicast {
            // Several inputs (or programs) may read one group; a unicast
            // port stays exclusive, so a second user fails at open.
            socket.set_reuse_address(true).map_err(socket_error)?;
        }
        if let Err(e) = socket.set_recv_buffer_size(RECEIVE_BUFFER) {
            tracing::warn!("{label}: cannot enlarge the receive buffer: {e}");
        }
        let nic = plan
            .interface
            .as_deref()
            .map(|name| nic::find(label, name))
            .transpose()?;
        if let Some(nic) = &nic {
            socket
                .bind_device(Some(nic.name.as_bytes()))
                .map_err(|source| InputError::BindInterface {
                    label: label.to_string(),
                    interface: nic.name.clone(),
                    source,
                })?;
        }
        // Bound to the group itself, a multicast socket gets that group's
        // datagrams only, not those of other groups on the same port.
        socket
            .bind(&address.into())
            .map_err(|e| bind_error(label, address, e))?;
        if multicast {
            join(label, &socket, address.ip(), nic.as_ref())?;
        }
        tracing::debug!(
            "{label}: receive buffer {} bytes",
            socket.recv_buffer_size().unwrap_or_default()
        );
        Ok(UdpReceiver {
            socket: socket.into(),
            label: label.to_string(),
            nonblocking: false,
            read_timeout: None,
        })
    }

    /// One datagram into `buf` (which should hold 64 KiB, the largest),
    /// waiting at most `wait` for it; a zero `wait` only takes one already
    /// there. `None` when none came.
    pub fn receive(&mut self, buf: &mut [u8], wait: Duration) -> Result<Option<usize>, InputError> {
        self.prepare_wait(wait)
            .map_err(|source| self.receive_error(source))?;
        match self.socket.recv(buf) {
            Ok(len) => Ok(Some(len)),
            Err(e) if is_timeout(&e) => Ok(None),
            Err(source) => Err(self.receive_error(source)),
        }
    }

    /// The local address the socket is bound to (tests bind port 0).
    #[cfg(test)]
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    fn prepare_wait(&mut self, wait: Duration) -> io::Result<()> {
        let nonblocking = wait.is_zero();
        if nonblocking != self.nonblocking {
            self.socket.set_nonblocking(nonblocking)?;
            self.nonblocking = nonblocking;
        }
        if !nonblocking && self.read_timeout != Some(wait) {
            self.socket.set_read_timeout(Some(wait))?;
            self.read_timeout = Some(wait);
        }
        Ok(())
    }

    fn receive_error(&self, source: io::Error) -> InputError {
        InputError::Receive {
            label: self.label.clone(),
            source,
        }
    }
}

/// Joins the group on the input's interface (by its address for IPv4, its
/// index for IPv6), or where the routing table says without one.
fn join(
    label: &str,
    socket: &Socket,
    group: IpAddr,
    nic: Option<&makara_board::Nic>,
) -> Result<(), InputError> {
    let on = nic.map(|n| format!(" on {}", n.name)).unwrap_or_default();
    let result = match group {
        IpAddr::V4(group) => {
            let local = match nic {
                Some(nic) => nic::ipv4(label, nic)?,
                None => Ipv4Addr::UNSPECIFIED,
            };
            // Only the joined group's datagrams, even if another socket of
            // this process joins others on the same port.
            socket
                .set_multicast_all_v4(false)
                .and_then(|()| socket.join_multicast_v4(&group, &local))
        }
        IpAddr::V6(group) => {
            let index = nic.map(|n| nic::index(label, n)).transpose()?;
            socket.join_multicast_v6(&group, index.unwrap_or(0))
        }
    };
    result.map_err(|source| InputError::Join {
        label: label.to_string(),
        group,
        on,
        source,
    })
}

fn bind_error(label: &str, address: SocketAddr, source: io::Error) -> InputError {
    let label = label.to_string();
    match source.kind() {
        io::ErrorKind::AddrInUse => InputError::PortInUse {
            label,
            port: address.port(),
        },
        io::ErrorKind::AddrNotAvailable => InputError::NotLocal {
            label,
            address: address.ip(),
        },
        _ => InputError::Socket { label, source },
    }
}

/// What a receive with a timeout returns when nothing came.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
