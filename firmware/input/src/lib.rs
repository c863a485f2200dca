//! Network transport-stream inputs: UDP (unicast and multicast) and SRT
//! receivers, packet resync after garbage, continuity counting, and the
//! input's report.
//!
//! [`TsInput`] is the one entry point: opened from an input's
//! configuration, read with a timeout, asked for its [`InputReport`]. The
//! byte-level rules are sans-IO and public for tests and fuzzing:
//! [`PacketAligner`] finds 188-byte packets in any bytes, and
//! [`ContinuityChecker`] counts continuity-counter errors.
//!
//! [`InputReport`]: makara_media::InputReport

#![forbid(unsafe_code)]

mod activity;
pub mod align;
pub mod backoff;
pub mod continuity;
mod error;
mod input;
mod nic;
pub mod rtp;
mod source;
mod srt;
mod udp;

#[cfg(test)]
mod test_stream;

pub use align::{Packet, PacketAligner};
pub use continuity::ContinuityChecker;
pub use error::InputError;
pub use input::TsInput;
