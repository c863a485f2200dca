//! The media pipeline: the [`makara_engine::Engine`] that runs streams.
//!
//! Per stream, three threads: the source (test pattern and tone, paced to
//! real time), the video encoder (frame ring consumer, converter, encoder),
//! and the sender (TS muxer, pacing by departure time, every UDP output).
//! A fourth, the stream's keeper, runs them and restarts them with backoff
//! when one fails. Codec libraries are reached through [`Codecs`], which
//! the appliance fills with concrete drivers.

#![forbid(unsafe_code)]

mod bench;
mod codecs;
mod device;
mod engine;
mod keeper;
mod klv;
mod scale;
mod sender;
mod setup;
mod shared;
mod source;
mod video;

pub use bench::{bench_encode, BenchError, BenchSource, EncodeBench, EncodeBenchReport, RawLayout};
pub use codecs::{AudioFactory, Codecs, VideoFactory};
pub use engine::Pipeline;
pub use setup::{Setup, SetupError};
