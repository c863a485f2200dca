//! Login sessions: what a `calypso-session-id` cookie stands for.
//!
//! A session is made by a good login and ends when its user logs out,
//! after [`LoginSessions::idle`] without a request (each authenticated
//! request starts the idle time again), when its user is removed or
//! changes password (`makarad user passwd`), or when it is the oldest and
//! room is needed. The user's role is read from the users as they are now
//! at every request, so `makarad user role` takes effect at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use makara_access::users::{Role, User, UserDirectory};
use rand::RngCore;

/// How long a session lives without a request, unless configured.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30 * 60);
/// The shortest and longest idle time `makarad serve` takes.
pub const IDLE_RANGE_SECS: (u64, u64) = (60, 24 * 60 * 60);
/// Sessions held at once, all users together; the oldest goes first.
pub const MAX_SESSIONS: usize = 256;
/// Sessions one user holds at once; that user's oldest goes first.
pub const MAX_SESSIONS_PER_USER: usize = 32;
/// Random bytes in a session id: 256 bits, written as 64 hex digits.
const TOKEN_BYTES: usize = 32;

/// One login session as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub token: String,
    pub user_id: String,
    pub username: String,
    pub role: Role,
    /// When it ends if no request comes, in Unix milliseconds.
    pub expires_unix_ms: u64,
}

#[derive(Debug)]
struct Held {
    user_id: String,
    username: String,
    password_version: u64,
    last_seen: Instant,
}

/// Every live login session.
#[derive(Debug)]
pub struct LoginSessions {
    idle: Duration,
    held: Mutex<HashMap<String, Held>>,
}

impl LoginSessions {
    pub fn new(idle: Duration) -> LoginSessions {
        LoginSessions {
            idle,
            held: Mutex::new(HashMap::new()),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// A new session for `user`, who has just logged in.
    pub fn open(&self, user: &User, now: Instant, unix_ms: u64) -> Login {
        let token = new_token();
        let mut held = self.lock();
        self.forget_expired(&mut held, now);
        make_room(&mut held, &user.id);
        held.insert(
            token.clone(),
            Held {
                user_id: user.id.clone(),
                username: user.username.clone(),
                password_version: user.password_version,
                last_seen: now,
            },
        );
        self.login(token, user, unix_ms)
    }

    /// The session `token` names, its idle time started again; `None` if
    /// there is none, it expired, or its user is gone or changed password
    /// (such a session is forgotten).
    pub fn touch(
        &self,
        token: &str,
        users: &UserDirectory,
        now: Instant,
        unix_ms: u64,
    ) -> Option<Login> {
        let mut held = self.lock();
        let entry = held.get_mut(token)?;
        let user = users
            .get(&entry.username)
            .filter(|u| u.id == entry.user_id && u.password_version == entry.password_version);
        let expired = now.duration_since(entry.last_seen) >= self.idle;
        match user {
            Some(user) if !expired => {
                entry.last_seen = now;
                let user = user.clone();
                drop(held);
                Some(self.login(token.to_owned(), &user, unix_ms))
            }
            _ => {
                held.remove(token);
                None
            }
        }
    }

    /// Ends the session `token`: `false` if there was none (or it had
    /// expired).
    pub fn close(&self, token: &str, now: Instant) -> bool {
        let mut held = self.lock();
        match held.remove(token) {
            Some(h) => now.duration_since(h.last_seen) < self.idle,
            None => false,
        }
    }

    /// Sessions held now (expired ones not yet swept included).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn login(&self, token: String, user: &User, unix_ms: u64) -> Login {
        Login {
            token,
            user_id: user.id.clone(),
            username: user.username.clone(),
            role: user.role,
            expires_unix_ms: unix_ms.saturating_add(self.idle.as_millis() as u64),
        }
    }

    fn forget_expired(&self, held: &mut HashMap<String, Held>, now: Instant) {
        held.retain(|_, h| now.duration_since(h.last_seen) < self.idle);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Lets one more session of `user_id` in: drops that user's least recently
/// used one at [`MAX_SESSIONS_PER_USER`], and anyone's at [`MAX_SESSIONS`].
fn make_room(held: &mut HashMap<String, Held>, user_id: &str) {
    let users_own = held.values().filter(|h| h.user_id == user_id).count();
    if users_own >= MAX_SESSIONS_PER_USER {
        drop_least_recent(held, |h| h.user_id == user_id);
    }
    if held.len() >= MAX_SESSIONS {
        drop_least_recent(held, |_| true);
    }
}

fn drop_least_recent(held: &mut HashMap<String, Held>, among: impl Fn(&Held) -> bool) {
    let oldest = held
        .iter()
        .filter(|(_, h)| among(h))
        .min_by_key(|(_, h)| h.last_seen)
        .map(|(token, _)| token.clone());
    if let Some(token) = oldest {
        held.remove(&token);
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
