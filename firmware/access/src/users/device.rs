//! Device logins: the password itself, kept sealed, for the protocols that
//! need it (ONVIF's WS-UsernameToken PasswordDigest, RTSP Digest).
//!
//! Those protocols prove a password by a hash of the password with values
//! the client picks, so the device must hold the password, not only an
//! argon2id hash of it. A user with a device login keeps, beside the hash,
//! the password sealed with ChaCha20-Poly1305 under a random 256-bit key
//! in `DATA_DIR/device.key` ([`KEY_FILE`], mode 0600, made once by the
//! first `makarad user add|device-login` that needs it). The sealed text is
//! bound to the user's id, so it cannot be moved to another user.
//!
//! This keeps the passwords from anyone who has a copy of the users file
//! alone (a backup, a support bundle); whoever can read the whole data
//! directory, or is root on the box, can read them.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::rngs::OsRng;
use rand::RngCore;
use thiserror::Error;
use zeroize::Zeroizing;

/// The key's file in the data directory.
pub const KEY_FILE: &str = "device.key";
/// Bytes in the key: 256 bits.
const KEY_BYTES: usize = 32;
/// Bytes in a ChaCha20-Poly1305 nonce.
const NONCE_BYTES: usize = 12;
/// Bytes in its tag.
const TAG_BYTES: usize = 16;
/// What every sealed password is bound to, besides the user's id: a
/// sealed text of another purpose or format never opens as one.
const PURPOSE: &[u8] = b"makara device login v1";

/// Why the device key or a sealed password could not be used.
#[derive(Debug, Error)]
pub enum DeviceKeyError {
    #[error("cannot read the device-login key {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the device-login key {} is missing, but users have device logins; \
         set their passwords again (makarad user passwd) to make a new key",
        path.display()
    )]
    Missing { path: PathBuf },
    #[error("the device-login key {} holds {len} bytes, not {KEY_BYTES}", path.display())]
    Length { path: PathBuf, len: usize },
    #[error("cannot write the device-login key {}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot generate the device-login key or a nonce")]
    Random(#[source] rand::Error),
    // Only a message beyond 256 GiB fails to seal; a password is 128 bytes.
    #[error("cannot seal the device-login password")]
    Seal,
    #[error(
        "the device-login password of user '{username}' does not open with {} \
         (the key was replaced, or the users file was edited); set the password again",
        path.display()
    )]
    Unseal { username: String, path: PathBuf },
}

/// The key that seals device-login passwords. Wiped from memory when
/// dropped; `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct DeviceKey {
    bytes: Zeroizing<[u8; KEY_BYTES]>,
    path: PathBuf,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// The key of `data_dir`; `None` if there is none yet.
    pub(crate) fn read(data_dir: &Path) -> Result<Option<DeviceKey>, DeviceKeyError> {
        let path = data_dir.join(KEY_FILE);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(DeviceKeyError::Read { path, source }),
        };
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        let mut extra = [0u8; 1];
        let got = read_up_to(&mut file, &mut bytes[..])
            .and_then(|n| Ok(n + read_up_to(&mut file, &mut extra)?));
        match got {
            Ok(KEY_BYTES) => Ok(Some(DeviceKey { bytes, path })),
            Ok(len) => Err(DeviceKeyError::Length { path, len }),
            Err(source) => Err(DeviceKeyError::Read { path, source }),
        }
    }

    /// The key of `data_dir`, made now if there is none. Only writers call
    /// this, under the users' writer lock, so two cannot make two keys.
    ///
    /// Crash-safe: the key is written and synced to a temporary file, then
    /// renamed into place and the directory synced, so `device.key` is
    /// either absent or whole.
    pub(crate) fn read_or_create(data_dir: &Path) -> Result<DeviceKey, DeviceKeyError> {
        if let Some(key) = DeviceKey::read(data_dir)? {
            return Ok(key);
        }
        let path = data_dir.join(KEY_FILE);
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        OsRng
            .try_fill_bytes(&mut bytes[..])
            .map_err(DeviceKeyError::Random)?;
        let temp = data_dir.join(format!("{KEY_FILE}.new"));
        let write = |source| DeviceKeyError::Write {
            path: path.clone(),
            source,
        };
        write_synced(&temp, &bytes[..]).map_err(write)?;
        fs::rename(&temp, &path).map_err(write)?;
        File::open(data_dir)
            .and_then(|d| d.sync_all())
            .map_err(write)?;
        Ok(DeviceKey { bytes, path })
    }

    /// `password` sealed for the user `user_id`: base64 of nonce, then
    /// ciphertext and tag.
    pub(crate) fn seal(&self, user_id: &str, password: &str) -> Result<String, DeviceKeyError> {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(DeviceKeyError::Random)?;
        let aad = associated_data(user_id);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: password.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| DeviceKeyError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// The password sealed for `user_id` in `sealed`; `None` if it does not
    /// open (another key, another user, an edit).
    pub(crate) fn open(&self, user_id: &str, sealed: &str) -> Option<Zeroizing<String>> {
        let raw = STANDARD.decode(sealed).ok()?;
        if raw.len() < NONCE_BYTES + TAG_BYTES {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_BYTES);
        let aad = associated_data(user_id);
        let plain = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .ok()?;
        let plain = Zeroizing::new(plain);
        std::str::from_utf8(&plain)
            .ok()
            .map(|p| Zeroizing::new(p.to_owned()))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.bytes[..]))
    }
}

