//! The console's login: what changes the box needs an administrator of
//! the box, logged in on this session. The accounts are the box's users
//! (those of the HMP API, ONVIF and RTSP), so there is one set of
//! passwords to keep.
//!
//! On first use, while the box has no administrator, the console has the
//! operator choose the password of user `admin` (typed twice) before the
//! first change; that logs them in. A failed login waits
//! [`Console::login_delay`] before the prompt comes back, so that guessing
//! on the serial line is slow.

use std::io::{self, BufRead, Read, Write};

use makara_access::users::{Role, UserStore};

use super::secret::read_secret;
use super::Console;
use crate::users::{self, NewUser};

/// The administrator the console makes on first use.
pub const FIRST_ADMIN: &str = "admin";

/// Who is logged in on this session, if anyone.
#[derive(Debug, Default)]
pub struct Session {
    pub user: Option<String>,
}

/// Logs the operator in if they are not yet; whether they now are.
pub fn require(
    console: &Console,
    session: &mut Session,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<bool> {
    if session.user.is_some() {
        return Ok(true);
    }
    let store = UserStore::open(&console.data_dir);
    let admins = match store.list() {
        Ok(list) => list
            .iter()
            .filter(|u| u.role == Role::Administrator)
            .count(),
        Err(e) => {
            writeln!(out, "cannot read the users: {e}")?;
            return Ok(false);
        }
    };
    let user = if admins == 0 {
        first_admin(console, input, out)?
    } else {
        log_in(console, &store, input, out)?
    };
    session.user = user;
    Ok(session.user.is_some())
}

fn first_admin(
    console: &Console,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<Option<String>> {
    writeln!(
        out,
        "No administrator yet. Choose the password of user '{FIRST_ADMIN}' \
         (8 to 128 characters); it logs in here, to the HMP API and over RTSP."
    )?;
    let Some(password) = super::upkeep::new_password(console, input, out)? else {
        return Ok(None);
    };
    let new = NewUser {
        username: FIRST_ADMIN,
        role: Role::Administrator,
        password: &password,
        device_login: false,
    };
    match users::add(&console.data_dir, &new, out) {
        Ok(()) => {
            writeln!(out, "logged in as {FIRST_ADMIN}")?;
            Ok(Some(FIRST_ADMIN.to_owned()))
        }
        Err(e) => {
            writeln!(out, "failed: {}", crate::exit::chain(&e))?;
            Ok(None)
        }
    }
}

fn log_in(
    console: &Console,
    store: &UserStore,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<Option<String>> {
    writeln!(out, "This changes the box: log in as an administrator.")?;
    out.write_all(b"Username: ")?;
    out.flush()?;
    let mut name = Vec::new();
    if Read::take(&mut *input, 256).read_until(b'\n', &mut name)? == 0 {
        return Ok(None);
    }
    let name = String::from_utf8_lossy(&name).trim().to_owned();
    let Some(password) = read_secret(console.echo, "Password: ", input, out)? else {
        return Ok(None);
    };
    match store.verify(&name, &password) {
        Ok(user) if user.role == Role::Administrator => {
            writeln!(out, "logged in as {}", user.username)?;
            Ok(Some(user.username))
        }
        // One answer for every failure: it tells a guesser nothing.
        _ => {
            std::thread::sleep(console.login_delay);
            writeln!(out, "login failed")?;
            Ok(None)
        }
    }
}
