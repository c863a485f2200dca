//! HEVC, AV1 and MPEG-2 video through libavcodec (`ffmpeg-next`), as a
//! [`VideoEncoder`]: `libx265`, `libsvtav1` and FFmpeg's native
//! `mpeg2video`, and `librav1e` for offline AV1. H.264 stays with
//! makara-x264.
//!
//! Level 3: a driver. The pipeline sees only the trait; the appliance is
//! the one crate that names [`FfVideoEncoder`] and [`Rav1eEncoder`].
//!
//! Every [`VideoSettings`] property is mapped for each codec, or refused
//! at open with [`EncodeError::Open`] naming the setting and the codec
//! (`options/`): nothing is silently ignored.
//!
//! - **HEVC** (`libx265`): Annex B, an AUD first in every access unit,
//!   VPS/SPS/PPS before every keyframe (IDR, closed GOP, exactly every
//!   `gop_frames`, no scene-cut keyframes), x265's presets by name, the
//!   zerolatency tune, CBR as strict CBR with HRD SEI, VBV rate and
//!   buffer, B-frames, x265's periodic intra refresh.
//! - **AV1** (`libsvtav1`, SVT-AV1 1.4.1): temporal units of
//!   low-overhead OBUs, a temporal delimiter first and the sequence
//!   header in every keyframe's unit; low delay, CBR only; no B-frames,
//!   intra refresh or keyframes on request (refused).
//! - **AV1 offline** (`librav1e`, rav1e 0.5.1), [`Rav1eEncoder`]: the
//!   quality mode for files, chosen by the caller; it looks ahead and
//!   reorders inside its temporal units, holds the bitrate over the VBV
//!   buffer, and refuses zero latency, VBR, B-frames, intra refresh and
//!   keyframes on request. An FFmpeg without librav1e (the appliance
//!   image's) fails the open, naming it.
//! - **MPEG-2** (`mpeg2video`): closed GOPs of exactly `gop_frames`, a
//!   sequence header before each, profile (Main, Simple) and level (Main,
//!   High) from the picture size, the VBV held within the level; no intra
//!   refresh (refused).
//!
//! # Input and timestamps
//!
//! I420 only. Pictures are numbered for the encoder in a time base of one
//! frame and their packets stamped back with the caller's 90 kHz PTS
//! (`clock.rs`), so a picture is presented exactly when its caller said.
//! With B-frames, decoding runs ahead of presentation as in makara-x264:
//! the first DTS is the first PTS minus the reorder delay
//! ([`FfVideoEncoder::reorder_delay`]; zero without B-frames), and a DTS
//! that would fall before 90 kHz zero is an error. The keyframe flag is
//! libavcodec's (IDR / key frame / I picture); for HEVC with intra
//! refresh, an access unit that starts a refresh cycle (it carries the
//! parameter sets) is flagged too, as libx264 flags its recovery points.
//!
//! # Hardware
//!
//! [`hardware_available`] finds a DRM render node and has FFmpeg open the
//! VA-API or QSV device on it. No hardware encode path is built (it was
//! written without a GPU to run it on), so opening with
//! [`Hardware::Qsv`](makara_encode::Hardware) or `Vaapi` fails with the
//! most precise reason: the missing `/dev/dri` node, FFmpeg's reason, or
//! that the device opens but this build cannot encode on it.
//!
//! # Build requirements
//!
//! `libavcodec-dev` etc. (FFmpeg 5.1 on bookworm) built with libx265 and
//! libsvtav1 (and librav1e for [`Rav1eEncoder`]), as Debian's is;
//! `scripts/lib/deps.sh` installs them.

// `unsafe` is denied here and everywhere below, except in `hwdevice`,
// the one module that calls FFmpeg's C API (allow-listed in tests/tidy).
#![deny(unsafe_code)]

#[cfg(doc)]
use makara_encode::{EncodeError, VideoEncoder, VideoSettings};

mod clock;
mod encoder;
mod hardware;
mod hwdevice;
mod options;
mod params;
mod rav1e;

pub use encoder::FfVideoEncoder;
pub use hardware::hardware_available;
pub use rav1e::Rav1eEncoder;
