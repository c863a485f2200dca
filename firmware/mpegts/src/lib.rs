//! Sans-IO MPEG-TS (ISO/IEC 13818-1): a constant-rate muxer and the
//! project's own parser.
//!
//! Nothing in this crate opens a socket, starts a thread or reads a clock.
//! The muxer is told the time (departure times on the 27 MHz clock) and
//! hands back packets stamped with when they should leave; the parser is
//! pushed packets and polled for what it found.
//!
//! The modules follow smoltcp's `wire`, one file per structure:
//!
//! - [`packet`]: the 188-byte transport packet and its adaptation field;
//! - [`psi`] and [`pmt`]: PSI sections, the PAT and the PMT;
//! - [`sdt`]: the DVB service description table (service and provider name);
//! - [`pes`]: PES headers;
//! - [`av1`]: AV1's OBUs, their start-code based format, its descriptors;
//! - [`captions`]: closed captions (A/53 cc_data) in the video stream;
//! - [`klv`]: how KLV metadata is signalled and wrapped;
//! - [`mux`]: the constant-rate muxer;
//! - [`demux`]: the parser that reads a stream back;
//! - [`tstd`]: a recorded stream judged against the T-STD's buffers.
//!
//! # The wire contract
//!
//! Wire types come in two levels. [`packet::TsPacket`] and
//! [`psi::PsiSection`] wrap a byte buffer without copying it; once
//! `new_checked` has returned `Ok`, no accessor panics. The `*Repr` types
//! are plain values: `parse` never panics, whatever the bytes (it returns
//! [`Error`] instead), and `emit` never panics when given a buffer of
//! exactly `buffer_len()` bytes. [`demux::Demuxer`] builds only on these,
//! so no input makes it panic either; the fuzz tests hold it to that.

#![forbid(unsafe_code)]

pub mod av1;
pub mod captions;
mod crc;
pub mod demux;
pub mod es;
pub mod health;
pub mod klv;
pub mod mux;
pub mod packet;
pub mod pes;
pub mod pmt;
pub mod psi;
pub mod sdt;
pub mod tstd;

pub use crc::crc32_mpeg2;

/// Bytes the muxer's caller wraps around packets in one UDP datagram:
/// an IPv4 header (20) and a UDP header (8).
const IP_UDP_OVERHEAD: usize = 28;

/// Bad bytes: either they are malformed, or they use something this crate
/// does not support. For untrusted input that is all a caller can act on,
/// so, as in smoltcp, there is nothing more to the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed or unsupported MPEG-TS data")]
pub struct Error;

/// The result of parsing wire data.
pub type Result<T> = core::result::Result<T, Error>;

/// How many whole transport packets fit in one UDP datagram on a link
/// with this MTU: floor((mtu − 28) / 188), and never less than one, so a
/// tiny MTU fragments rather than sends nothing. 7 at 1490, 1 at 228.
pub fn packets_per_datagram(mtu: u16) -> usize {
    let room = usize::from(mtu).saturating_sub(IP_UDP_OVERHEAD);
    (room / packet::PACKET_LEN).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagram_sizes() {
        assert_eq!(packets_per_datagram(1500), 7);
        assert_eq!(packets_per_datagram(1490), 7);
        assert_eq!(packets_per_datagram(1344), 7);
        assert_eq!(packets_per_datagram(1343), 6);
        assert_eq!(packets_per_datagram(228), 1);
        assert_eq!(packets_per_datagram(100), 1);
        assert_eq!(packets_per_datagram(0), 1);
        assert_eq!(packets_per_datagram(9000), 47);
    }
}
