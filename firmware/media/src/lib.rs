//! The media vocabulary every stage of the pipeline shares: pixel formats
//! and their plane layouts, clocks and timestamps, encoded units.
//!
//! Level 0: depends on nothing of ours, and knows no device, codec library
//! or wire format.

#![forbid(unsafe_code)]

mod captions;
mod clock;
mod encoded;
mod pixel;
mod port;
mod timecode;
mod transport;

pub use captions::{cc_valid, CaptionBacklog, Captions};
pub use clock::{Clock90k, MonotonicNs, Pcr27M, CLOCK_90K_HZ, PCR_HZ};
pub use encoded::{AudioCodec, EncodedAudio, EncodedVideo, VideoCodec};
pub use pixel::{PixelFormat, Plane, VideoFormat, VideoFormatError};
pub use port::{CaptureMode, CapturePort, PortKind, RunningCapture};
pub use timecode::Timecode;
pub use transport::{InputReport, OutputHealth, OutputReport, SrtLinkStats};
