//! WS-Discovery for the ONVIF device service: a VMS's multicast Probe for
//! NetworkVideoTransmitters is answered with a unicast ProbeMatch carrying
//! the device service's address (XAddrs), and the device says Hello when
//! it starts and Bye when it stops.
//!
//! It listens on UDP 3702 and joins 239.255.255.250 on every IPv4 address
//! of the box that is up (loopback aside), looking for new ones every
//! [`REJOIN_EVERY`]. Answers are bounded: at most [`ANSWERS_PER_SEC`] a
//! second (bursts of [`ANSWER_BURST`]), each after a random wait of up to
//! [`MAX_DELAY`] as the specification asks, with at most
//! [`MAX_PENDING`] waiting at once; the rest are dropped.

pub mod message;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use makara_supervisor::{Command, Handle, Reply};
use rand::{Rng, RngCore};
use sha1::{Digest, Sha1};
use socket2::{Domain, Protocol, Socket, Type};
use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::{watch, Semaphore};

use message::Endpoint;

/// WS-Discovery's multicast group and port.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
pub const PORT: u16 = 3702;
pub const ANSWERS_PER_SEC: f64 = 10.0;
pub const ANSWER_BURST: f64 = 20.0;
/// APP_MAX_DELAY of WS-Discovery.
pub const MAX_DELAY: Duration = Duration::from_millis(500);
pub const MAX_PENDING: usize = 32;
pub const REJOIN_EVERY: Duration = Duration::from_secs(30);
/// Datagrams longer than this are not read as probes.
const MAX_DATAGRAM: usize = 16 * 1024;

/// Why discovery could not start.
#[derive(Debug, Error)]
pub enum DiscoveryError {
    #[error("cannot listen for WS-Discovery probes on UDP port {PORT}")]
    Bind(#[source] std::io::Error),
}

/// What discovery announces.
#[derive(Debug, Clone)]
pub struct Announce {
    /// The address the ONVIF listener is bound to: an unspecified one
    /// means every address, and each answer then names the address the
    /// prober reaches.
    pub onvif: SocketAddr,
    pub server_id: String,
    pub scopes: Vec<String>,
}

/// A bound discovery socket, ready to [`run`](Self::run).
#[derive(Debug)]
pub struct Discovery {
    socket: Arc<UdpSocket>,
    supervisor: Handle,
    announce: Announce,
    endpoint: String,
    instance: u64,
    number: Arc<AtomicU64>,
}

impl Discovery {
    /// Binds UDP 3702 (shared with other listeners on the box, as the
    /// specification expects). Must be called inside the tokio runtime.
    pub fn bind(supervisor: Handle, announce: Announce) -> Result<Discovery, DiscoveryError> {
        let socket = bind().map_err(DiscoveryError::Bind)?;
        Ok(Discovery {
            socket: Arc::new(socket),
            supervisor,
            endpoint: endpoint_address(&announce.server_id),
            announce,
            instance: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs()),
            number: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Answers probes until `stop` turns true; says Hello first and Bye
    /// last.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut joined = BTreeSet::new();
        self.rejoin(&mut joined).await;
        self.announce_all(&joined, message::hello).await;
        tracing::info!(
            interfaces = joined.len(),
            endpoint = %self.endpoint,
            "WS-Discovery answering on UDP {PORT}"
        );
        let pending = Arc::new(Semaphore::new(MAX_PENDING));
        let mut bucket = Bucket::new(Instant::now());
        let mut rejoin = tokio::time::interval(REJOIN_EVERY);
        rejoin.tick().await;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = rejoin.tick() => self.rejoin(&mut joined).await,
                received = self.socket.recv_from(&mut buf) => {
                    let Ok((len, from)) = received else { continue };
                    self.on_datagram(&buf[..len], from, &pending, &mut bucket);
                }
            }
        }
        self.announce_all(&joined, message::bye).await;
        tracing::info!("WS-Discovery said Bye");
    }

