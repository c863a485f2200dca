//! The on-disk shape of the users: a versioned TOML document.
//!
//! ```toml
//! version = 1
//!
//! [[users]]
//! id = "0b0d2a64-3f1e-4c8e-9d7b-5a3c2e1f0a9b"
//! username = "alice"
//! role = "operator"
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$…"
//! password_version = 1
//! created_unix = 1700000000
//! device_secret = "…"   # only for a device login: the sealed password
//! ```
//!
//! `device_secret` came later within version 1: a firmware that does not
//! know it ignores it (and such a user simply has no device login there).
//!
//! Everything read is checked again (names, roles, hashes, count): the
//! checksums catch torn writes, not hand edits, and a bad entry is refused
//! rather than guessed at.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::directory::{Entry, UserDirectory};
use super::error::{EntryProblem, UserStoreError};
use super::{device, password, rules, Role, User, MAX_USERS};

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct UsersFile {
    version: u32,
    #[serde(default)]
    users: Vec<UserEntry>,
}

#[derive(Serialize, Deserialize)]
struct UserEntry {
    id: String,
    username: String,
    role: String,
    password_hash: String,
    password_version: u64,
    created_unix: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_secret: Option<String>,
}

pub(crate) fn encode(entries: &[Entry]) -> Result<Vec<u8>, UserStoreError> {
    let file = UsersFile {
        version: VERSION,
        users: entries
            .iter()
            .map(|e| UserEntry {
                id: e.user.id.clone(),
                username: e.user.username.clone(),
                role: e.user.role.as_str().to_owned(),
                password_hash: e.hash.clone(),
                password_version: e.user.password_version,
                created_unix: e.user.created_unix,
                device_secret: e.device_secret.clone(),
            })
            .collect(),
    };
    toml::to_string(&file)
        .map(String::into_bytes)
        .map_err(UserStoreError::Encode)
}

/// `dir` only names the data directory in error messages.
pub(crate) fn decode(
    bytes: &[u8],
    generation: u64,
    dir: &Path,
) -> Result<UserDirectory, UserStoreError> {
    let text = std::str::from_utf8(bytes).map_err(|_| UserStoreError::NotUtf8 {
        dir: dir.to_path_buf(),
    })?;
    let file: UsersFile = toml::from_str(text).map_err(|source| UserStoreError::Parse {
        dir: dir.to_path_buf(),
        source,
    })?;
    if file.version != VERSION {
        return Err(UserStoreError::UnsupportedVersion {
            dir: dir.to_path_buf(),
            version: file.version,
        });
    }
    if file.users.len() > MAX_USERS {
        return Err(UserStoreError::TooMany {
            dir: dir.to_path_buf(),
            count: file.users.len(),
        });
    }
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(file.users.len());
    for (index, raw) in file.users.into_iter().enumerate() {
        let bad = |problem| UserStoreError::Entry {
            dir: dir.to_path_buf(),
            index,
            problem,
        };
        let entry = entry(raw).map_err(bad)?;
        if !seen.insert(entry.user.username.to_ascii_lowercase()) {
            return Err(bad(EntryProblem::Duplicate(entry.user.username)));
        }
        entries.push(entry);
    }
    Ok(UserDirectory::new(entries, generation))
}

