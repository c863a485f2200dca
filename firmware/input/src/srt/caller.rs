//! An SRT input that connects out: a caller (to a listener) or a
//! rendezvous peer. It connects on the first receive and again whenever
//! the link ends, waiting 250 ms, then 500 ms, then 1 s between attempts.
//!
//! Each attempt (name lookup included) runs on a thread of its own, at
//! most one at a time, so a receive never waits longer than its timeout
//! for a handshake that takes up to [`CONNECT_TIMEOUT`]; a peer that comes
//! back during an attempt is met by that attempt's handshake.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use makara_media::SrtLinkStats;
use makara_srt::{SrtSettings, SrtSocket};

use super::describe::{self, Failure};
use super::link_log::LinkLog;
use super::CONNECT_TIMEOUT;
use crate::activity::Silence;
use crate::backoff::Backoff;
use crate::error::InputError;

/// A link that delivered and then stays silent this long (or for its
/// latency, if that is longer) is taken for dead and made again. libsrt
/// itself waits 5 s (its peer idle timeout), too long for an input to
/// recover within 2 s of its peer's return; a live transport stream is
/// never silent for a second (PCRs come at least every 100 ms), and within
/// the latency SRT may still recover what an outage held up.
const MIN_STALL: Duration = Duration::from_secs(1);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    host: String,
    port: u16,
    /// For a rendezvous: the local address (an interface's, or any) and
    /// port to meet from.
    rendezvous_from: Option<(Option<IpAddr>, u16)>,
}

impl Target {
    pub fn caller(host: String, port: u16) -> Target {
        Target {
            host,
            port,
            rendezvous_from: None,
        }
    }

    pub fn rendezvous(
        host: String,
        port: u16,
        local_ip: Option<IpAddr>,
        local_port: u16,
    ) -> Target {
        Target {
            host,
            port,
            rendezvous_from: Some((local_ip, local_port)),
        }
    }

    /// "SRT caller to 127.0.0.1:9000", the start of every problem.
    fn describe(&self) -> String {
        let host = super::bracketed(&self.host);
        match self.rendezvous_from {
            None => format!("SRT caller to {host}:{}", self.port),
            Some((_, local)) => format!("SRT rendezvous with {host}:{} from :{local}", self.port),
        }
    }

    /// The mode the peer must be in.
    fn peer_mode(&self) -> &'static str {
        match self.rendezvous_from {
            None => "listener",
            Some(_) => "rendezvous",
        }
    }

    /// One attempt: looks the name up (each time: its address may change)
    /// and connects.
    fn connect(&self, settings: &SrtSettings) -> Result<SrtSocket, Failure> {
        let remote = self.resolve()?;
        let result = match self.rendezvous_from {
            None => SrtSocket::call(remote, settings, CONNECT_TIMEOUT),
            Some((ip, port)) => {
                let any = match remote {
                    SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                };
                let local = SocketAddr::new(ip.unwrap_or(any), port);
                SrtSocket::rendezvous(local, remote, settings, CONNECT_TIMEOUT)
            }
        };
        result.map_err(Failure::Srt)
    }

    fn resolve(&self) -> Result<SocketAddr, Failure> {
        let failure = |reason: String| Failure::Resolve {
            host: self.host.clone(),
            reason,
        };
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let mut addresses = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| failure(e.to_string()))?;
        addresses
            .next()
            .ok_or_else(|| failure("the name has no address".into()))
    }
}

#[derive(Debug)]
enum Link {
    /// Waiting out the backoff until the next attempt.
    Waiting { until: Instant },
    Connecting {
        result: Receiver<Result<SrtSocket, Failure>>,
    },
    Connected {
        socket: SrtSocket,
        /// When the last message came; `None` until the first.
        last_message: Option<Instant>,
    },
}

/// A caller or rendezvous input; see the module's documentation.
#[derive(Debug)]
pub struct CallerInput {
    pub(super) log: LinkLog,
    target: Target,
    settings: SrtSettings,
    backoff: Backoff,
    /// See [`MIN_STALL`].
    stall: Duration,
    link: Link,
}