    fn on_datagram(
        &self,
        datagram: &[u8],
        from: SocketAddr,
        pending: &Arc<Semaphore>,
        bucket: &mut Bucket,
    ) {
        let Some(probe) = message::probe(datagram) else {
            return;
        };
        if !probe.matches(&self.announce.scopes) {
            return;
        }
        if !bucket.take(Instant::now()) {
            tracing::debug!(%from, "probe not answered: answer rate reached");
            return;
        }
        let Ok(permit) = Arc::clone(pending).try_acquire_owned() else {
            tracing::debug!(%from, "probe not answered: too many answers waiting");
            return;
        };
        let Some(xaddr) = self.xaddr_for(from) else {
            return;
        };
        let endpoint = self.endpoint(vec![xaddr]);
        let number = self.number.fetch_add(1, Ordering::Relaxed) + 1;
        let answer =
            message::probe_matches(&endpoint, &probe.message_id, &new_message_id(), number);
        let socket = Arc::clone(&self.socket);
        let delay = rand::thread_rng().gen_range(Duration::ZERO..=MAX_DELAY);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = socket.send_to(answer.as_bytes(), from).await {
                tracing::debug!(%from, error = %e, "ProbeMatch not sent");
            }
            drop(permit);
        });
    }

    /// The device service's address as a prober at `from` reaches it.
    fn xaddr_for(&self, from: SocketAddr) -> Option<String> {
        let ip = if self.announce.onvif.ip().is_unspecified() {
            local_ip_towards(from)?
        } else {
            self.announce.onvif.ip()
        };
        Some(xaddr(ip, self.announce.onvif.port()))
    }

    fn endpoint(&self, xaddrs: Vec<String>) -> Endpoint {
        Endpoint {
            address: self.endpoint.clone(),
            scopes: self.announce.scopes.clone(),
            xaddrs,
            instance_id: self.instance,
        }
    }

    /// Joins the group on addresses that came up since the last look.
    async fn rejoin(&self, joined: &mut BTreeSet<Ipv4Addr>) {
        for address in self.addresses().await {
            if joined.contains(&address) {
                continue;
            }
            match self.socket.join_multicast_v4(GROUP, address) {
                Ok(()) => {
                    joined.insert(address);
                }
                Err(e) => {
                    tracing::warn!(%address, error = %e, "cannot join the WS-Discovery group")
                }
            }
        }
    }

    /// The box's IPv4 addresses that are up, loopback aside.
    async fn addresses(&self) -> Vec<Ipv4Addr> {
        let supervisor = self.supervisor.clone();
        let reply = tokio::task::spawn_blocking(move || supervisor.call(Command::Server)).await;
        let Ok(Ok(Reply::Server(server))) = reply else {
            return Vec::new();
        };
        server
            .nics
            .iter()
            .filter(|n| n.up)
            .flat_map(|n| n.addresses.iter())
            .filter_map(|a| a.split('/').next()?.parse::<Ipv4Addr>().ok())
            .filter(|a| !a.is_loopback())
            .collect()
    }

    /// Sends a Hello or Bye out of every joined interface.
    async fn announce_all(
        &self,
        joined: &BTreeSet<Ipv4Addr>,
        make: fn(&Endpoint, &str, u64) -> String,
    ) {
        for &address in joined {
            let ip = match self.announce.onvif.ip() {
                ip if ip.is_unspecified() => IpAddr::V4(address),
                ip => ip,
            };
            let endpoint = self.endpoint(vec![xaddr(ip, self.announce.onvif.port())]);
            let number = self.number.fetch_add(1, Ordering::Relaxed) + 1;
            let text = make(&endpoint, &new_message_id(), number);
            let group = SocketAddr::V4(SocketAddrV4::new(GROUP, PORT));
            let sent = socket2::SockRef::from(&*self.socket).set_multicast_if_v4(&address);
            let result = match sent {
                Ok(()) => self
                    .socket
                    .send_to(text.as_bytes(), group)
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::warn!(%address, error = %e, "WS-Discovery announcement not sent");
            }
        }
    }
}

fn bind() -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).into())?;
    socket.set_multicast_ttl_v4(1)?;
    UdpSocket::from_std(socket.into())
}

fn xaddr(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}:{port}{}", crate::onvif::DEVICE_PATH),
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}{}", crate::onvif::DEVICE_PATH),
    }
}

/// The address this box sends from to reach `to`: the kernel's route
/// choice, learnt by connecting a UDP socket (which sends nothing).
fn local_ip_towards(to: SocketAddr) -> Option<IpAddr> {
    let socket = StdUdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect(to).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

/// The device's endpoint reference: a UUID made from the server id (in the
/// layout of a version-5 UUID), so a VMS knows the box again after a
/// restart.
pub fn endpoint_address(server_id: &str) -> String {
    let digest = Sha1::digest(format!("makara onvif device {server_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!("urn:uuid:{}", uuid_text(&b))
}

fn new_message_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format!("urn:uuid:{}", uuid_text(&b))
}

fn uuid_text(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A token bucket: [`ANSWER_BURST`] answers at once, [`ANSWERS_PER_SEC`]
/// a second after that.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket {
            tokens: ANSWER_BURST,
            last: now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * ANSWERS_PER_SEC).min(ANSWER_BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_a_stable_uuid_of_the_server_id() {
        let a = endpoint_address("server-1");
        assert_eq!(a, endpoint_address("server-1"));
        assert_ne!(a, endpoint_address("server-2"));
        let uuid = a.strip_prefix("urn:uuid:").expect("urn");
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "5");
        assert!(new_message_id().starts_with("urn:uuid:"));
        assert_ne!(new_message_id(), new_message_id());
    }

    #[test]
    fn answers_are_bounded_by_the_bucket() {
        let t = Instant::now();
        let mut bucket = Bucket::new(t);
        let burst = (0..100).filter(|_| bucket.take(t)).count();
        assert_eq!(burst, ANSWER_BURST as usize);
        assert!(!bucket.take(t));
        let later = t + Duration::from_secs(1);
        let refilled = (0..100).filter(|_| bucket.take(later)).count();
        assert_eq!(refilled, ANSWERS_PER_SEC as usize);
    }

    #[test]
    fn xaddrs_name_the_device_service() {
        assert_eq!(
            xaddr("10.0.0.2".parse().expect("ip"), 8080),
            "http://10.0.0.2:8080/onvif/device_service"
        );
        assert_eq!(
            xaddr("::1".parse().expect("ip"), 80),
            "http://[::1]:80/onvif/device_service"
        );
    }
}