fn entry(raw: UserEntry) -> Result<Entry, EntryProblem> {
    rules::check_username(&raw.username).map_err(EntryProblem::Username)?;
    let role: Role = raw.role.parse().map_err(EntryProblem::Role)?;
    password::check_stored(&raw.password_hash).map_err(EntryProblem::Hash)?;
    if let Some(sealed) = &raw.device_secret {
        if !device::check_sealed(sealed) {
            return Err(EntryProblem::DeviceSecret);
        }
    }
    Ok(Entry {
        user: User {
            id: raw.id,
            username: raw.username,
            role,
            created_unix: raw.created_unix,
            password_version: raw.password_version,
            device_login: raw.device_secret.is_some(),
        },
        hash: raw.password_hash,
        device_secret: raw.device_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::password::DUMMY_HASH;

    fn dir() -> &'static Path {
        Path::new("/data")
    }

    fn alice() -> Entry {
        Entry {
            user: User {
                id: "0b0d2a64-3f1e-4c8e-9d7b-5a3c2e1f0a9b".into(),
                username: "alice".into(),
                role: Role::Operator,
                created_unix: 1_700_000_000,
                password_version: 3,
                device_login: false,
            },
            hash: DUMMY_HASH.into(),
            device_secret: None,
        }
    }

    fn one_user(field: &str, value: &str) -> String {
        let mut text = String::from_utf8(encode(&[alice()]).expect("encode")).expect("utf-8");
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{field} = ")))
            .expect("field")
            .to_owned();
        text = text.replace(&line, &format!("{field} = \"{value}\""));
        text
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&[alice()]).expect("encode");
        let directory = decode(&bytes, 7, dir()).expect("decode");
        assert_eq!(directory.generation(), 7);
        assert_eq!(
            directory.users().cloned().collect::<Vec<_>>(),
            vec![alice().user]
        );
        assert_eq!(directory.hash_of("alice"), Some(DUMMY_HASH));
    }

    #[test]
    fn a_device_secret_round_trips_and_marks_a_device_login() {
        let mut entry = alice();
        let sealed = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned();
        entry.device_secret = Some(sealed.clone());
        let text = String::from_utf8(encode(&[entry]).expect("encode")).expect("utf-8");
        assert!(
            text.contains(&format!("device_secret = \"{sealed}\"")),
            "{text}"
        );
        let directory = decode(text.as_bytes(), 1, dir()).expect("decode");
        assert!(directory.get("alice").expect("alice").device_login);
        let plain = encode(&[alice()]).expect("encode");
        assert!(!String::from_utf8(plain)
            .expect("utf-8")
            .contains("device_secret"));
        let bad = text.replace(&sealed, "short");
        let err = decode(bad.as_bytes(), 1, dir()).expect_err("bad secret");
        assert!(matches!(
            err,
            UserStoreError::Entry {
                problem: EntryProblem::DeviceSecret,
                ..
            }
        ));
    }

    #[test]
    fn no_users_round_trips_and_may_be_omitted() {
        let bytes = encode(&[]).expect("encode");
        assert_eq!(decode(&bytes, 1, dir()).expect("decode").len(), 0);
        assert_eq!(decode(b"version = 1\n", 1, dir()).expect("decode").len(), 0);
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        assert!(matches!(
            decode(b"version = 2\n", 1, dir()),
            Err(UserStoreError::UnsupportedVersion { version: 2, .. })
        ));
        assert!(matches!(
            decode(b"users = []\n", 1, dir()),
            Err(UserStoreError::Parse { .. })
        ));
        assert!(matches!(
            decode(b"\xff", 1, dir()),
            Err(UserStoreError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn rejects_bad_entries_naming_them() {
        let cases = [
            one_user("username", "al ice"),
            one_user("role", "root"),
            one_user("password_hash", "plain-text-password"),
        ];
        for text in cases {
            let err = decode(text.as_bytes(), 1, dir()).expect_err(&text);
            assert!(
                matches!(err, UserStoreError::Entry { index: 0, .. }),
                "{err:?}"
            );
            let shown = err.to_string();
            assert!(
                shown.contains("/data") && shown.contains("user 1"),
                "{shown}"
            );
        }
    }

    #[test]
    fn rejects_names_equal_but_for_case() {
        let mut other = alice();
        other.user.username = "Alice".into();
        let bytes = encode(&[alice(), other]).expect("encode");
        let err = decode(&bytes, 1, dir()).expect_err("duplicate");
        assert!(matches!(
            err,
            UserStoreError::Entry {
                index: 1,
                problem: EntryProblem::Duplicate(_),
                ..
            }
        ));
    }

    #[test]
    fn rejects_more_than_the_maximum() {
        let entries: Vec<Entry> = (0..=MAX_USERS)
            .map(|i| {
                let mut e = alice();
                e.user.username = format!("user{i}");
                e
            })
            .collect();
        let bytes = encode(&entries).expect("encode");
        assert!(matches!(
            decode(&bytes, 1, dir()),
            Err(UserStoreError::TooMany { count: 65, .. })
        ));
    }
}
