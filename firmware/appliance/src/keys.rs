//! `makarad api-key …` and `makarad api …`: they change the access file,
//! which a running server re-reads within a second.
//!
//! The serial console (`makarad console`) runs the same operations through
//! the functions below, which write their answer to any writer.

use std::io::{self, Write};
use std::path::Path;

use makara_access::{AccessError, AccessState, AccessStore};
use thiserror::Error;

use crate::cli::{ApiAction, ApiArgs, ApiKeyAction, ApiKeyArgs};
use crate::exit::{ExitCode, Failure};

/// Why an `api-key` or `api` operation failed.
#[derive(Debug, Error)]
pub enum AccessCommandError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("no consumer key {0}")]
    NoSuchKey(String),
    #[error("cannot write the answer")]
    Output(#[from] io::Error),
}

pub fn api_key(args: ApiKeyArgs) -> Result<(), Failure> {
    let out = &mut io::stdout().lock();
    let result = match args.action {
        ApiKeyAction::Create(dir) => create_key(&dir.data_dir, out),
        ApiKeyAction::List(dir) => list_keys(&dir.data_dir, out).map(|state| {
            if !state.enabled {
                eprintln!("note: the API is disabled (makarad api enable --data-dir …)");
            }
        }),
        ApiKeyAction::Revoke { key, dir } => revoke_key(&dir.data_dir, &key, out),
    };
    result.map_err(|e| Failure::new(ExitCode::Failed, e))
}

pub fn api_switch(args: ApiArgs) -> Result<(), Failure> {
    let (dir, enabled) = match args.action {
        ApiAction::Enable(d) => (d, true),
        ApiAction::Disable(d) => (d, false),
    };
    set_api(&dir.data_dir, enabled, &mut io::stdout().lock())
        .map_err(|e| Failure::new(ExitCode::Failed, e))
}

/// Creates a key pair (which enables the API) and prints exactly the two
/// lines `consumer_key: …` and `consumer_secret: …`: operators and tests
/// parse them.
pub fn create_key(data_dir: &Path, out: &mut impl Write) -> Result<(), AccessCommandError> {
    let key = AccessStore::open(data_dir).create_key()?;
    writeln!(out, "consumer_key: {}", key.consumer_key)?;
    writeln!(out, "consumer_secret: {}", key.consumer_secret)?;
    Ok(())
}

/// Prints one line per key (never the secrets) and returns the state, so
/// the caller can add a note when the API is off.
pub fn list_keys(data_dir: &Path, out: &mut impl Write) -> Result<AccessState, AccessCommandError> {
    let state = AccessStore::open(data_dir).load()?;
    for key in &state.keys {
        writeln!(
            out,
            "consumer_key: {} created: {}",
            key.consumer_key, key.created_unix
        )?;
    }
    Ok(state)
}

/// Revokes `key` and prints `revoked: KEY`.
pub fn revoke_key(
    data_dir: &Path,
    key: &str,
    out: &mut impl Write,
) -> Result<(), AccessCommandError> {
    if !AccessStore::open(data_dir).revoke(key)? {
        return Err(AccessCommandError::NoSuchKey(key.to_owned()));
    }
    writeln!(out, "revoked: {key}")?;
    Ok(())
}

/// Switches the API on or off and prints `api: enabled` or `api: disabled`.
pub fn set_api(
    data_dir: &Path,
    enabled: bool,
    out: &mut impl Write,
) -> Result<(), AccessCommandError> {
    AccessStore::open(data_dir).set_enabled(enabled)?;
    writeln!(out, "api: {}", if enabled { "enabled" } else { "disabled" })?;
    Ok(())
}
