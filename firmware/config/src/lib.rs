//! The appliance's configuration vocabulary: inputs, outputs, transcoders,
//! streams and presets, their defaults and their allowed ranges.
//!
//! Every resource comes in two shapes. A `*Request` holds what a client asked
//! for, already typed but not yet checked (every field optional). Its
//! `validate` method applies defaults and the rules of the contract and yields
//! the `*Config` the rest of the firmware works with, or a [`Invalid`] error
//! that names the field and its allowed range.
//!
//! This crate knows no wire format. The serde derives on the `*Config` types
//! exist only for the on-disk state written by `makara-supervisor`.

#![forbid(unsafe_code)]

mod endpoint;
pub mod feed;
mod id;
mod input;
mod invalid;
mod output;
mod range;
mod srt;
mod stream;
pub mod text;
mod transcoder;

pub use endpoint::{Endpoint, Scheme};
pub use feed::{RetryPolicy, RtmpUrl, RtspUrl};
pub use id::Id;
pub use input::{InputConfig, InputKind, InputRequest, InputType, TestPatternSettings};
pub use invalid::Invalid;
pub use output::{OutputConfig, OutputKind, OutputRequest, OutputType, SapConfig, SapRequest};
pub use range::Limits;
pub use srt::{SrtConfig, SrtEncryption, SrtMode, SrtRequest};
pub use stream::{StreamConfig, StreamMode, StreamRequest, MAX_STREAM_OUTPUTS};
pub use text::{preset_name, TextLimit};
pub use transcoder::{
    AudioType, EncoderType, EncodingProfile, ResolutionMode, Shaping, TranscoderConfig,
    TranscoderRequest, VideoProfile, VideoType, AUDIO_BITRATE_KBPS, VIDEO_BITRATE_KBPS,
};
