//! The media pipeline: the [`makara_engine::Engine`] that runs streams.
//!
//! A transcoded stream (transcoder and passthru modes) has three threads:
//! the source (any live capture: the test pattern and its tone, a V4L2
//! device and silence, raw frames from a file, a decoded network input),
//! the video encoder (frame ring consumer, converter, encoder), and the
//! sender (TS muxer, pacing by departure time, the packet sink: every UDP
//! and SRT output, a file, or nothing). The same stages run in real time
//! for a stream and as fast as the encoder takes frames for `bench
//! encode`. A fourth, the stream's keeper, runs them and restarts them
//! with backoff when one fails; in passthru mode a fifth copies the
//! input's own packets to the passthru output. A bypass stream is one
//! thread that relays the input's packets to the outputs unchanged.
//! Codec libraries and the network decoder are reached through
//! [`Codecs`], which the appliance fills with concrete drivers.

#![forbid(unsafe_code)]

mod bench;
mod captions;
mod codecs;
mod engine;
mod keeper;
mod klv;
mod relay;
mod ring;
mod sap;
mod scale;
mod sender;
mod setup;
mod shared;
mod sink;
mod source;
mod taps;
mod thumbnail;
mod video;

pub use bench::{
    bench_encode, bench_transcode, BenchError, BenchSource, EncodeBench, EncodeBenchReport,
    RawLayout, TranscodeBench, TsFileOpener,
};
pub use codecs::{
    AudioFactory, Codecs, HardwareProbe, NetworkFactory, NetworkOpen, TsPackets, VideoFactory,
};
pub use engine::Pipeline;
pub use setup::{BypassSetup, Setup, SetupError};
pub use taps::MAX_TAPS_PER_OUTPUT;
