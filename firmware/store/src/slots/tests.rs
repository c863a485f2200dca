use std::fs;
use std::os::unix::fs::PermissionsExt;

use makara_test_support::TestDir;

use super::*;

fn slots(dir: &TestDir) -> Slots {
    Slots::new(dir.path(), "doc")
}

fn path(dir: &TestDir, suffix: &str) -> PathBuf {
    dir.path().join(format!("doc.{suffix}"))
}

fn generation_in(file: &Path) -> u64 {
    let bytes = fs::read(file).expect("read slot");
    format::decode(&bytes).expect("valid slot").generation
}

fn load(slots: &Slots) -> Loaded {
    slots.load().expect("load").expect("a document")
}

/// Saves gen 1 ("old") into A and gen 2 ("new") into B.
fn two_generations(dir: &TestDir) -> Slots {
    let mut s = slots(dir);
    s.save(b"old").expect("save 1");
    s.save(b"new").expect("save 2");
    assert_eq!(generation_in(&path(dir, "b")), 2);
    s
}

#[test]
fn fresh_dir_loads_none() {
    let dir = TestDir::new("store-fresh");
    assert_eq!(slots(&dir).load().expect("load"), None);
}

#[test]
fn missing_dir_loads_none() {
    let dir = TestDir::new("store-missing");
    let s = Slots::new(dir.path().join("not/there"), "doc");
    assert_eq!(s.load().expect("load"), None);
}

#[test]
fn round_trip() {
    let dir = TestDir::new("store-round-trip");
    let mut s = slots(&dir);
    s.save(b"hello").expect("save");
    let loaded = load(&s);
    assert_eq!(loaded.payload, b"hello");
    assert_eq!(loaded.generation, 1);
    assert_eq!(loaded.path, path(&dir, "a"));
    assert_eq!(loaded.damaged, None);
    // A second handle sees the same thing.
    assert_eq!(load(&slots(&dir)), loaded);
}

#[test]
fn empty_payload_round_trips() {
    let dir = TestDir::new("store-empty");
    let mut s = slots(&dir);
    s.save(b"").expect("save");
    assert_eq!(load(&s).payload, b"");
}

#[test]
fn generations_increase_and_alternate_slots() {
    let dir = TestDir::new("store-alternate");
    let mut s = slots(&dir);
    for generation in 1..=5u64 {
        let payload = format!("v{generation}");
        s.save(payload.as_bytes()).expect("save");
        let loaded = load(&s);
        assert_eq!(loaded.generation, generation);
        assert_eq!(loaded.payload, payload.as_bytes());
        let (written, kept) = if generation % 2 == 1 {
            ("a", "b")
        } else {
            ("b", "a")
        };
        assert_eq!(generation_in(&path(&dir, written)), generation);
        if generation > 1 {
            assert_eq!(generation_in(&path(&dir, kept)), generation - 1);
        }
    }
    // No temporary files remain after successful saves.
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn save_creates_missing_directories() {
    let dir = TestDir::new("store-mkdir");
    let mut s = Slots::new(dir.path().join("x/y/z"), "doc");
    s.save(b"deep").expect("save");
    assert_eq!(load(&s).payload, b"deep");
}

#[test]
fn truncated_newest_slot_falls_back_to_older_copy() {
    let dir = TestDir::new("store-truncate");
    let s = two_generations(&dir);
    let newest = path(&dir, "b");
    let good = fs::read(&newest).expect("read");
    for cut in 0..good.len() {
        fs::write(&newest, &good[..cut]).expect("truncate");
        let loaded = load(&s);
        assert_eq!(loaded.payload, b"old", "cut at {cut}");
        assert_eq!(loaded.generation, 1);
        assert_eq!(loaded.path, path(&dir, "a"), "cut at {cut}");
        let damaged = loaded.damaged.expect("the cut slot is reported");
        assert_eq!(damaged.path, newest, "cut at {cut}");
    }
    fs::write(&newest, &good).expect("restore");
    assert_eq!(load(&s).damaged, None);
}

#[test]
fn any_flipped_byte_in_newest_slot_is_detected() {
    let dir = TestDir::new("store-flip");
    let mut s = slots(&dir);
    s.save(b"old").expect("save 1");
    s.save(b"the newest payload, long enough to matter")
        .expect("save 2");
    let newest = path(&dir, "b");
    let good = fs::read(&newest).expect("read");
    // Header bytes too: a flipped generation must not promote a copy.
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x20;
        fs::write(&newest, &bad).expect("corrupt");
        let loaded = load(&s);
        assert_eq!(loaded.payload, b"old", "byte {i}");
        let damaged = loaded.damaged.expect("the flipped slot is reported");
        assert_eq!(damaged.path, newest, "byte {i}");
    }
}

#[test]
fn corrupt_older_slot_is_reported_but_newest_is_used() {
    let dir = TestDir::new("store-old-corrupt");
    let s = two_generations(&dir);
    fs::write(path(&dir, "a"), b"garbage").expect("corrupt");
    let loaded = load(&s);
    assert_eq!(loaded.payload, b"new");
    assert_eq!(loaded.path, path(&dir, "b"));
    // The damaged slot is the older one, not the copy that was used.
    let damaged = loaded.damaged.expect("the corrupt slot is reported");
    assert_eq!(damaged.path, path(&dir, "a"));
    assert_eq!(damaged.problem, SlotProblem::BadMagic);
}

