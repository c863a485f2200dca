//! [`TsInput`]: one network input, its packets and its report.

use std::time::{Duration, Instant};

use makara_config::{InputConfig, InputKind};
use makara_media::InputReport;

use crate::activity::Activity;
use crate::align::{Packet, PacketAligner};
use crate::continuity::ContinuityChecker;
use crate::error::InputError;
use crate::rtp;
use crate::source::{Received, Source};

/// Large enough for any UDP datagram and any SRT message.
const RECEIVE_BUFFER: usize = 64 * 1024;
/// After the first message of a read, at most this many more already
/// waiting are taken in the same read...
const MAX_MESSAGES_PER_READ: usize = 64;
/// ...and no more once this many packets have been added.
const MAX_PACKETS_PER_READ: usize = 2048;

/// A transport stream received from the network (UDP or SRT): whole
/// 188-byte packets found in whatever arrives, counted and checked.
#[derive(Debug)]
pub struct TsInput {
    source: Source,
    buffer: Vec<u8>,
    aligner: PacketAligner,
    continuity: ContinuityChecker,
    activity: Activity,
    /// The source's connection count at the last read: a new connection is
    /// a new stream, whose alignment and counts start afresh.
    connections: u64,
}

impl TsInput {
    /// Opens the input: binds the UDP socket (joining a multicast group on
    /// the input's `interface`, or where the routing table says when none
    /// is named) or the SRT listener now, so a port in use or an unknown
    /// interface fails here; an SRT caller or rendezvous connects on the
    /// first read. Other kinds of input are refused: they are not
    /// transport streams from the network.
    pub fn open(input: &InputConfig) -> Result<TsInput, InputError> {
        let source = match &input.kind {
            InputKind::Mpeg2Ts { url } => Source::udp(url, input.interface.as_deref())?,
            InputKind::Srt { srt, .. } => Source::srt(srt, input.interface.as_deref())?,
            other => {
                return Err(InputError::NotTransportStream {
                    name: input.name.clone(),
                    kind: format!("{:?}", other.input_type()),
                })
            }
        };
        tracing::info!("input '{}': receiving {}", input.name, source.label());
        Ok(TsInput::with_source(source))
    }

    fn with_source(source: Source) -> TsInput {
        TsInput {
            source,
            buffer: vec![0; RECEIVE_BUFFER],
            aligner: PacketAligner::new(),
            continuity: ContinuityChecker::new(),
            activity: Activity::new(Instant::now()),
            connections: 0,
        }
    }

    /// Waits at most `timeout` (returning as soon as packets came) and
    /// appends the whole, aligned packets received to `out`. Transient
    /// trouble (no sender yet, a peer gone, reconnecting, rejected by the
    /// peer) is not an error: it shows in [`TsInput::report`]. An error
    /// means retrying cannot help.
    pub fn read(&mut self, timeout: Duration, out: &mut Vec<Packet>) -> Result<(), InputError> {
        let deadline = Instant::now() + timeout;
        let before = out.len();
        let mut wait = timeout;
        loop {
            self.receive_one(wait, out)?;
            if out.len() > before {
                return self.take_waiting(before, out);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            wait = deadline - now;
        }
    }

    /// The counters since the input opened. Cheap: no system call but the
    /// SRT link's statistics.
    pub fn report(&self) -> InputReport {
        let now = Instant::now();
        let receiving = self.activity.receiving(now);
        let last_error = if receiving {
            None
        } else {
            self.source.problem().or_else(|| {
                let silence = self.activity.silence(now)?;
                Some(self.source.describe_silence(silence))
            })
        };
        InputReport {
            packets: self.activity.packets(),
            bytes: self.activity.bytes(),
            continuity_errors: self.continuity.errors(),
            sync_losses: self.aligner.sync_losses(),
            receiving,
            srt: self.source.link_stats(),
            last_error,
            // The stream counts them as it stores each report.
            losses: 0,
        }
    }

    /// "udp://239.1.1.1:5000", "srt://:9000 (listener)": the input in
    /// messages.
    pub fn label(&self) -> String {
        self.source.label().to_string()
    }

    /// Messages already waiting after the first, within the read's bounds.
    fn take_waiting(&mut self, before: usize, out: &mut Vec<Packet>) -> Result<(), InputError> {
        for _ in 0..MAX_MESSAGES_PER_READ {
            if out.len() - before >= MAX_PACKETS_PER_READ {
                break;
            }
            if !self.receive_one(Duration::ZERO, out)? {
                break;
            }
        }
        Ok(())
    }

    /// One message, waiting at most `wait`; false when none came.
    fn receive_one(&mut self, wait: Duration, out: &mut Vec<Packet>) -> Result<bool, InputError> {
        let received = self.source.receive(&mut self.buffer, wait)?;
        if self.source.connections() != self.connections {
            self.connections = self.source.connections();
            self.aligner.restart();
            self.continuity.restart();
        }
        let Received::Message(len) = received else {
            return Ok(false);
        };
        let now = Instant::now();
        self.activity.bytes_arrived(now);
        let first = out.len();
        self.aligner.push(rtp::ts_payload(&self.buffer[..len]), out);
        for packet in &out[first..] {
            self.continuity.check(packet);
        }
        self.activity.packets_found(now, out.len() - first);
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
