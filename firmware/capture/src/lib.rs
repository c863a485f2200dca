//! makara-capture: being written.
#![forbid(unsafe_code)]
