//! Links Debian's libsrt (the gnutls flavour: `pkg-config --libs srt` gives
//! `-lsrt-gnutls`). No bindings are generated: `src/ffi.rs` declares by hand
//! the few functions it calls.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-lib=dylib=srt-gnutls");
}
