//! Sans-IO RTMP publishing: what an encoder says to an RTMP server to
//! push a live stream, as bytes in and bytes out.
//!
//! Nothing here opens a socket, starts a thread or reads a clock; the
//! caller moves the bytes and says the time. The modules, in the order a
//! connection uses them:
//!
//! - [`handshake`]: the simple handshake (C0/C1, S0/S1/S2, C2);
//! - [`chunk`]: messages cut into chunks and put back together;
//! - [`amf0`]: the values commands are written in;
//! - [`publish`]: connect, createStream, publish, the server's answers
//!   (and its refusals, as typed errors), acknowledgements and pings;
//! - [`flv`]: media as FLV tag bodies: H.264 and AAC as classic FLV, HEVC
//!   as Enhanced RTMP, and the onMetaData script;
//! - [`timestamp`]: 90 kHz PTS/DTS as RTMP's wrapping milliseconds.
//!
//! # No panics, bounded memory
//!
//! Every parser here takes arbitrary bytes without panicking (the
//! `rtmp_client` fuzz target holds it to that) and every buffer has a
//! bound: the chunk reader's message and in-progress limits, AMF0's depth
//! and value count.

#![forbid(unsafe_code)]

pub mod amf0;
pub mod chunk;
pub mod control;
pub mod flv;
pub mod handshake;
pub mod nal;
pub mod publish;
pub mod timestamp;

#[cfg(test)]
mod testdata;

pub use handshake::{ClientHandshake, HandshakeDone, HandshakeError};
pub use publish::{PublishError, PublishState, PublishTarget, Publisher, ServerInfo};
