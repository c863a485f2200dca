//! Network inputs decoded into the frame ring through libavcodec/libavformat: a live source per network input.

#![forbid(unsafe_code)]
