//! Fixture trees for tests: the captured ones under `testdata/`, and NIC
//! directories written into a scratch directory.

use std::fs;
use std::path::{Path, PathBuf};

use makara_test_support::TestDir;

/// Writes a NIC directory under `sys/` from `attribute=value` lines.
pub(crate) fn nic(tree: &TestDir, name: &str, attributes: &[(&str, &str)]) {
    fs::create_dir_all(tree.join(format!("sys/{name}"))).expect("create nic dir");
    for (attribute, value) in attributes {
        tree.write(format!("sys/{name}/{attribute}"), format!("{value}\n"));
    }
}

/// A fixture directory under `testdata/`.
pub(crate) fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(relative)
}
