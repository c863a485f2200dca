//! SRT through the system's libsrt (gnutls build): the one FFI module and a safe socket.

#![forbid(unsafe_code)]
