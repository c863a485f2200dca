//! Scratch directories (the workspace keeps its dependency list short, so
//! no `tempfile` crate).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, existing directory under the system temp dir, unique to this
/// process and call, and removed on drop with everything in it.
#[derive(Debug)]
pub struct TestDir(PathBuf);

impl TestDir {
    /// A new directory whose name contains `label`, so a leftover one
    /// (from a run that was killed) says which test made it.
    pub fn new(label: &str) -> TestDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("makara-{label}-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        // A leftover from an earlier run with a recycled pid.
        remove(&path);
        fs::create_dir_all(&path).expect("create test dir");
        TestDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `relative` inside the directory (nothing is created).
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.0.join(relative)
    }

    /// Writes `contents` to `relative`, creating its parent directories.
    pub fn write(&self, relative: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dir");
        }
        fs::write(&path, contents).expect("write test file");
        path
    }

    /// A path beside the directory, for tests that move the directory
    /// away (or replace it with a file); it is removed on drop as well.
    pub fn aside(&self) -> PathBuf {
        self.0.with_extension("aside")
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        remove(&self.0);
        remove(&self.aside());
    }
}

/// Removes whatever is at `path`: a directory tree or a file.
fn remove(path: &Path) {
    if fs::remove_dir_all(path).is_err() {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_directory_is_fresh_and_goes_away() {
        let a = TestDir::new("support");
        let b = TestDir::new("support");
        assert_ne!(a.path(), b.path());
        assert!(a.path().is_dir());
        let file = a.write("x/y.txt", "hello");
        assert_eq!(fs::read_to_string(&file).unwrap(), "hello");
        let (path, aside) = (a.path().to_path_buf(), a.aside());
        fs::rename(&path, &aside).unwrap();
        fs::write(&path, "a file where the directory was").unwrap();
        drop(a);
        assert!(!path.exists() && !aside.exists());
    }
}
