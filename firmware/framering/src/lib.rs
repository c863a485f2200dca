//! makara-framering: being written.
#![forbid(unsafe_code)]