/// Whether `sealed` has the shape of a sealed password (checked when the
/// users file is read; whether it opens is checked when it is used).
pub(crate) fn check_sealed(sealed: &str) -> bool {
    STANDARD
        .decode(sealed)
        .is_ok_and(|raw| raw.len() >= NONCE_BYTES + TAG_BYTES)
}

fn associated_data(user_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(PURPOSE.len() + 1 + user_id.len());
    aad.extend_from_slice(PURPOSE);
    aad.push(0);
    aad.extend_from_slice(user_id.as_bytes());
    aad
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A leftover temporary file keeps its old bits; the key is a secret.
    file.set_permissions(Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn a_key_is_made_once_0600_and_read_back() {
        let dir = TestDir::new("device-key");
        assert!(DeviceKey::read(dir.path()).expect("read").is_none());
        let made = DeviceKey::read_or_create(dir.path()).expect("create");
        let path = dir.path().join(KEY_FILE);
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(fs::read(&path).expect("bytes").len(), KEY_BYTES);
        let again = DeviceKey::read_or_create(dir.path()).expect("again");
        assert_eq!(*made.bytes, *again.bytes, "never replaced");
        assert!(!dir.path().join("device.key.new").exists());
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        let dir = TestDir::new("device-key-short");
        fs::write(dir.path().join(KEY_FILE), [7u8; 31]).expect("write");
        let err = DeviceKey::read(dir.path()).expect_err("short");
        assert!(
            matches!(err, DeviceKeyError::Length { len: 31, .. }),
            "{err}"
        );
        fs::write(dir.path().join(KEY_FILE), [7u8; 33]).expect("write");
        assert!(matches!(
            DeviceKey::read(dir.path()),
            Err(DeviceKeyError::Length { len: 33, .. })
        ));
    }

    #[test]
    fn a_sealed_password_opens_only_for_its_user_and_key() {
        let dir = TestDir::new("device-seal");
        let key = DeviceKey::read_or_create(dir.path()).expect("key");
        let sealed = key.seal("id-1", "correct horse").expect("seal");
        assert!(check_sealed(&sealed));
        assert!(!sealed.contains("correct"));
        assert_ne!(sealed, key.seal("id-1", "correct horse").expect("seal"));
        assert_eq!(
            key.open("id-1", &sealed).as_deref().map(String::as_str),
            Some("correct horse")
        );
        assert!(key.open("id-2", &sealed).is_none(), "bound to the user");
        let other = TestDir::new("device-seal-other");
        let other = DeviceKey::read_or_create(other.path()).expect("key");
        assert!(other.open("id-1", &sealed).is_none(), "bound to the key");
        let mut raw = STANDARD.decode(&sealed).expect("b64");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(key.open("id-1", &STANDARD.encode(raw)).is_none());
        assert!(key.open("id-1", "not base64!").is_none());
        assert!(!check_sealed("c2hvcnQ="));
    }
}
