//! API credentials and the API on/off switch, shared between `makarad`'s
//! server and its CLI commands.
//!
//! The Kraken REST API authenticates clients with two-legged OAuth 1.0
//! (HMAC-SHA1): each client holds a consumer key and secret. The operator
//! manages them with `makarad api-key create|list|revoke` and switches the
//! API with `makarad api enable|disable`. Those commands run while the
//! server runs on the same data directory, so the state lives on disk in a
//! [`makara_store::Slots`] document named `access` ([`AccessStore`]): the
//! CLI writes it, and the server polls [`AccessStore::fingerprint`] and
//! reloads when it changes.
//!
//! A fresh data directory has the API disabled and no keys. Creating a key
//! enables the API, since a key is only ever created to be used.
//!
//! Signing and verifying requests is not here; this crate only stores the
//! secrets.
//!
//! The local user accounts of the HMP JSON API ([`users`]) live here too,
//! in a document of their own, shared the same way.

#![forbid(unsafe_code)]

mod credentials;
mod error;
mod file;
mod state;
mod store;
pub mod users;

pub use credentials::Credentials;
pub use error::AccessError;
pub use state::AccessState;
pub use store::AccessStore;
