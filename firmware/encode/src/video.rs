//! The video encoder trait: send pictures, receive access units.

use makara_media::{Clock90k, EncodedVideo, VideoFormat};
use thiserror::Error;

/// One raw picture lent to an encoder. The encoder copies what it needs
/// before `send_picture` returns, so the caller's buffer is free again.
#[derive(Debug, Clone, Copy)]
pub struct RawPicture<'a> {
    pub format: VideoFormat,
    /// The whole frame, planes laid out as `format.planes()` says.
    pub data: &'a [u8],
    pub pts: Clock90k,
    /// Ask for an IDR picture here (a receiver joined, or a scene cut).
    pub force_keyframe: bool,
}

#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("the encoder could not be opened: {0}")]
    Open(String),
    #[error("picture {got:?} does not match the encoder's input {expected:?}")]
    Format {
        expected: VideoFormat,
        got: VideoFormat,
    },
    #[error("the frame buffer holds {got} bytes; {expected} are needed")]
    ShortFrame { expected: usize, got: usize },
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// A video encoder in the send/receive style: the caller sends a picture
/// (or `None` to flush at the end), then receives until `Ok(None)`.
pub trait VideoEncoder: Send {
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError>;
    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError>;
    /// SPS/PPS (or the codec's equivalent) as an Annex B byte stream, for
    /// receivers that join before the next keyframe.
    fn headers(&mut self) -> Result<Vec<u8>, EncodeError>;
}
