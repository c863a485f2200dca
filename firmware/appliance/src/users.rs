//! `makarad user …`: the local accounts of the HMP JSON API. They change
//! the users file, which a running server re-reads within a second.
//!
//! Passwords come on stdin, never on the command line, where `ps` and the
//! shell's history would show them.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use makara_access::users::{
    AddUserError, RemoveUserError, Role, SetDeviceLoginError, SetPasswordError, SetRoleError, User,
    UserStore, UserStoreError,
};
use thiserror::Error;

use crate::cli::{UserAction, UserArgs};
use crate::exit::{ExitCode, Failure};

/// The most of stdin's first line that is read: far more than the longest
/// password (128 bytes), so a longer one is refused by the password rule,
/// which says the allowed range; and a bound on reading a stray file.
const MAX_LINE_BYTES: usize = 4096;

/// Why a `user` operation failed.
#[derive(Debug, Error)]
pub enum UserCommandError {
    #[error(transparent)]
    Add(#[from] AddUserError),
    #[error(transparent)]
    Passwd(#[from] SetPasswordError),
    #[error(transparent)]
    Role(#[from] SetRoleError),
    #[error(transparent)]
    Remove(#[from] RemoveUserError),
    #[error(transparent)]
    DeviceLogin(#[from] SetDeviceLoginError),
    #[error(transparent)]
    Store(#[from] UserStoreError),
    #[error("cannot read the password from stdin")]
    ReadPassword(#[source] io::Error),
    #[error("no password on stdin: give it as the first line, e.g. printf '%s\\n' \"$PASSWORD\" | makarad user …")]
    NoPassword,
    #[error("the password on stdin is not UTF-8 text")]
    PasswordNotUtf8,
    #[error(
        "the first line of stdin is longer than {MAX_LINE_BYTES} bytes; a password is at most 128"
    )]
    LineTooLong,
    #[error("cannot write the answer")]
    Output(#[source] io::Error),
}

pub fn run(args: UserArgs) -> Result<(), Failure> {
    let out = &mut io::stdout().lock();
    let result = match args.action {
        UserAction::Add(a) => read_password_from_stdin().and_then(|p| {
            let new = NewUser {
                username: &a.username,
                role: a.role,
                password: &p,
                device_login: a.device_login,
            };
            add(&a.dir.data_dir, &new, out)
        }),
        UserAction::List(dir) => list(&dir.data_dir, out).map(|count| {
            if count == 0 {
                eprintln!("note: no users; add one with makarad user add --data-dir … --username … --role … --password-stdin");
            }
        }),
        UserAction::Passwd(a) => {
            read_password_from_stdin().and_then(|p| passwd(&a.dir.data_dir, &a.username, &p, out))
        }
        UserAction::Role(a) => set_role(&a.dir.data_dir, &a.username, a.role, out),
        UserAction::Remove(a) => remove(&a.dir.data_dir, &a.username, out),
        UserAction::DeviceLogin(a) if a.enable => read_password_from_stdin()
            .and_then(|p| device_login(&a.dir.data_dir, &a.username, Some(&p), out)),
        UserAction::DeviceLogin(a) => device_login(&a.dir.data_dir, &a.username, None, out),
    };
    result.map_err(|e| Failure::new(ExitCode::Failed, e))
}

/// What `user add` was given.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub role: Role,
    pub password: &'a str,
    pub device_login: bool,
}

/// Adds a user and prints `added: NAME role: ROLE`, with ` device-login:
/// yes` after it for a device login.
pub fn add(data_dir: &Path, new: &NewUser, out: &mut impl Write) -> Result<(), UserCommandError> {
    let user = UserStore::open(data_dir).add_with_device_login(
        new.username,
        new.role,
        new.password,
        new.device_login,
    )?;
    writeln!(
        out,
        "added: {} role: {}{}",
        user.username,
        user.role,
        device_login_suffix(&user)
    )
    .map_err(UserCommandError::Output)
}

/// Prints `username: NAME role: ROLE created: UNIX_SECONDS` for each user,
/// in order of creation, with ` device-login: yes` after it for a user who
/// has a device login, and returns how many there are.
pub fn list(data_dir: &Path, out: &mut impl Write) -> Result<usize, UserCommandError> {
    let users = UserStore::open(data_dir).list()?;
    for user in &users {
        writeln!(
            out,
            "username: {} role: {} created: {}{}",
            user.username,
            user.role,
            user.created_unix,
            device_login_suffix(user)
        )
        .map_err(UserCommandError::Output)?;
    }
    Ok(users.len())
}

/// Turns a user's device login on (with the user's current password) or
/// off, and prints `device-login: yes|no user: NAME`.
pub fn device_login(
    data_dir: &Path,
    username: &str,
    password: Option<&str>,
    out: &mut impl Write,
) -> Result<(), UserCommandError> {
    let user = UserStore::open(data_dir).set_device_login(username, password)?;
    let state = if user.device_login { "yes" } else { "no" };
    writeln!(out, "device-login: {state} user: {}", user.username).map_err(UserCommandError::Output)
}

/// Users without a device login print as before it existed.
fn device_login_suffix(user: &User) -> &'static str {
    if user.device_login {
        " device-login: yes"
    } else {
        ""
    }
}

/// Sets a user's password and prints `password changed: NAME` (a device
/// login stays on, with the new password).
pub fn passwd(
    data_dir: &Path,
    username: &str,
    password: &str,
    out: &mut impl Write,
) -> Result<(), UserCommandError> {
    let user = UserStore::open(data_dir).set_password(username, password)?;
    writeln!(out, "password changed: {}", user.username).map_err(UserCommandError::Output)
}

/// Sets a user's role and prints `changed: NAME role: ROLE`.
pub fn set_role(
    data_dir: &Path,
    username: &str,
    role: Role,
    out: &mut impl Write,
) -> Result<(), UserCommandError> {
    let user = UserStore::open(data_dir).set_role(username, role)?;
    writeln!(out, "changed: {} role: {}", user.username, user.role)
        .map_err(UserCommandError::Output)
}

/// Removes a user and prints `removed: NAME`.
pub fn remove(
    data_dir: &Path,
    username: &str,
    out: &mut impl Write,
) -> Result<(), UserCommandError> {
    let user = UserStore::open(data_dir).remove(username)?;
    writeln!(out, "removed: {}", user.username).map_err(UserCommandError::Output)
}

fn read_password_from_stdin() -> Result<String, UserCommandError> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprint!("password (it shows as you type; end with Enter): ");
    }
    read_password(&mut stdin.lock())
}

/// The first line of `input` without its line ending (`\n` or `\r\n`).
/// Nothing else is trimmed: spaces are part of a password.
fn read_password(input: &mut impl BufRead) -> Result<String, UserCommandError> {
    let mut line = Vec::new();
    input
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(UserCommandError::ReadPassword)?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.len() > MAX_LINE_BYTES {
        return Err(UserCommandError::LineTooLong);
    }
    if line.is_empty() {
        return Err(UserCommandError::NoPassword);
    }
    String::from_utf8(line).map_err(|_| UserCommandError::PasswordNotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<String, UserCommandError> {
        read_password(&mut &bytes[..])
    }

    #[test]
    fn the_first_line_is_the_password() {
        assert_eq!(read(b"secret password\n").expect("line"), "secret password");
        assert_eq!(
            read(b"secret password\r\n").expect("crlf"),
            "secret password"
        );
        assert_eq!(read(b"no newline").expect("eof"), "no newline");
        assert_eq!(read(b"first\nsecond\n").expect("two lines"), "first");
        assert_eq!(read(b" spaced \n").expect("spaces"), " spaced ");
    }

    #[test]
    fn an_empty_first_line_is_no_password() {
        for input in [&b""[..], b"\n", b"\r\n", b"\nsecond\n"] {
            assert!(
                matches!(read(input), Err(UserCommandError::NoPassword)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_line_is_read_up_to_a_bound() {
        let longest = "p".repeat(MAX_LINE_BYTES);
        assert_eq!(
            read(format!("{longest}\n").as_bytes()).expect("longest"),
            longest
        );
        let endless = vec![b'p'; 1 << 20];
        assert!(matches!(read(&endless), Err(UserCommandError::LineTooLong)));
    }

    #[test]
    fn a_password_must_be_text() {
        assert!(matches!(
            read(b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\n"),
            Err(UserCommandError::PasswordNotUtf8)
        ));
    }
}
