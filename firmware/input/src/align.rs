//! Packet alignment: bytes in, whole 188-byte transport packets out.
//!
//! Datagrams and SRT messages normally carry whole packets, but nothing
//! guarantees it: a sender may cut packets across messages, prepend a
//! header we do not know, or put garbage between or inside packets. The
//! aligner takes bytes in chunks of any size and keeps only what lines up.
//!
//! It has two states. Locked, it expects a sync byte (0x47) every 188 bytes
//! and emits each 188-byte run that starts with one; the first run that
//! does not loses the lock. Hunting, it skips bytes until a sync byte is
//! followed by [`SYNC_CONFIRM`] - 1 more, 188 bytes apart, and locks there.
//! Each run of skipped bytes is one sync loss.
//!
//! A packet damaged by garbage inside it still starts with a sync byte and
//! is emitted as it is (the bytes cannot tell garbage inside a packet from
//! garbage after it); the lock is lost at the next packet and found again
//! after the garbage.
//!
//! Memory is bounded: between calls at most `(SYNC_CONFIRM - 1) * 188`
//! bytes are held, whatever came in.

use makara_mpegts::packet::{PACKET_LEN, SYNC_BYTE};

/// Sync bytes, 188 bytes apart, that must all be there before the aligner
/// locks: one alone is too likely in garbage (1 in 256 bytes).
pub const SYNC_CONFIRM: usize = 3;

/// The most bytes held between calls: an unconfirmed candidate's span.
pub const MAX_HELD: usize = (SYNC_CONFIRM - 1) * PACKET_LEN;

/// One whole transport packet.
pub type Packet = [u8; PACKET_LEN];

/// Finds packets in a byte stream; see the module's documentation.
#[derive(Debug, Clone)]
pub struct PacketAligner {
    /// Bytes not yet emitted or skipped: while locked, the start of a
    /// packet (fewer than 188); while hunting, the first undecided
    /// candidate and what follows it (at most [`MAX_HELD`]).
    held: Vec<u8>,
    state: State,
    sync_losses: u64,
    bytes_skipped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Locked,
    /// `counted`: this run of skipped bytes is already one sync loss.
    Hunting {
        counted: bool,
    },
}

/// Where a hunt through a buffer ended.
#[derive(Debug, PartialEq, Eq)]
enum Hunt {
    /// Confirmed packet start at this offset.
    Found(usize),
    /// Everything before this offset is garbage; from here on it is too
    /// soon to tell.
    NeedMore(usize),
}

impl Default for PacketAligner {
    fn default() -> Self {
        PacketAligner::new()
    }
}

impl PacketAligner {
    /// An aligner hunting for its first packet.
    pub fn new() -> PacketAligner {
        PacketAligner {
            held: Vec::with_capacity(MAX_HELD),
            state: State::Hunting { counted: false },
            sync_losses: 0,
            bytes_skipped: 0,
        }
    }

    /// Takes the next bytes of the stream and appends the packets they
    /// complete to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Packet>) {
        let mut work = std::mem::take(&mut self.held);
        work.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            if self.state == State::Locked {
                pos = self.emit_locked(&work, pos, out);
                if work.len() - pos < PACKET_LEN {
                    break;
                }
                self.state = State::Hunting { counted: false };
            }
            match hunt(&work[pos..]) {
                Hunt::Found(offset) => {
                    self.skip(offset);
                    pos += offset;
                    self.state = State::Locked;
                }
                Hunt::NeedMore(offset) => {
                    self.skip(offset);
                    pos += offset;
                    break;
                }
            }
        }
        work.drain(..pos);
        debug_assert!(work.len() <= MAX_HELD);
        self.held = work;
    }

    /// Forgets held bytes and hunts again, for a new stream (an SRT
    /// reconnection). The counters stay.
    pub fn restart(&mut self) {
        self.held.clear();
        self.state = State::Hunting { counted: false };
    }

    /// Runs of garbage skipped (each one loss of sync, or garbage before
    /// the first packet).
    pub fn sync_losses(&self) -> u64 {
        self.sync_losses
    }

    /// Bytes skipped as garbage.
    pub fn bytes_skipped(&self) -> u64 {
        self.bytes_skipped
    }

    /// Bytes held for the next call: neither emitted nor skipped yet (at
    /// most [`MAX_HELD`]).
    pub fn buffered(&self) -> usize {
        self.held.len()
    }

    pub fn is_locked(&self) -> bool {
        self.state == State::Locked
    }

    /// Emits whole packets from `pos` while each starts with a sync byte;
    /// returns where it stopped: at a partial packet or at one without.
    fn emit_locked(&mut self, work: &[u8], mut pos: usize, out: &mut Vec<Packet>) -> usize {
        while let Some(chunk) = work.get(pos..pos + PACKET_LEN) {
            let Ok(packet) = Packet::try_from(chunk) else {
                break;
            };
            if packet[0] != SYNC_BYTE {
                break;
            }
            out.push(packet);
            pos += PACKET_LEN;
        }
        pos
    }

    fn skip(&mut self, count: usize) {
        if count == 0 {
            return;
        }
        self.bytes_skipped += count as u64;
        if let State::Hunting { counted: false } = self.state {
            self.sync_losses += 1;
            self.state = State::Hunting { counted: true };
        }
    }
}

/// The first offset in `bytes` where [`SYNC_CONFIRM`] sync bytes line up,
/// or the first one it is too soon to judge.
fn hunt(bytes: &[u8]) -> Hunt {
    for (start, &byte) in bytes.iter().enumerate() {
        if byte != SYNC_BYTE {
            continue;
        }
        let mut later = (1..SYNC_CONFIRM).map(|k| bytes.get(start + k * PACKET_LEN));
        match later.find(|b| *b != Some(&SYNC_BYTE)) {
            None => return Hunt::Found(start),
            Some(None) => return Hunt::NeedMore(start),
            Some(Some(_)) => {}
        }
    }
    Hunt::NeedMore(bytes.len())
}

#[cfg(test)]
mod tests;
