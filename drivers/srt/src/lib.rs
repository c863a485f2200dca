//! SRT through the system's libsrt (gnutls build): the one FFI module and a safe socket.

#![deny(unsafe_code)]
