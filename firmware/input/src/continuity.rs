//! Continuity counting (ISO/IEC 13818-1 §2.4.3.3): per PID, the 4-bit
//! continuity_counter goes up by one with each packet that has a payload and
//! stays the same in a packet with only an adaptation field. A payload
//! packet may be sent twice in a row (a duplicate, same count); a third copy
//! is an error. A packet that sets discontinuity_indicator may start
//! anywhere. Null packets carry no count.
//!
//! Packets flagged with transport_error_indicator, and those with the
//! reserved adaptation_field_control '00' (which decoders discard), are left
//! out: their headers cannot be trusted. The packet after one lost that way
//! then counts as an error, as a loss should.
//!
//! One error is counted per break in a PID's sequence, however many packets
//! the break lost; the next packet is checked against the count found.

use makara_mpegts::packet::{TsPacket, NULL_PID};

use crate::align::Packet;

/// Number of PIDs (13 bits).
const PIDS: usize = 1 << 13;

/// What is known of one PID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidState {
    Unseen,
    Seen {
        counter: u8,
        /// The last packet had a payload and was not itself a repeat, so
        /// the next may repeat it.
        may_repeat: bool,
    },
}

/// Counts continuity errors over all PIDs of one stream.
#[derive(Debug, Clone)]
pub struct ContinuityChecker {
    pids: Box<[PidState]>,
    errors: u64,
}

impl Default for ContinuityChecker {
    fn default() -> Self {
        ContinuityChecker::new()
    }
}

impl ContinuityChecker {
    pub fn new() -> ContinuityChecker {
        ContinuityChecker {
            pids: vec![PidState::Unseen; PIDS].into_boxed_slice(),
            errors: 0,
        }
    }

    /// Checks the next packet of the stream; true when it breaks its PID's
    /// sequence (and was counted).
    pub fn check(&mut self, packet: &Packet) -> bool {
        let packet = TsPacket::new_unchecked(&packet[..]);
        let has_payload = packet.has_payload();
        if packet.transport_error() || packet.pid() == NULL_PID {
            return false;
        }
        if !has_payload && !packet.has_adaptation() {
            return false;
        }
        let counter = packet.continuity_counter();
        let state = &mut self.pids[usize::from(packet.pid())];
        let (broken, may_repeat) = match *state {
            PidState::Seen { .. } if packet.discontinuity() => (false, has_payload),
            PidState::Unseen => (false, has_payload),
            PidState::Seen {
                counter: last,
                may_repeat,
            } => judge(last, may_repeat, counter, has_payload),
        };
        *state = PidState::Seen {
            counter,
            may_repeat,
        };
        if broken {
            self.errors += 1;
        }
        broken
    }

    /// Errors counted since creation.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Forgets every PID's count (a new stream begins); the error count
    /// stays.
    pub fn restart(&mut self) {
        self.pids.fill(PidState::Unseen);
    }
}

/// Whether `counter` breaks a sequence whose last count was `last`, and
/// whether the packet after this one may repeat it.
fn judge(last: u8, may_repeat: bool, counter: u8, has_payload: bool) -> (bool, bool) {
    if !has_payload {
        return (counter != last, false);
    }
    if counter == last {
        // A duplicate when allowed; a third copy, or a payload packet
        // after an adaptation-only one with the same count, is not.
        return (!may_repeat, false);
    }
    (counter != (last + 1) & 0x0F, true)
}

#[cfg(test)]
mod tests;
