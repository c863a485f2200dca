//! SRT inputs through makara-srt: a listener that takes one caller at a
//! time, or a caller / rendezvous peer that reconnects with backoff.

mod caller;
mod describe;
mod link_log;
mod listener;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use makara_config::{SrtConfig, SrtMode};
use makara_media::SrtLinkStats;
use makara_srt::{KeyLength, SrtSettings};

use crate::activity::Silence;
use crate::error::InputError;
use crate::nic;

use caller::{CallerInput, Target};
use link_log::LinkLog;
use listener::ListenerInput;

/// How long one connection attempt may take: libsrt's own default, long
/// enough for a handshake over a satellite hop.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One SRT input, in the mode its configuration names.
#[derive(Debug)]
pub enum SrtReceiver {
    Listener(ListenerInput),
    Caller(CallerInput),
}

impl SrtReceiver {
    /// A listener binds now (a port in use fails here); a caller or
    /// rendezvous peer connects on the first receive.
    pub fn open(srt: &SrtConfig, interface: Option<&str>) -> Result<SrtReceiver, InputError> {
        let settings = SrtSettings {
            latency_ms: srt.latency_ms,
            passphrase: srt.passphrase.clone(),
            // The sender announces the key length.
            key_length: KeyLength::Auto,
            stream_id: srt.stream_id.clone(),
            // An input has no ttl/tos settings: it mostly sends
            // acknowledgements, marked as the system marks them.
            ip_ttl: None,
            ip_tos: None,
        };
        let host = srt.address.clone().unwrap_or_default();
        let remote_port = srt.remote_port.unwrap_or_default();
        let local_port = srt.local_port.unwrap_or(remote_port);
        match srt.mode {
            SrtMode::Listener => {
                let label = match interface {
                    Some(nic) => format!("srt://:{local_port} (listener on {nic})"),
                    None => format!("srt://:{local_port} (listener)"),
                };
                let ip = local_ip(&label, interface)?;
                ListenerInput::open(label, (ip, local_port).into(), settings)
                    .map(SrtReceiver::Listener)
            }
            SrtMode::Caller => {
                let label = format!("srt://{}:{remote_port} (caller)", bracketed(&host));
                if let Some(nic) = interface {
                    return Err(InputError::CallerInterface {
                        label,
                        interface: nic.to_string(),
                    });
                }
                let target = Target::caller(host, remote_port);
                CallerInput::open(label, target, settings).map(SrtReceiver::Caller)
            }
            SrtMode::Rendezvous => {
                let label = format!(
                    "srt://{}:{remote_port} (rendezvous from :{local_port})",
                    bracketed(&host)
                );
                let ip = interface.map(|_| local_ip(&label, interface)).transpose()?;
                let target = Target::rendezvous(host, remote_port, ip, local_port);
                CallerInput::open(label, target, settings).map(SrtReceiver::Caller)
            }
        }
    }

    fn log(&self) -> &LinkLog {
        match self {
            SrtReceiver::Listener(l) => &l.log,
            SrtReceiver::Caller(c) => &c.log,
        }
    }

    pub fn label(&self) -> &str {
        &self.log().label
    }

    /// One message, waiting at most `wait`; connecting, reconnecting and
    /// accepting happen inside that wait.
    pub fn receive(&mut self, buf: &mut [u8], wait: Duration) -> Result<Option<usize>, InputError> {
        match self {
            SrtReceiver::Listener(l) => l.receive(buf, wait),
            SrtReceiver::Caller(c) => Ok(c.receive(buf, wait)),
        }
    }

    pub fn connections(&self) -> u64 {
        self.log().connections()
    }

    pub fn problem(&self) -> Option<String> {
        self.log().problem()
    }

    pub fn describe_silence(&self, silence: Silence) -> String {
        match self {
            SrtReceiver::Listener(l) => l.describe_silence(silence),
            SrtReceiver::Caller(c) => c.describe_silence(silence),
        }
    }

    pub fn link_stats(&self) -> Option<SrtLinkStats> {
        match self {
            SrtReceiver::Listener(l) => l.link_stats(),
            SrtReceiver::Caller(c) => c.link_stats(),
        }
    }
}

/// The interface's IPv4 address, or any address without one.
fn local_ip(label: &str, interface: Option<&str>) -> Result<IpAddr, InputError> {
    match interface {
        Some(name) => Ok(nic::ipv4(label, &nic::find(label, name)?)?.into()),
        None => Ok(Ipv4Addr::UNSPECIFIED.into()),
    }
}

/// An IPv6 address in brackets, as URLs write it.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}
