//! Where an input's bytes come from: a UDP socket or an SRT connection,
//! behind one small interface for [`crate::TsInput`].

use std::time::Duration;

use makara_config::{Endpoint, SrtConfig};
use makara_media::SrtLinkStats;

use crate::activity::Silence;
use crate::error::InputError;
use crate::srt::SrtReceiver;
use crate::udp::{UdpPlan, UdpReceiver};

/// What one receive gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A datagram or message of this many bytes is at the buffer's start.
    Message(usize),
    /// Nothing within the wait.
    Nothing,
}

#[derive(Debug)]
pub enum Source {
    Udp {
        receiver: UdpReceiver,
        label: String,
    },
    Srt(Box<SrtReceiver>),
}

impl Source {
    pub fn udp(url: &Endpoint, interface: Option<&str>) -> Result<Source, InputError> {
        let label = match interface {
            Some(nic) => format!("{} on {nic}", url.as_str()),
            None => url.as_str().to_string(),
        };
        let plan = UdpPlan::resolve(&label, url, interface)?;
        let receiver = UdpReceiver::open(&label, &plan)?;
        Ok(Source::Udp { receiver, label })
    }

    pub fn srt(srt: &SrtConfig, interface: Option<&str>) -> Result<Source, InputError> {
        Ok(Source::Srt(Box::new(SrtReceiver::open(srt, interface)?)))
    }

    pub fn label(&self) -> &str {
        match self {
            Source::Udp { label, .. } => label,
            Source::Srt(srt) => srt.label(),
        }
    }

    /// One datagram or message, waiting at most `wait` (a zero wait takes
    /// only what is already there). Every source waits out `wait` when it
    /// has nothing, so callers never spin.
    pub fn receive(&mut self, buf: &mut [u8], wait: Duration) -> Result<Received, InputError> {
        let len = match self {
            Source::Udp { receiver, .. } => receiver.receive(buf, wait)?,
            Source::Srt(srt) => srt.receive(buf, wait)?,
        };
        Ok(len.map_or(Received::Nothing, Received::Message))
    }

    /// Connections made so far (SRT); a UDP socket has one for its life.
    pub fn connections(&self) -> u64 {
        match self {
            Source::Udp { .. } => 1,
            Source::Srt(srt) => srt.connections(),
        }
    }

    /// Why the source cannot deliver, when it knows (an SRT peer rejected
    /// us, is unreachable, went away).
    pub fn problem(&self) -> Option<String> {
        match self {
            Source::Udp { .. } => None,
            Source::Srt(srt) => srt.problem(),
        }
    }

    pub fn describe_silence(&self, silence: Silence) -> String {
        match self {
            Source::Udp { label, .. } => silence.describe(label),
            Source::Srt(srt) => srt.describe_silence(silence),
        }
    }

    pub fn link_stats(&self) -> Option<SrtLinkStats> {
        match self {
            Source::Udp { .. } => None,
            Source::Srt(srt) => srt.link_stats(),
        }
    }
}
