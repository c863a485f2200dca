//! An SRT input that listens: bound when opened, it takes one caller at a
//! time and accepts the next when that one leaves.
//!
//! A second caller while the first is sending is refused (its connection
//! closed as soon as it is made) and logged. One arriving when the first
//! has sent nothing for a second replaces it: that is how a sender that
//! restarted without closing its link gets back in before libsrt gives up
//! on the old link (5 s).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use makara_media::SrtLinkStats;
use makara_srt::{SrtError, SrtListener, SrtSettings, SrtSocket};

use super::describe;
use super::link_log::LinkLog;
use crate::activity::{Silence, RECEIVING_WINDOW};
use crate::error::InputError;

/// How often a connected listener looks for further callers.
const NEWCOMER_CHECK: Duration = Duration::from_millis(100);

#[derive(Debug)]
struct Caller {
    socket: SrtSocket,
    /// When it connected, or sent its last message.
    last_heard: Instant,
}

/// A listener input; see the module's documentation.
#[derive(Debug)]
pub struct ListenerInput {
    pub(super) log: LinkLog,
    listener: SrtListener,
    caller: Option<Caller>,
    next_newcomer_check: Instant,
}

impl ListenerInput {
    pub fn open(
        label: String,
        local: SocketAddr,
        settings: SrtSettings,
    ) -> Result<ListenerInput, InputError> {
        let listener = SrtListener::bind(local, &settings).map_err(|e| match e {
            SrtError::AddressInUse { local } => InputError::PortInUse {
                label: label.clone(),
                port: local.port(),
            },
            source => InputError::Srt {
                label: label.clone(),
                source,
            },
        })?;
        let who = format!("SRT listener on :{}", listener.local_addr().port());
        Ok(ListenerInput {
            log: LinkLog::new(label, who),
            listener,
            caller: None,
            next_newcomer_check: Instant::now(),
        })
    }

    pub fn link_stats(&self) -> Option<SrtLinkStats> {
        self.caller.as_ref().map(|c| c.socket.stats())
    }

    pub fn describe_silence(&self, silence: Silence) -> String {
        match &self.caller {
            Some(caller) => silence.describe(&format!(
                "{} (caller {})",
                self.log.label,
                caller.socket.peer()
            )),
            None => format!(
                "{} (no caller connected)",
                silence.describe(&self.log.label)
            ),
        }
    }

    /// One message, or `None` after waiting `wait`; callers are accepted
    /// within the wait. Err only when the listener itself fails.
    pub fn receive(&mut self, buf: &mut [u8], wait: Duration) -> Result<Option<usize>, InputError> {
        let deadline = Instant::now() + wait;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.check_newcomers()?;
            match &mut self.caller {
                Some(caller) => match caller.socket.recv(buf, remaining) {
                    Ok(Some(len)) => {
                        caller.last_heard = Instant::now();
                        return Ok(Some(len));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let peer = caller.socket.peer();
                        self.caller = None;
                        let why = describe::ended(&e);
                        self.log.trouble(format_args!(
                            "caller {peer} left ({why}); waiting for a caller"
                        ));
                    }
                },
                None => {
                    if let Some(socket) = self.accept(remaining)? {
                        self.take(socket);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    fn accept(&self, wait: Duration) -> Result<Option<SrtSocket>, InputError> {
        self.listener
            .accept(wait)
            .map_err(|source| InputError::Srt {
                label: self.log.label.clone(),
                source,
            })
    }

    fn take(&mut self, socket: SrtSocket) {
        self.log
            .connected(format_args!("caller {} connected", socket.peer()));
        self.caller = Some(Caller {
            socket,
            last_heard: Instant::now(),
        });
    }

    /// While a caller is connected, looks (every 100 ms) for others:
    /// refused while the caller sends, taken in its place once it has been
    /// silent for a second.
    fn check_newcomers(&mut self) -> Result<(), InputError> {
        let Some(current) = &self.caller else {
            return Ok(());
        };
        let now = Instant::now();
        if now < self.next_newcomer_check {
            return Ok(());
        }
        self.next_newcomer_check = now + NEWCOMER_CHECK;
        let current_peer = current.socket.peer();
        let mut may_replace = now.saturating_duration_since(current.last_heard) > RECEIVING_WINDOW;
        while let Some(newcomer) = self.accept(Duration::ZERO)? {
            if may_replace {
                may_replace = false;
                tracing::warn!(
                    "{}: caller {current_peer} has sent nothing for over a second; taking {} in its place",
                    self.log.who,
                    newcomer.peer()
                );
                self.take(newcomer);
            } else {
                tracing::warn!(
                    "{}: refused caller {}: one caller at a time, and {current_peer} is sending",
                    self.log.who,
                    newcomer.peer()
                );
            }
        }
        Ok(())
    }
}