impl CallerInput {
    /// Checks the settings (a setting libsrt refuses would fail every
    /// attempt) without connecting.
    pub fn open(
        label: String,
        target: Target,
        settings: SrtSettings,
    ) -> Result<CallerInput, InputError> {
        let mode = match target.rendezvous_from {
            None => makara_srt::SrtMode::Caller,
            Some(_) => makara_srt::SrtMode::Rendezvous,
        };
        if let Err(source) = settings.check(mode) {
            return Err(InputError::Srt { label, source });
        }
        Ok(CallerInput {
            log: LinkLog::new(label, target.describe()),
            stall: MIN_STALL.max(Duration::from_millis(settings.latency_ms.into())),
            target,
            settings,
            backoff: Backoff::new(),
            link: Link::Waiting {
                until: Instant::now(),
            },
        })
    }

    pub fn link_stats(&self) -> Option<SrtLinkStats> {
        match &self.link {
            Link::Connected { socket, .. } => Some(socket.stats()),
            _ => None,
        }
    }

    pub fn describe_silence(&self, silence: Silence) -> String {
        match &self.link {
            Link::Connected { socket, .. } => silence.describe(&format!(
                "{} (connected to {})",
                self.log.label,
                socket.peer()
            )),
            _ => silence.describe(&self.log.label),
        }
    }

    /// One message, or `None` after waiting `wait`; connecting and
    /// reconnecting happen within the wait.
    pub fn receive(&mut self, buf: &mut [u8], wait: Duration) -> Option<usize> {
        let deadline = Instant::now() + wait;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match &mut self.link {
                Link::Connected {
                    socket,
                    last_message,
                } => match socket.recv(buf, remaining) {
                    Ok(Some(len)) => {
                        *last_message = Some(Instant::now());
                        return Some(len);
                    }
                    Ok(None) => {
                        let stall = self.stall;
                        if last_message.is_some_and(|t| t.elapsed() >= stall) {
                            let silent = describe::seconds(stall);
                            self.reconnect_now(format!("no data for {silent}"));
                        }
                    }
                    Err(e) => self.link_ended(describe::ended(&e)),
                },
                Link::Waiting { until } => {
                    let until = *until;
                    if Instant::now() >= until {
                        self.start_attempt();
                    } else {
                        thread::sleep(
                            until
                                .min(deadline)
                                .saturating_duration_since(Instant::now()),
                        );
                    }
                }
                Link::Connecting { result } => match result.recv_timeout(remaining) {
                    Ok(Ok(socket)) => self.connected(socket),
                    Ok(Err(failure)) => self.attempt_failed(&failure),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => self.attempt_failed(&Failure::Internal(
                        "the connection attempt ended without a result".into(),
                    )),
                },
            }
            if Instant::now() >= deadline {
                return None;
            }
        }
    }

    fn start_attempt(&mut self) {
        let (done, result) = mpsc::sync_channel(1);
        let target = self.target.clone();
        let settings = self.settings.clone();
        let spawned = thread::Builder::new()
            .name("srt-connect".into())
            .spawn(move || {
                // Nobody waits any more if the input was closed meanwhile:
                // the socket is then dropped, closing it.
                let _ = done.send(target.connect(&settings));
            });
        match spawned {
            Ok(_) => self.link = Link::Connecting { result },
            Err(e) => self.attempt_failed(&Failure::Internal(format!(
                "cannot start a connection attempt: {e}"
            ))),
        }
    }

    fn connected(&mut self, socket: SrtSocket) {
        self.log
            .connected(format_args!("connected to {}", socket.peer()));
        self.backoff.reset();
        self.link = Link::Connected {
            socket,
            last_message: None,
        };
    }

    fn attempt_failed(&mut self, failure: &Failure) {
        let wait = self.backoff.next_wait();
        let why = describe::failure(failure, self.target.peer_mode());
        self.log.trouble(format_args!("{why}; retrying"));
        self.link = Link::Waiting {
            until: Instant::now() + wait,
        };
    }

    /// The link ended: try again after the shortest wait.
    fn link_ended(&mut self, why: String) {
        let wait = self.backoff.next_wait();
        self.set_disconnected(why, Instant::now() + wait);
    }

    /// The link is taken for dead: try again at once.
    fn reconnect_now(&mut self, why: String) {
        self.set_disconnected(why, Instant::now());
    }

    fn set_disconnected(&mut self, why: String, until: Instant) {
        self.log.trouble(format_args!("{why}; reconnecting"));
        self.link = Link::Waiting { until };
    }
}
