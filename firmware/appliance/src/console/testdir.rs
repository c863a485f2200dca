//! Scratch directories for the console's tests, removed on drop (the
//! workspace has no `tempfile` crate).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug)]
pub(crate) struct TestDir(PathBuf);

impl TestDir {
    /// A fresh, existing directory unique to this process and call.
    pub(crate) fn new(label: &str) -> TestDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("makara-console-{label}-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        // A leftover from an earlier run with a recycled pid.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
