//! Just enough XML for the Kraken API: a small element tree read from
//! request bodies, and a writer for responses. Both hold to XML 1.0's
//! character set (`chars`).

mod chars;
mod tree;
mod writer;

pub use tree::{parse, Element};
pub use writer::XmlWriter;
