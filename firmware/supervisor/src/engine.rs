//! The engine port lives in `makara-engine`; re-exported for callers.

pub use makara_engine::{Engine, EngineError, NoMediaEngine, StreamPlan, StreamStats};
