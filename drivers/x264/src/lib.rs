//! makara-x264: being written.
#![forbid(unsafe_code)]
