//! A UDP sender configured from a Kraken output.

use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use makara_config::{OutputConfig, OutputKind};
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, MsgHdr, Protocol, SockAddr, Socket, Type};
use thiserror::Error;

use crate::datagram::packets_per_datagram;
use crate::gso;
use crate::sap::SapSettings;

/// Where and how to send, resolved from an output's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpSettings {
    /// The output's name, for its report.
    pub name: String,
    pub destination: SocketAddr,
    pub ttl: u8,
    pub tos: u8,
    /// NIC to send from (SO_BINDTODEVICE); `None` lets routing decide.
    pub interface: Option<String>,
    pub packets_per_datagram: usize,
    /// Session announcements, when the output transmits SAP.
    pub sap: Option<SapSettings>,
}

#[derive(Debug, Error)]
pub enum OutputError {
    #[error("output '{0}' is not a UDP output")]
    NotUdp(String),
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot open a UDP socket to {destination}: {source}")]
    Socket {
        destination: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot send from interface {interface}: {source}")]
    Interface {
        interface: String,
        #[source]
        source: io::Error,
    },
    #[error("sending to {destination} failed: {source}")]
    Send {
        destination: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("output '{0}' is not an SRT output")]
    NotSrt(String),
    #[error("output '{output}' has no {field}")]
    SrtSetting { output: String, field: &'static str },
    #[error("output '{output}': an SRT output cannot be tied to interface {interface} yet; set interface to Auto and let the routing table choose")]
    SrtInterface { output: String, interface: String },
    #[error("output '{output}': srtAddress '{address}' of a listener must be an IP address of this appliance")]
    SrtListenAddress { output: String, address: String },
    #[error("output '{output}': cannot listen on {endpoint}: {reason}")]
    SrtListen {
        output: String,
        endpoint: String,
        reason: String,
    },
    #[error(transparent)]
    Rtsp(#[from] crate::rtsp::RtspError),
    #[error("output '{0}' is not an RTMP output")]
    NotRtmp(String),
    #[error("output '{output}': cannot start its {what} thread: {source}")]
    Thread {
        output: String,
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

impl UdpSettings {
    /// Resolves the output's URL (a name is looked up once, here).
    pub fn from_output(output: &OutputConfig) -> Result<UdpSettings, OutputError> {
        let OutputKind::Udp { url } = &output.kind else {
            return Err(OutputError::NotUdp(output.name.clone()));
        };
        let port = url.port().unwrap_or_default();
        let destination = (url.host(), port)
            .to_socket_addrs()
            .map_err(|e| OutputError::Resolve {
                host: url.host().to_string(),
                reason: e.to_string(),
            })?
            .next()
            .ok_or_else(|| OutputError::Resolve {
                host: url.host().to_string(),
                reason: "no address".into(),
            })?;
        Ok(UdpSettings {
            name: output.name.clone(),
            destination,
            ttl: output.ttl,
            tos: output.tos,
            interface: output.interface.clone(),
            packets_per_datagram: packets_per_datagram(output.mtu),
            sap: output
                .sap
                .as_ref()
                .map(SapSettings::from_config)
                .transpose()?
                .flatten(),
        })
    }
}

/// An unconnected UDP socket with the output's TTL, TOS and interface,
/// sending every datagram with `sendto`.
///
/// Unconnected on purpose: Linux reports an ICMP port unreachable only on a
/// connected socket (without `IP_RECVERR`), as an error of the *next* send,
/// which then never leaves. A receiver that is not (yet) listening would
/// cost every other datagram on the wire. Unconnected, no send fails for
/// what a receiver did, and no retry path exists to get wrong; the price is
/// a route lookup per datagram, small beside the copy into the socket.
#[derive(Debug)]
pub struct UdpSender {
    socket: Socket,
    destination: SockAddr,
    settings: UdpSettings,
    /// Segmentation offload works on this path; cleared for good by the
    /// first send it refuses.
    segmentation: AtomicBool,
}

impl UdpSender {
    pub fn open(settings: UdpSettings) -> Result<UdpSender, OutputError> {
        let destination = settings.destination;
        let socket_error = |source| OutputError::Socket {
            destination,
            source,
        };
        let domain = Domain::for_address(destination);
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(socket_error)?;
        if let Some(nic) = &settings.interface {
            socket
                .bind_device(Some(nic.as_bytes()))
                .map_err(|source| OutputError::Interface {
                    interface: nic.clone(),
                    source,
                })?;
        }
        match destination.ip() {
            IpAddr::V4(ip) => {
                socket
                    .set_tos_v4(u32::from(settings.tos))
                    .map_err(socket_error)?;
                if ip.is_multicast() {
                    socket
                        .set_multicast_ttl_v4(u32::from(settings.ttl))
                        .map_err(socket_error)?;
                    socket.set_multicast_loop_v4(true).map_err(socket_error)?;
                } else {
                    socket
                        .set_ttl_v4(u32::from(settings.ttl))
                        .map_err(socket_error)?;
                }
            }
            IpAddr::V6(ip) => {
                if ip.is_multicast() {
                    socket
                        .set_multicast_hops_v6(u32::from(settings.ttl))
                        .map_err(socket_error)?;
                } else {
                    socket
                        .set_unicast_hops_v6(u32::from(settings.ttl))
                        .map_err(socket_error)?;
                }
            }
        }
        // Bound now, so the local port is known before the first send.
        let any: SocketAddr = match destination {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        socket.bind(&any.into()).map_err(socket_error)?;
        Ok(UdpSender {
            socket,
            destination: destination.into(),
            settings,
            segmentation: AtomicBool::new(true),
        })
    }

    /// Sends one datagram. Whether anyone listens does not matter: the
    /// socket is unconnected, so no ICMP answer turns into an error.
    pub fn send(&self, datagram: &[u8]) -> Result<(), OutputError> {
        self.socket
            .send_to(datagram, &self.destination)
            .map(drop)
            .map_err(|source| self.send_error(source))
    }

    /// Sends datagrams in order, each run of equal sizes in one system call
    /// through UDP segmentation offload (`UDP_SEGMENT`), and returns how many
    /// system calls it took. Where the path refuses segmentation (a device
    /// without checksum offload answers EIO; a datagram above the path MTU,
    /// EINVAL), that run and every later one go datagram by datagram; a UDP
    /// send is all or nothing, so nothing is sent twice.
    pub fn send_batch(&self, datagrams: &[&[u8]]) -> Result<usize, OutputError> {
        let mut calls = 0;
        for run in gso::runs(datagrams) {
            calls += match self.send_segmented(run) {
                Some(Ok(())) => 1,
                Some(Err(e)) if refuses_segmentation(&e) => {
                    self.segmentation.store(false, Ordering::Relaxed);
                    self.send_each(run)?
                }
                Some(Err(source)) => return Err(self.send_error(source)),
                None => self.send_each(run)?,
            };
        }
        Ok(calls)
    }

    /// One `sendmsg` for a run of equal datagrams; `None` when a run that
    /// short, or this path, is sent datagram by datagram.
    fn send_segmented(&self, run: &[&[u8]]) -> Option<io::Result<()>> {
        let segment = u16::try_from(run[0].len()).ok().filter(|&s| s > 0)?;
        if run.len() < 2 || !self.segmentation.load(Ordering::Relaxed) {
            return None;
        }
        let buffers: Vec<IoSlice<'_>> = run.iter().map(|d| IoSlice::new(d)).collect();
        let control = gso::segment_control(segment);
        let message = MsgHdr::new()
            .with_addr(&self.destination)
            .with_buffers(&buffers)
            .with_control(&control);
        Some(self.socket.sendmsg(&message, 0).map(drop))
    }

    fn send_each(&self, run: &[&[u8]]) -> Result<usize, OutputError> {
        for datagram in run {
            self.send(datagram)?;
        }
        Ok(run.len())
    }

    fn send_error(&self, source: io::Error) -> OutputError {
        OutputError::Send {
            destination: self.settings.destination,
            source,
        }
    }

    pub fn settings(&self) -> &UdpSettings {
        &self.settings
    }

    /// The local address, for tests and logs.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.socket.local_addr().ok().and_then(|a| a.as_socket())
    }
}

/// The errors with which a kernel or device declines segmentation offload.
fn refuses_segmentation(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(EIO | EINVAL | ENOPROTOOPT | EOPNOTSUPP)
    )
}

/// Linux errno values (asm-generic/errno-base.h, errno.h).
const EIO: i32 = 5;
const EINVAL: i32 = 22;
const ENOPROTOOPT: i32 = 92;
const EOPNOTSUPP: i32 = 95;

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::time::Duration;

    use makara_config::OutputRequest;

    use super::*;

    fn output(url: &str, edit: impl FnOnce(&mut OutputRequest)) -> OutputConfig {
        let mut r = OutputRequest {
            url: Some(url.into()),
            ..OutputRequest::default()
        };
        edit(&mut r);
        r.validate().unwrap()
    }

    #[test]
    fn settings_from_an_output() {
        let s = UdpSettings::from_output(&output("udp://127.0.0.1:5000", |r| r.mtu = Some(228)))
            .unwrap();
        assert_eq!(s.destination, "127.0.0.1:5000".parse().unwrap());
        assert_eq!((s.ttl, s.tos, s.packets_per_datagram), (64, 184, 1));
    }

    #[test]
    fn sends_to_a_local_receiver_with_tos_and_ttl() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let port = receiver.local_addr().unwrap().port();
        let out = output(&format!("udp://127.0.0.1:{port}"), |r| {
            r.ttl = Some(5);
            r.tos = Some(0x88);
        });
        let sender = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap();
        assert_eq!(sender.socket.tos_v4().unwrap(), 0x88);
        assert_eq!(sender.socket.ttl_v4().unwrap(), 5);
        sender.send(&[0x47; 188 * 7]).unwrap();
        let mut buf = [0u8; 2048];
        let (n, from) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(n, 188 * 7);
        assert_eq!(Some(from.port()), sender.local_addr().map(|a| a.port()));
    }

    #[test]
    fn multicast_uses_the_multicast_ttl() {
        let out = output("udp://239.255.0.1:5000", |r| r.ttl = Some(16));
        let sender = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap();
        assert_eq!(sender.socket.multicast_ttl_v4().unwrap(), 16);
    }

    #[test]
    fn nobody_listening_is_not_an_error() {
        let out = output("udp://127.0.0.1:9", |_| {});
        let sender = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap();
        for _ in 0..3 {
            sender.send(&[0x47; 188]).unwrap();
        }
    }

    /// Issue 7 §4.1: the ICMP port unreachable for a datagram sent while
    /// nobody listened must not cost the next datagram.
    #[test]
    fn a_receiver_that_binds_late_gets_every_datagram() {
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = output(&format!("udp://127.0.0.1:{port}"), |_| {});
        let sender = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap();
        // Nobody listens yet: loopback answers with a port unreachable.
        sender.send(b"into the void").unwrap();
        let receiver = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        for i in 0..10u8 {
            sender.send(&[i; 188]).unwrap();
        }
        let mut heard = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = receiver.recv(&mut buf) {
            heard.push((buf[0], n));
        }
        let sent: Vec<_> = (0..10u8).map(|i| (i, 188)).collect();
        assert_eq!(heard, sent);
    }

    fn numbered(count: u8, len: usize) -> Vec<Vec<u8>> {
        (0..count).map(|i| vec![i; len]).collect()
    }

    fn receive_all(receiver: &UdpSocket) -> Vec<(u8, usize)> {
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut heard = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = receiver.recv(&mut buf) {
            heard.push((buf[0], n));
        }
        heard
    }

    #[test]
    fn a_batch_arrives_as_its_datagrams_in_few_system_calls() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let socket = socket2::SockRef::from(&receiver);
        socket.set_recv_buffer_size(4 << 20).unwrap();
        let port = receiver.local_addr().unwrap().port();
        let out = output(&format!("udp://127.0.0.1:{port}"), |_| {});
        let sender = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap();
        let mut datagrams = numbered(100, 1316);
        datagrams.extend(numbered(3, 188).into_iter().map(|mut d| {
            d[0] += 100;
            d
        }));
        let slices: Vec<&[u8]> = datagrams.iter().map(Vec::as_slice).collect();
        // 49 + 49 + 2 of 1316 bytes, then 3 of 188.
        assert_eq!(sender.send_batch(&slices).unwrap(), 4);
        let sent: Vec<_> = datagrams.iter().map(|d| (d[0], d.len())).collect();
        assert_eq!(receive_all(&receiver), sent);
    }

    #[test]
    fn single_and_empty_datagrams_go_one_by_one() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = receiver.local_addr().unwrap().port();
        let out = output(&format!("udp://127.0.0.1:{port}"), |_| {});
        let sender = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap();
        assert_eq!(sender.send_batch(&[]).unwrap(), 0);
        assert_eq!(sender.send_batch(&[&[7u8; 1316]]).unwrap(), 1);
        assert_eq!(sender.send_batch(&[&[], &[]]).unwrap(), 2);
        let mut buf = [0u8; 2048];
        let heard: Vec<usize> = (0..3).map(|_| receiver.recv(&mut buf).unwrap()).collect();
        assert_eq!(heard, [1316, 0, 0]);
    }

    #[test]
    fn a_missing_interface_is_a_clear_error() {
        let out = output("udp://127.0.0.1:5000", |r| {
            r.interface = Some("nosuchnic0".into())
        });
        let e = UdpSender::open(UdpSettings::from_output(&out).unwrap()).unwrap_err();
        assert!(e.to_string().contains("nosuchnic0"), "{e}");
    }
}
