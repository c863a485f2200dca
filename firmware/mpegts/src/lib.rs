//! makara-mpegts: being written.
#![forbid(unsafe_code)]
