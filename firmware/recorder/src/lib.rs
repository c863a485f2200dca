//! Local recordings of transport streams, and the finished ones (assets).

#![forbid(unsafe_code)]
