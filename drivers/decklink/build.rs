//! Compiles the C++ shim (`shim/`) against the vendored SDK headers
//! (`sdk/include/`) into a static library. Nothing links libDeckLinkAPI.so:
//! the shim opens it at run time, so the crate builds and runs on machines
//! without Blackmagic's driver.

fn main() {
    for path in [
        "shim/makara_decklink.cpp",
        "shim/makara_decklink.h",
        "sdk/include",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    cc::Build::new()
        .cpp(true)
        .std("c++14")
        .include("sdk/include")
        .include("shim")
        .file("shim/makara_decklink.cpp")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("makara_decklink_shim");
    // dlopen and dlsym are in glibc itself since 2.34; older C libraries
    // keep them in libdl.
    println!("cargo:rustc-link-lib=dylib=dl");
}
