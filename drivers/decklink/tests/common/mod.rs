//! Builds the programs of `tests/fake/` with the C++ compiler (`$CXX` or
//! `c++`) against the vendored SDK headers, into Cargo's test scratch
//! directory, once per test binary.

#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Compiles `tests/fake/<source>` into `name` in the scratch directory with
/// `flags` before the source and `libraries` after it (where linkers that
/// resolve in order need them), and returns its path.
fn compile(source: &str, name: &str, flags: &[String], libraries: &[&str]) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "c++".to_owned());
    let status = Command::new(&compiler)
        .args(["-std=c++14", "-Wall", "-Werror", "-o"])
        .arg(&out)
        .arg("-I")
        .arg(crate_dir.join("sdk/include"))
        .args(flags)
        .arg(crate_dir.join("tests/fake").join(source))
        .args(libraries)
        .status()
        .unwrap_or_else(|e| panic!("running {compiler}: {e}"));
    assert!(status.success(), "{compiler} failed building {name}");
    out
}

/// The fake `libDeckLinkAPI.so` built with `defines` into `name`.
pub fn fake(name: &str, defines: &[&str], cell: &'static OnceLock<PathBuf>) -> &'static Path {
    cell.get_or_init(|| {
        let mut flags = vec!["-shared".to_owned(), "-fPIC".to_owned()];
        flags.extend(defines.iter().map(|d| format!("-D{d}")));
        compile("fake_decklink.cpp", name, &flags, &[])
    })
}

/// The fake with two devices: the Duo 2 that captures, then an
/// output-only card.
pub fn two_devices() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    fake("libDeckLinkAPI-two.so", &[], &CELL)
}

/// The SDK client of `tests/fake/capture_client.cpp`.
pub fn capture_client() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    CELL.get_or_init(|| {
        compile(
            "capture_client.cpp",
            "capture_client",
            &["-pthread".to_owned()],
            &["-ldl"],
        )
    })
}
