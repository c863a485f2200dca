//! AV1 in a transport stream, per AOM's "Carriage of AV1 in MPEG-2 TS"
//! (v1.0.1, github.com/AOMediaCodec/av1-mpeg2-ts; "the carriage spec"
//! below), on top of the AV1 bitstream specification ("AV1").
//!
//! - [`obu`]: OBU headers and the low-overhead bitstream format (AV1
//!   §5.2), which the encoder hands the muxer, one temporal unit at a time;
//! - [`start_code`]: the carriage spec's start-code based format (§3.2):
//!   every OBU behind `00 00 01`, with emulation prevention, and back;
//! - [`sequence`]: the sequence header OBU (AV1 §5.5), read as far as the
//!   descriptor and the T-STD need;
//! - [`descriptor`]: the registration descriptor ('AV01') and the AV1
//!   video descriptor of the PMT (carriage spec §2);
//! - [`frame`]: which temporal units a decoder can start at.
//!
//! Like the rest of the crate: no IO, and no input makes it panic.

pub mod descriptor;
pub mod frame;
pub mod obu;
pub mod sequence;
pub mod start_code;

mod bits;

/// What is wrong with bytes that were to be AV1. The messages say which
/// rule they break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Av1Error {
    #[error("an OBU header is cut short")]
    ShortHeader,
    #[error("an OBU sets its forbidden bit (AV1 §6.2.2: it must be 0)")]
    ForbiddenBit,
    #[error("an obu_size is not a valid leb128 of at most 8 bytes below 2^32")]
    BadSize,
    #[error("an OBU claims {claimed} payload bytes with only {available} left")]
    Overrun { claimed: usize, available: usize },
    #[error("a start-code based AV1 payload does not begin with a 00 00 01 start code")]
    NoStartCode,
    #[error("an empty OBU (nothing between two start codes)")]
    EmptyObu,
    #[error("a sequence header OBU ends before its color_config")]
    ShortSequenceHeader,
    #[error("seq_profile {0} is reserved (AV1 §6.4.1 defines 0-2)")]
    ReservedProfile(u8),
}
