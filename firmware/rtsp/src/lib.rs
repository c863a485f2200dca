//! Sans-IO RTSP 1.0 (RFC 2326) serving one live stream as a camera does:
//! the requests a client sends and the answers to them, the per-connection
//! session state machine, the session description (SDP, RFC 4566), RTP
//! packets of H.264 (RFC 6184), HEVC (RFC 7798), AAC (RFC 3640) and MPEG
//! audio (RFC 2250), RTCP sender reports and the receiver reports clients
//! send back (RFC 3550), the `$`-framing of RTP inside the RTSP connection,
//! and Basic and Digest (RFC 2617) authentication.
//!
//! Nothing here opens a socket, starts a thread, reads a clock or draws a
//! random number: the caller passes the time, the randomness and the bytes
//! in, and writes the bytes out. Every parser is bounded (a request head
//! of at most [`request::MAX_HEAD`] bytes and [`request::MAX_HEADERS`]
//! headers) and returns an error rather than panicking, whatever the
//! bytes; the `rtsp_request` fuzz target holds it to that.

#![forbid(unsafe_code)]

pub mod auth;
pub mod interleaved;
pub mod packetize;
pub mod request;
pub mod response;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod session;
pub mod transport;
mod uri;

pub use auth::{AuthPolicy, NoAuthentication, Verifier};
pub use request::{Method, Request, RequestError};
pub use response::Response;
pub use sdp::{AudioFormat, Description, VideoFormat};
pub use session::{Connection, Context, Event, Handled, PlayTrack, TrackId};
pub use transport::Transport;
