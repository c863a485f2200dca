//! The event log: what happened to streams, inputs and recordings, and
//! which logins were locked out, newest last.
//!
//! Kept in memory only, the last [`MAX_EVENTS`]: an event is news for
//! whoever watches the appliance now. The configuration document is saved
//! whole on every change, so events there would cost a durable write each
//! (and could not be written on the full disk some of them report); the
//! appliance's log file has the same facts across restarts.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use makara_config::Id;
use makara_recorder::FinishReason;

use crate::limits::MAX_EVENTS;

/// The longest user name an event keeps, in characters: the API passes
/// what a client typed, which may be anything.
const MAX_USERNAME_CHARS: usize = 128;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A stream was started (by a command, at boot, or by a preset).
    StreamStarted,
    /// A stream was stopped (by a command, or by loading a preset).
    StreamStopped,
    /// A stream did not start, or a running one stopped delivering; the
    /// detail says why.
    StreamFailed,
    /// A stream that had failed while running delivers again.
    StreamRecovered,
    /// A stream's network input stopped receiving; the detail says why.
    InputLost,
    /// A stream's network input receives again after it was lost.
    InputRecovered,
    RecordingStarted,
    /// A recording finished, and why.
    RecordingStopped(FinishReason),
    /// Logins were locked after too many failures, for a user name, an
    /// address, or both.
    LoginLockout {
        username: Option<String>,
        address: Option<IpAddr>,
    },
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    /// Counts up from 1 since makarad started.
    pub id: u64,
    /// When, in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    pub kind: EventKind,
    /// The stream, input or recording it is about (none for a lockout).
    pub subject: Option<Id>,
    /// That subject's name (a recording's title; for a lockout, the user
    /// name or else the address).
    pub name: String,
    /// More about it, in words: why a stream failed, the file a recording
    /// could not write, ...
    pub detail: String,
}

/// The last [`MAX_EVENTS`] events.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    inner: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    events: VecDeque<EventView>,
    last_id: u64,
}

impl EventLog {
    /// Appends an event, dropping the oldest beyond [`MAX_EVENTS`].
    pub fn record(
        &self,
        kind: EventKind,
        subject: Option<&Id>,
        name: &str,
        detail: impl Into<String>,
    ) -> EventView {
        let mut log = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        log.last_id += 1;
        let event = EventView {
            id: log.last_id,
            unix_ms: now_ms(),
            kind,
            subject: subject.cloned(),
            name: name.to_string(),
            detail: detail.into(),
        };
        if log.events.len() == MAX_EVENTS {
            log.events.pop_front();
        }
        log.events.push_back(event.clone());
        event
    }

    /// Every event kept, oldest first.
    pub fn list(&self) -> Vec<EventView> {
        let log = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        log.events.iter().cloned().collect()
    }

    /// Records a login lockout the API decided on, and logs it.
    pub fn lockout(&self, username: Option<String>, address: Option<IpAddr>) -> EventView {
        let username = username.map(|u| u.chars().take(MAX_USERNAME_CHARS).collect::<String>());
        let detail = match (&username, &address) {
            (Some(u), Some(a)) => format!("logins of user '{u}' from {a} are locked"),
            (Some(u), None) => format!("logins of user '{u}' are locked"),
            (None, Some(a)) => format!("logins from {a} are locked"),
            (None, None) => "logins are locked".to_string(),
        };
        tracing::warn!("{detail} after too many failures");
        let name = match (&username, &address) {
            (Some(u), _) => u.clone(),
            (None, Some(a)) => a.to_string(),
            (None, None) => String::new(),
        };
        let kind = EventKind::LoginLockout { username, address };
        self.record(kind, None, &name, detail)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_and_the_oldest_go_first() {
        let log = EventLog::default();
        for n in 0..MAX_EVENTS + 5 {
            log.record(EventKind::StreamStarted, None, &format!("s{n}"), "");
        }
        let events = log.list();
        assert_eq!(events.len(), MAX_EVENTS);
        assert_eq!(events[0].id, 6);
        assert_eq!(events[0].name, "s5");
        assert_eq!(events.last().unwrap().id, (MAX_EVENTS + 5) as u64);
        assert!(events.windows(2).all(|w| w[0].unix_ms <= w[1].unix_ms));
    }

    #[test]
    fn a_lockout_names_the_user_or_the_address() {
        let log = EventLog::default();
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let both = log.lockout(Some("bob".into()), Some(address));
        assert_eq!(both.name, "bob");
        assert_eq!(
            both.detail,
            "logins of user 'bob' from 192.0.2.7 are locked"
        );
        let by_address = log.lockout(None, Some(address));
        assert_eq!(by_address.name, "192.0.2.7");
        assert_eq!(
            by_address.kind,
            EventKind::LoginLockout {
                username: None,
                address: Some(address)
            }
        );
        let long = log.lockout(Some("x".repeat(10_000)), None);
        assert_eq!(long.name.chars().count(), MAX_USERNAME_CHARS);
    }
}
