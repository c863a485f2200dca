//! Network outputs: sending a transport stream as UDP datagrams, unicast or
//! multicast, with the TTL, TOS and interface an output asks for, and
//! announcing it with SAP; or over SRT to a listener, from a listener to
//! its callers, or in rendezvous.
//!
//! Sending happens on the stream's own sender thread, which also does the
//! pacing, and never waits on a peer: a UDP send is one system call, and an
//! SRT message goes into each connected peer's send buffer. SRT
//! connections are made by a thread per output. Nothing here touches the
//! async runtime.

#![forbid(unsafe_code)]

mod carriage;
mod datagram;
mod gso;
pub mod rtmp;
pub mod rtsp;
pub mod sap;
pub mod srt;
mod status;
mod ts_output;
mod udp;

pub use carriage::{rtmp_refusal, rtsp_refusal};
pub use datagram::{packets_per_datagram, Datagrams, TS_PACKET_LEN};
pub use rtmp::{RtmpSender, RtmpSettings};
pub use rtsp::{RtspError, RtspOutput, RtspSettings};
pub use srt::{SrtOutputSettings, SrtRole, SrtSender};
pub use status::OutputStatus;
pub use ts_output::{OutputSettings, TsOutput, UdpPackets};
pub use udp::{OutputError, UdpSender, UdpSettings};
