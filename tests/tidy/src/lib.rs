//! Repository rules, checked by `cargo test -p makara-tidy`. See the tests
//! in `tests/tidy/tests/`.
#![forbid(unsafe_code)]
