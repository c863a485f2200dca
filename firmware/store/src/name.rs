//! Document names, which become file names inside the data directory.

/// Panics unless `name` is a plain file-name stem.
///
/// Names are constants chosen by the firmware, never user input, so a bad
/// one is a programming error; refusing it early keeps a stray `/` or `..`
/// from sending writes outside the data directory.
pub(crate) fn check(name: &str) {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    assert!(ok, "invalid document name {name:?}: use [A-Za-z0-9_-]+");
}
