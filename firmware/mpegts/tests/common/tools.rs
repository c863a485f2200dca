//! Running the third-party tools that judge the muxer (FFmpeg, Python).
//! The tests fail, naming the tool, where one is missing: the scripts
//! install them, so a machine without them cannot judge the muxer.

// Each test crate that includes this uses only some of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub const FFMPEG: &str = "/usr/bin/ffmpeg";
pub const FFPROBE: &str = "/usr/bin/ffprobe";
pub const PYTHON: &str = "/usr/bin/python3";

/// Fails the test, naming the tool, unless it is there.
pub fn require(tool: &str) {
    assert!(
        Path::new(tool).is_file(),
        "{tool} is missing: these tests judge the muxer with FFmpeg and \
         Python (scripts/lib/deps.sh installs them)"
    );
}

/// Runs a tool; fails the test with its stderr unless it succeeds.
/// Returns what it wrote to stdout and to stderr.
pub fn run(tool: &str, args: &[&str]) -> (String, String) {
    require(tool);
    let out = Command::new(tool).args(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{tool} {args:?}: {stderr}");
    (stdout, stderr)
}
