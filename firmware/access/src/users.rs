//! The appliance's local user accounts, for the HMP JSON API's login.
//!
//! A user has a name, a [`Role`] and a password, stored only as an argon2id
//! hash (see [Passwords](#passwords)). The operator manages users with
//! `makarad user add|list|passwd|role|remove` while the server may run on
//! the same data directory, so they live on disk in a
//! [`makara_store::Slots`] document named `users` (`DATA_DIR/users.{a,b}`,
//! [`UserStore`]) apart from the API keys: the CLI writes it, and the
//! server keeps a [`UserWatch`] which it refreshes every
//! [`USERS_POLL_INTERVAL`].
//!
//! A fresh data directory has no users, so no one can log in until the
//! operator adds one; there is no default account or password.
//!
//! # Passwords
//!
//! argon2id with OWASP's parameters ([`ARGON2_MEMORY_KIB`],
//! [`ARGON2_ITERATIONS`], [`ARGON2_LANES`]), a 16-byte random salt, kept as
//! a PHC string. At most two hashes run at once in a process, each waiting
//! at most 2 s for its turn, so a flood of logins cannot take more than
//! 2 x 19 MiB. [`UserDirectory::verify`] answers an unknown user and a
//! wrong password alike, in the same time.
//!
//! # Device logins
//!
//! ONVIF's WS-UsernameToken PasswordDigest and RTSP Digest prove a
//! password by hashing it with values the client picks, so the device
//! needs the password itself. A user may be given a device login
//! (`makarad user add --device-login`, `makarad user device-login`): the
//! password is then also kept sealed with ChaCha20-Poly1305 under the
//! random key in `DATA_DIR/device.key`, and
//! [`UserDirectory::verify_digest`] / [`UserDirectory::device_password`]
//! open it for the protocol code. A copy of the users file alone does not
//! give those passwords away; the whole data directory does. Users
//! without a device login have only their argon2id hash on disk.
//!
//! Sessions, cookies and lockouts are the API's; this module only knows
//! who the users are.

mod device;
mod directory;
mod error;
mod file;
mod gate;
mod password;
mod role;
mod rules;
mod store;
mod watch;

pub use device::{DeviceKeyError, KEY_FILE as DEVICE_KEY_FILE};
pub use directory::{User, UserDirectory};
pub use error::{
    AddUserError, EntryProblem, RemoveUserError, SetDeviceLoginError, SetPasswordError,
    SetRoleError, UserStoreError, VerifyError,
};
pub use password::{
    HashError, StoredHashError, ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB,
};
pub use role::{Role, UnknownRole};
pub use rules::{
    check_password, check_username, PasswordError, UsernameError, PASSWORD_MAX_BYTES,
    PASSWORD_MIN_BYTES, USERNAME_MAX_CHARS,
};
pub use store::UserStore;
pub use watch::{UserWatch, USERS_POLL_INTERVAL};
pub use zeroize::Zeroizing;

/// The most users a data directory holds: plenty for one appliance's
/// operators, and it bounds the file and every scan of it.
pub const MAX_USERS: usize = 64;
