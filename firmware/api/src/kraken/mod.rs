//! The Kraken REST API v1.0: routing, request bodies, response documents and
//! error codes.

mod configurations;
pub mod error;
mod fields;
mod inputs;
pub mod links;
mod outputs;
pub mod render;
pub mod router;
mod srt;
mod stats;
mod streams;
mod system;
mod transcoders;
mod words;

pub use error::{ApiError, Code};
pub use links::Links;
pub use render::{render, Answer};
pub use router::{route, ApiRequest, Render};
pub use words::{video_type, video_type_word};
