//! Continuity counters per PID (TR 101 290 1.4), one byte of state each.

/// PIDs are 13 bits.
const PIDS: usize = 8192;
/// The PID has been seen; the low four bits are its last counter.
const KNOWN: u8 = 0x80;
/// The last packet repeated the one before it (its one allowed duplicate).
const REPEATED: u8 = 0x40;
const COUNTER: u8 = 0x0F;

#[derive(Debug, Clone)]
pub(super) struct Continuity {
    state: Box<[u8; PIDS]>,
    errors: u64,
}

impl Continuity {
    pub fn new() -> Continuity {
        Continuity {
            state: Box::new([0; PIDS]),
            errors: 0,
        }
    }

    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Forgets every PID's counter: the next packet of each starts afresh.
    pub fn restart(&mut self) {
        self.state.fill(0);
    }

    /// One packet of `pid` with counter `cc`.
    pub fn judge(&mut self, pid: u16, cc: u8, has_payload: bool, discontinuity: bool) {
        let slot = &mut self.state[usize::from(pid) & (PIDS - 1)];
        let last = *slot;
        if last & KNOWN == 0 || discontinuity {
            *slot = KNOWN | cc;
            return;
        }
        // Without a payload the counter does not advance: nothing to judge.
        if !has_payload {
            return;
        }
        let previous = last & COUNTER;
        if cc == previous {
            if last & REPEATED != 0 {
                self.errors += 1; // a third copy
            }
            *slot = KNOWN | REPEATED | cc;
            return;
        }
        if cc != (previous + 1) & COUNTER {
            self.errors += 1; // lost or out of order
        }
        *slot = KNOWN | cc;
    }
}
