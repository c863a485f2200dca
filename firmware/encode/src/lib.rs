//! What an encoder is, to the pipeline: settings derived from a Kraken
//! transcoder, and the send/receive traits the codec drivers implement.
//!
//! Level 2: drivers (`drivers/x264`, …) implement these traits; the
//! pipeline uses them without naming a codec library.

#![forbid(unsafe_code)]

mod audio;
mod settings;
mod video;

pub use audio::{AudioEncoder, AudioSettings, RawAudio, CHANNELS, SAMPLE_RATE};
pub use settings::{
    Hardware, Mpeg2Profile, Preset, RateControl, VideoSettings, VideoSettingsError,
};
pub use video::{EncodeError, RawPicture, VideoEncoder};
