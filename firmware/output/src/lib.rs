//! Network outputs: sending a transport stream as UDP datagrams, unicast or
//! multicast, with the TTL, TOS and interface an output asks for, and
//! announcing it with SAP.
//!
//! Sending is blocking and happens on the stream's own sender thread, which
//! also does the pacing; nothing here touches the async runtime.

#![forbid(unsafe_code)]

mod datagram;
mod gso;
pub mod sap;
mod udp;

pub use datagram::{packets_per_datagram, Datagrams, TS_PACKET_LEN};
pub use udp::{OutputError, UdpSender, UdpSettings};
