//! SRT through the system's libsrt (Debian's gnutls build, 1.5.1): the
//! one FFI module ([`ffi`], private) behind safe sockets.
//!
//! - [`SrtSocket::call`] connects to a listener, [`SrtListener`] accepts
//!   callers, [`SrtSocket::rendezvous`] meets a peer doing the same.
//! - Every link is live mode (`SRTT_LIVE`) with the message API: one
//!   [`send`](SrtSocket::send) is one message of at most [`PAYLOAD_SIZE`]
//!   (1316) bytes, seven transport-stream packets.
//! - No call blocks longer than its timeout; sends never block (a full
//!   send buffer drops the message, counted in the statistics).
//! - [`SrtSettings`]: latency, passphrase and [`KeyLength`], stream id.
//! - libsrt's own log goes to `tracing` (target `libsrt`), errors only,
//!   at most 20 lines per 10 s.

// `unsafe` is denied here and everywhere below, except in `ffi`, the one
// module allow-listed in tests/tidy.
#![deny(unsafe_code)]

mod error;
mod ffi;
mod filter;
mod liblog;
mod listener;
mod settings;
mod socket;
mod stats;

pub use error::{RejectReason, SrtError};
pub use listener::SrtListener;
pub use makara_media::SrtLinkStats;
pub use settings::{
    KeyLength, SrtMode, SrtSettings, DEFAULT_LATENCY_MS, MAX_STREAM_ID_LENGTH, PASSPHRASE_LENGTH,
    PAYLOAD_SIZE,
};
pub use socket::SrtSocket;
