//! Saves on a full disk: a failed save leaves nothing behind, and a save
//! that does not grow its document may take room from the reserve.
//!
//! A full disk is simulated without privileges by making the temporary
//! file a symlink to `/dev/full`, where every write fails with ENOSPC; a
//! failed save removes the link, so a retry writes a real file. The last
//! test fills a real tmpfs when run as root.

use std::fs;
use std::os::unix::fs::symlink;

use makara_test_support::TestDir;

use super::*;
use crate::{ensure_reserve, RESERVE_BYTES, RESERVE_FILE};

fn slots(dir: &TestDir) -> Slots {
    Slots::new(dir.path(), "doc")
}

/// The next write of slot `suffix` fails with ENOSPC.
fn fill_for(dir: &TestDir, suffix: &str) {
    symlink("/dev/full", dir.join(format!("doc.{suffix}.tmp"))).expect("link /dev/full");
}

fn reserve_len(dir: &TestDir) -> u64 {
    fs::metadata(dir.join(RESERVE_FILE)).map_or(0, |m| m.len())
}

fn listing(dir: &TestDir) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = fs::read(e.path()).unwrap_or_default();
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_failed_save_removes_its_temp_file_and_changes_nothing() {
    let dir = TestDir::new("store-full-tmp");
    let mut s = slots(&dir);
    s.save(b"one").expect("save");
    s.save(b"two").expect("save");
    let before = listing(&dir);
    fill_for(&dir, "a");
    let err = s.save(b"three, which is longer").expect_err("disk full");
    assert!(err.is_no_space(), "{err}");
    assert!(matches!(err, SaveError::WriteTemp { .. }), "{err:?}");
    assert_eq!(listing(&dir), before, "no temp file, no slot changed");
    assert_eq!(s.load().expect("load").expect("doc").payload, b"two");
}

#[test]
fn a_growing_save_does_not_touch_the_reserve() {
    let dir = TestDir::new("store-full-grow");
    let mut s = slots(&dir);
    s.save(b"short").expect("save");
    ensure_reserve(dir.path(), 0).expect("reserve");
    fill_for(&dir, "b");
    let err = s.save(b"longer than before").expect_err("disk full");
    assert!(err.is_no_space(), "{err}");
    assert_eq!(reserve_len(&dir), RESERVE_BYTES, "the reserve is kept");
    assert!(!dir.join("doc.b.tmp").exists());
}

#[test]
fn a_save_that_does_not_grow_takes_room_from_the_reserve() {
    let dir = TestDir::new("store-full-shrink");
    let mut s = slots(&dir);
    s.save(b"a long document").expect("save");
    ensure_reserve(dir.path(), 0).expect("reserve");
    fill_for(&dir, "b");
    s.save(b"shorter").expect("room made from the reserve");
    let left = reserve_len(&dir);
    assert!(
        left < RESERVE_BYTES && left > 0,
        "a page or two taken: {left}"
    );
    let loaded = s.load().expect("load").expect("doc");
    assert_eq!(
        (loaded.generation, loaded.payload.as_slice()),
        (2, &b"shorter"[..])
    );
}

#[test]
fn without_a_reserve_a_full_disk_fails_even_a_smaller_save() {
    let dir = TestDir::new("store-full-no-reserve");
    let mut s = slots(&dir);
    s.save(b"a long document").expect("save");
    fill_for(&dir, "b");
    let err = s.save(b"shorter").expect_err("no room, no reserve");
    assert!(err.is_no_space(), "{err}");
    assert_eq!(
        s.load().expect("load").expect("doc").payload,
        b"a long document"
    );
}

/// A tmpfs mounted for one test, unmounted on drop (also on panic).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// `None` unless we may mount (root); the test then has nothing to show.
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the file system with a file until a write fails.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = fs::File::create(path).expect("filler");
    let block = [0xa5u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn on_a_real_full_tmpfs_only_what_does_not_grow_is_saved() {
    let dir = TestDir::new("store-full-tmpfs");
    let Some(_mounted) = Tmpfs::mount(dir.path(), "1m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let mut s = slots(&dir);
    let big = vec![b'x'; 20_000];
    s.save(&big).expect("save");
    s.save(&big).expect("save");
    ensure_reserve(dir.path(), 0).expect("reserve");
    fill(&dir.join("filler"));

    let err = s
        .save(&[big.as_slice(), b"more"].concat())
        .expect_err("full");
    assert!(err.is_no_space(), "{err}");
    assert!(!dir.join("doc.a.tmp").exists() && !dir.join("doc.b.tmp").exists());
    assert_eq!(reserve_len(&dir), RESERVE_BYTES);

    // One reserve lasts for several saves that do not grow, even when the
    // disk is filled up again after each.
    for (i, len) in [18_000, 16_000, 14_000, 12_000].into_iter().enumerate() {
        s.save(&big[..len]).expect("a smaller document fits");
        assert_eq!(s.load().expect("load").expect("doc").payload.len(), len);
        fill(&dir.join(format!("filler{i}")));
    }
    assert!(reserve_len(&dir) < RESERVE_BYTES);
    let err = s.save(&big).expect_err("still full for a larger one");
    assert!(err.is_no_space(), "{err}");
    // Filling the reserve up waits for room, and takes none meanwhile.
    let left = reserve_len(&dir);
    let err = ensure_reserve(dir.path(), 0).expect_err("no room to fill it");
    assert!(err.is_no_space(), "{err}");
    assert_eq!(reserve_len(&dir), left);
    fs::remove_file(dir.join("filler")).expect("free the disk");
    assert!(ensure_reserve(dir.path(), 0).expect("room again"));
    assert_eq!(reserve_len(&dir), RESERVE_BYTES);
}
