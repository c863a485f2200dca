//! Session announcements (SAP, RFC 2974) of UDP outputs, each carrying an
//! SDP (RFC 4566) that tells a receiver where the transport stream is.
//!
//! The packet and the description are built sans-IO ([`sap_packet`],
//! [`Session`]); [`SapAnnouncer`] owns the socket and the two packets of
//! one output's session. Who calls it how often is the caller's: the
//! pipeline announces every [`ANNOUNCE_INTERVAL`] while a run lasts and
//! sends the deletion when it ends.

mod packet;
mod sdp;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use makara_config::SapConfig;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

pub use packet::{message_id_hash, sap_packet, MessageType};
pub use sdp::Session;

use crate::udp::{OutputError, UdpSender, UdpSettings};

/// How often a session is announced. RFC 2974 sizes the interval from a
/// scope's SAP bandwidth (4 kbit/s shared, 300 s at least, for the global
/// scope); a contribution link is a LAN or a managed network whose
/// receivers want the session within seconds of tuning in, so Makara
/// announces every 5 s, as encoders on such networks commonly do.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(5);

/// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// An output's announcement settings, resolved from its `<sap>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SapSettings {
    /// The SAP group (or host) and port announcements go to.
    pub destination: SocketAddr,
    pub session_name: Option<String>,
    pub session_description: Option<String>,
    pub keywords: Option<String>,
    pub author: Option<String>,
}

impl SapSettings {
    /// `None` when the output does not transmit SAP.
    pub fn from_config(sap: &SapConfig) -> Result<Option<SapSettings>, OutputError> {
        if !sap.transmit {
            return Ok(None);
        }
        let ip: IpAddr = sap.address.parse().map_err(|_| OutputError::Resolve {
            host: sap.address.clone(),
            reason: "not an IP address".into(),
        })?;
        Ok(Some(SapSettings {
            destination: SocketAddr::new(ip, sap.port),
            session_name: sap.session_name.clone(),
            session_description: sap.session_description.clone(),
            keywords: sap.keywords.clone(),
            author: sap.author.clone(),
        }))
    }
}

/// The session of one output: its announcement and its deletion, and the
/// socket they leave by (the output's TTL, TOS and interface).
#[derive(Debug)]
pub struct SapAnnouncer {
    socket: UdpSender,
    announcement: Vec<u8>,
    deletion: Vec<u8>,
}

impl SapAnnouncer {
    /// `None` when the output does not announce. The session is named
    /// after `stream_name` unless the output sets a session name;
    /// `started` is when the run began (the session's id and version).
    pub fn open(
        output: &UdpSettings,
        stream_name: &str,
        bitrate_bps: u64,
        started: SystemTime,
    ) -> Result<Option<SapAnnouncer>, OutputError> {
        let Some(sap) = &output.sap else {
            return Ok(None);
        };
        let origin = origin_address(sap.destination, output.interface.as_deref())?;
        let id = ntp_seconds(started);
        let session = Session {
            origin,
            session_id: id,
            version: id,
            name: sap.session_name.as_deref().unwrap_or(stream_name),
            description: sap.session_description.as_deref(),
            keywords: sap.keywords.as_deref(),
            author: sap.author.as_deref(),
            destination: output.destination,
            ttl: output.ttl,
            bitrate_kbps: bitrate_bps.div_ceil(1000),
        };
        let sdp = session.sdp();
        let hash = message_id_hash(sdp.as_bytes());
        let deletion = format!("{}\r\n", session.origin_line());
        let socket = UdpSender::open(UdpSettings {
            destination: sap.destination,
            packets_per_datagram: 1,
            sap: None,
            ..output.clone()
        })?;
        Ok(Some(SapAnnouncer {
            socket,
            announcement: sap_packet(MessageType::Announcement, origin, hash, sdp.as_bytes()),
            deletion: sap_packet(MessageType::Deletion, origin, hash, deletion.as_bytes()),
        }))
    }

    pub fn announce(&self) -> Result<(), OutputError> {
        self.socket.send(&self.announcement)
    }

    /// Tells receivers the session is over.
    pub fn delete(&self) -> Result<(), OutputError> {
        self.socket.send(&self.deletion)
    }

    pub fn destination(&self) -> SocketAddr {
        self.socket.settings().destination
    }
}

/// NTP seconds (since 1900) of a time, as SDP's `o=` suggests.
pub fn ntp_seconds(time: SystemTime) -> u64 {
    let unix = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    unix.as_secs() + NTP_UNIX_OFFSET
}

/// The source address packets to `destination` leave with, as routing (and
/// the output's interface) choose it: the announcer's "originating
/// source". Connecting a UDP socket sends nothing; it only picks the route.
fn origin_address(destination: SocketAddr, interface: Option<&str>) -> Result<IpAddr, OutputError> {
    let error = |source| OutputError::Socket {
        destination,
        source,
    };
    let probe = Socket::new(
        Domain::for_address(destination),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(error)?;
    if let Some(nic) = interface {
        probe
            .bind_device(Some(nic.as_bytes()))
            .map_err(|source| OutputError::Interface {
                interface: nic.to_string(),
                source,
            })?;
    }
    probe.connect(&SockAddr::from(destination)).map_err(error)?;
    let local = probe.local_addr().map_err(error)?;
    local
        .as_socket()
        .map(|a| a.ip())
        .ok_or_else(|| error(std::io::Error::other("no local IP address")))
}

#[cfg(test)]
mod tests;
