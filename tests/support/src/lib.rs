//! What the workspace's tests share, written once: [`TestDir`], a scratch
//! directory removed on drop, and [`oauth`], a client-side OAuth 1.0
//! signer for requests to the Kraken API, and [`is_root`] for the tests
//! that build namespaces.
//!
//! Taken as a dev-dependency only (the API benchmark, itself a test tool,
//! uses the signer too); `tests/tidy` keeps it out of the firmware's
//! normal dependencies.

#![forbid(unsafe_code)]

pub mod oauth;
mod privilege;
mod testdir;

pub use privilege::is_root;
pub use testdir::TestDir;
