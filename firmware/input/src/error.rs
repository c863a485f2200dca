//! Why an input cannot be opened or read.

use std::io;
use std::net::IpAddr;

use makara_board::BoardError;
use makara_srt::SrtError;
use thiserror::Error;

/// What retrying cannot fix: a setting that cannot work on this machine,
/// or a socket that failed for good. Everything transient (no sender yet,
/// a peer gone, a caller rejected) shows in the input's report instead.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("input '{name}' is a {kind} input, not a transport stream from the network (MPEG2TS or SRT)")]
    NotTransportStream { name: String, kind: String },
    #[error("{label}: cannot resolve {host}: {reason}")]
    Resolve {
        label: String,
        host: String,
        reason: String,
    },
    #[error("{label}: interface {interface} does not exist (this appliance has: {known})")]
    UnknownInterface {
        label: String,
        interface: String,
        known: String,
    },
    #[error("{label}: cannot list the network interfaces: {source}")]
    Interfaces {
        label: String,
        #[source]
        source: BoardError,
    },
    #[error("{label}: interface {interface} has no IPv4 address")]
    NoIpv4 { label: String, interface: String },
    #[error("{label}: port {port} is in use by another input or program")]
    PortInUse { label: String, port: u16 },
    #[error("{label}: {address} is not an address of this appliance (give one of its own, a multicast group, or 0.0.0.0)")]
    NotLocal { label: String, address: IpAddr },
    #[error("{label}: cannot join multicast group {group}{on}: {source}")]
    Join {
        label: String,
        group: IpAddr,
        /// " on eth1", or empty when the routing table chose.
        on: String,
        #[source]
        source: io::Error,
    },
    #[error("{label}: cannot receive only from interface {interface}: {source}")]
    BindInterface {
        label: String,
        interface: String,
        #[source]
        source: io::Error,
    },
    #[error("{label}: cannot open the socket: {source}")]
    Socket {
        label: String,
        #[source]
        source: io::Error,
    },
    #[error("{label}: an SRT caller cannot be tied to interface {interface}; the routing table chooses its way out (set interface Auto)")]
    CallerInterface { label: String, interface: String },
    #[error("{label}: {source}")]
    Srt {
        label: String,
        #[source]
        source: SrtError,
    },
    #[error("{label}: receiving failed: {source}")]
    Receive {
        label: String,
        #[source]
        source: io::Error,
    },
}
