//! The on-disk shape of the access state: a versioned TOML document.
//!
//! ```toml
//! version = 1
//! enabled = true
//!
//! [[keys]]
//! consumer_key = "U5k4J0/397WeUaRNWTs+CA"
//! consumer_secret = "..."
//! created_unix = 1700000000
//! ```
//!
//! The serde derives live on these private structs so the public types
//! stay free to change without changing the file format.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{AccessError, AccessState, Credentials};

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct AccessFile {
    version: u32,
    enabled: bool,
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize)]
struct KeyEntry {
    consumer_key: String,
    consumer_secret: String,
    created_unix: u64,
}

pub(crate) fn encode(state: &AccessState) -> Result<Vec<u8>, AccessError> {
    let file = AccessFile {
        version: VERSION,
        enabled: state.enabled,
        keys: state
            .keys
            .iter()
            .map(|c| KeyEntry {
                consumer_key: c.consumer_key.clone(),
                consumer_secret: c.consumer_secret.clone(),
                created_unix: c.created_unix,
            })
            .collect(),
    };
    toml::to_string(&file)
        .map(String::into_bytes)
        .map_err(AccessError::Encode)
}

/// `dir` only names the data directory in error messages.
pub(crate) fn decode(bytes: &[u8], dir: &Path) -> Result<AccessState, AccessError> {
    let text = std::str::from_utf8(bytes).map_err(|_| AccessError::NotUtf8 {
        dir: dir.to_path_buf(),
    })?;
    let file: AccessFile = toml::from_str(text).map_err(|source| AccessError::Parse {
        dir: dir.to_path_buf(),
        source,
    })?;
    // Unknown fields are tolerated, but a new version may mean the known
    // ones changed meaning.
    if file.version != VERSION {
        return Err(AccessError::UnsupportedVersion {
            dir: dir.to_path_buf(),
            version: file.version,
        });
    }
    Ok(AccessState {
        enabled: file.enabled,
        keys: file
            .keys
            .into_iter()
            .map(|k| Credentials {
                consumer_key: k.consumer_key,
                consumer_secret: k.consumer_secret,
                created_unix: k.created_unix,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> &'static Path {
        Path::new("/data")
    }

    #[test]
    fn round_trip() {
        let state = AccessState {
            enabled: true,
            keys: vec![Credentials {
                consumer_key: "U5k4J0/397WeUaRNWTs+CA".into(),
                consumer_secret: "c2VjcmV0c2VjcmV0c2VjcmV0".into(),
                created_unix: 1_700_000_000,
            }],
        };
        let bytes = encode(&state).expect("encode");
        assert_eq!(decode(&bytes, dir()).expect("decode"), state);
    }

    #[test]
    fn empty_state_round_trips() {
        let bytes = encode(&AccessState::default()).expect("encode");
        assert_eq!(
            decode(&bytes, dir()).expect("decode"),
            AccessState::default()
        );
    }

    #[test]
    fn keys_may_be_omitted() {
        let state = decode(b"version = 1\nenabled = false\n", dir()).expect("decode");
        assert_eq!(state, AccessState::default());
    }

    #[test]
    fn rejects_other_versions() {
        let err = decode(b"version = 2\nenabled = true\n", dir()).expect_err("v2");
        assert!(matches!(
            err,
            AccessError::UnsupportedVersion { version: 2, .. }
        ));
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            decode(b"enabled = true\n", dir()),
            Err(AccessError::Parse { .. })
        ));
        assert!(matches!(
            decode(b"\xff\xfe", dir()),
            Err(AccessError::NotUtf8 { .. })
        ));
        let err = decode(b"version = [", dir()).expect_err("garbage");
        assert!(err.to_string().contains("/data"), "{err}");
    }
}
