//! Bytes per 100 ms slot, for the rate over the last whole second.

use makara_media::MonotonicNs;

const SLOT_NS: u64 = 100_000_000;
/// Ten whole slots make the second, and one more is being filled.
const SLOTS: usize = 11;
const WHOLE: u64 = SLOTS as u64 - 1;

#[derive(Debug, Clone, Default)]
pub(super) struct RateWindow {
    /// (slot number since the clock's zero, bytes in it).
    slots: [(u64, u64); SLOTS],
    /// The slot of the first packet: before a second has passed, the rate
    /// is over the time since.
    first: Option<u64>,
}

impl RateWindow {
    pub fn add(&mut self, at: MonotonicNs, bytes: u64) {
        let n = at.0 / SLOT_NS;
        let slot = &mut self.slots[(n % SLOTS as u64) as usize];
        if slot.0 != n {
            *slot = (n, 0);
        }
        slot.1 += bytes;
        self.first.get_or_insert(n);
    }

    /// Bits per second over the whole slots before the one `now` is in: the
    /// last second, or the time since the first packet if shorter.
    pub fn bits_per_second(&self, now: MonotonicNs) -> u64 {
        let Some(first) = self.first else {
            return 0;
        };
        let current = now.0 / SLOT_NS;
        let oldest = current.saturating_sub(WHOLE).max(first);
        if current <= oldest {
            return 0; // not one whole slot yet
        }
        let bytes: u64 = self
            .slots
            .iter()
            .filter(|(n, _)| (oldest..current).contains(n))
            .map(|(_, bytes)| bytes)
            .sum();
        let span_ns = (current - oldest) * SLOT_NS;
        (u128::from(bytes) * 8 * 1_000_000_000 / u128::from(span_ns)) as u64
    }
}