#[test]
fn both_corrupt_is_no_valid_copy() {
    let dir = TestDir::new("store-both-corrupt");
    let s = two_generations(&dir);
    fs::write(path(&dir, "a"), b"").expect("corrupt a");
    let mut b = fs::read(path(&dir, "b")).expect("read b");
    let last = b.len() - 1;
    b[last] ^= 1;
    fs::write(path(&dir, "b"), &b).expect("corrupt b");

    let err = s.load().expect_err("must fail");
    let LoadError::NoValidCopy { rejected } = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0].path, path(&dir, "a"));
    assert_eq!(rejected[0].problem, SlotProblem::Empty);
    assert!(matches!(
        rejected[1].problem,
        SlotProblem::ChecksumMismatch { .. }
    ));
    let message = err.to_string();
    assert!(message.contains("doc.a: file is empty"), "{message}");
    assert!(message.contains("doc.b: checksum mismatch"), "{message}");
}

#[test]
fn only_slot_corrupt_is_no_valid_copy() {
    let dir = TestDir::new("store-only-corrupt");
    let mut s = slots(&dir);
    s.save(b"first").expect("save");
    fs::write(
        path(&dir, "a"),
        b"MAKARA-SLOT 1 gen=1 len=5 crc32=00000000\nfirs",
    )
    .expect("corrupt");
    assert!(matches!(
        s.load(),
        Err(LoadError::NoValidCopy { rejected }) if rejected.len() == 1
    ));
    // Saving recovers, overwriting the corrupt slot.
    s.save(b"again").expect("save");
    let loaded = load(&s);
    assert_eq!(loaded.payload, b"again");
    assert_eq!(loaded.damaged, None);
    assert!(!path(&dir, "b").exists());
}

#[test]
fn save_after_corrupt_newest_overwrites_the_corrupt_slot() {
    let dir = TestDir::new("store-overwrite-corrupt");
    let mut s = two_generations(&dir);
    let good_a = fs::read(path(&dir, "a")).expect("read a");
    fs::write(path(&dir, "b"), b"MAKARA-SLOT 1 torn").expect("corrupt b");

    s.save(b"newer").expect("save");
    assert_eq!(fs::read(path(&dir, "a")).expect("read a"), good_a);
    let loaded = load(&s);
    assert_eq!(loaded.payload, b"newer");
    assert_eq!(loaded.generation, 2);
    assert_eq!(loaded.damaged, None);
}

#[test]
fn save_never_overwrites_a_newer_copy_from_another_handle() {
    let dir = TestDir::new("store-two-handles");
    let mut first = slots(&dir);
    let mut second = slots(&dir);
    first.save(b"1").expect("save");
    second.save(b"2").expect("save");
    second.save(b"3").expect("save");
    // `first` last wrote A at gen 1; A now holds gen 3 from `second`.
    first.save(b"4").expect("save");
    let loaded = load(&first);
    assert_eq!(
        (loaded.generation, loaded.payload.as_slice()),
        (4, &b"4"[..])
    );
    assert_eq!(generation_in(&path(&dir, "a")), 3);
}

#[test]
fn leftover_temp_files_are_ignored_and_replaced() {
    let dir = TestDir::new("store-tmp-leftover");
    let mut s = slots(&dir);
    s.save(b"kept").expect("save");
    fs::write(path(&dir, "b.tmp"), b"half a write").expect("tmp");
    fs::write(path(&dir, "a.tmp"), b"MAKARA-SLOT 1 gen=99").expect("tmp");
    assert_eq!(load(&s).payload, b"kept");
    s.save(b"next").expect("save");
    assert_eq!(load(&s).payload, b"next");
    assert!(!path(&dir, "b.tmp").exists());
}

#[test]
fn unreadable_slot_is_an_error_not_a_fallback() {
    let dir = TestDir::new("store-unreadable");
    let mut s = two_generations(&dir);
    // A directory in place of a slot file cannot be read.
    fs::remove_file(path(&dir, "b")).expect("remove");
    fs::create_dir(path(&dir, "b")).expect("mkdir");
    assert!(matches!(s.load(), Err(LoadError::Read { path: p, .. }) if p == path(&dir, "b")));
    assert!(matches!(s.save(b"x"), Err(SaveError::Read { .. })));
}

#[test]
fn slot_files_are_private_by_default() {
    let dir = TestDir::new("store-mode");
    let mut s = slots(&dir);
    s.save(b"secret").expect("save");
    let mode = fs::metadata(path(&dir, "a"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let mut open = slots(&dir).with_mode(0o644);
    open.save(b"public").expect("save");
    let mode = fs::metadata(path(&dir, "b"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
}

#[test]
fn fingerprint_changes_after_every_save() {
    let dir = TestDir::new("store-fingerprint");
    let mut writer = slots(&dir);
    let reader = slots(&dir);
    let mut seen = vec![reader.fingerprint()];
    for i in 0..6 {
        // Same length, written back to back: only the inode may differ.
        writer.save(b"same").expect("save");
        let now = reader.fingerprint();
        assert!(
            !seen.contains(&now),
            "save {i} left the fingerprint unchanged"
        );
        seen.push(now);
    }
    assert_eq!(reader.fingerprint(), writer.fingerprint());
}

#[test]
#[should_panic(expected = "invalid document name")]
fn rejects_path_like_names() {
    let _ = Slots::new("/tmp", "../escape");
}
