//! Time: one monotonic base per stream, and the MPEG clocks derived from it.

/// The 90 kHz clock of PTS and DTS.
pub const CLOCK_90K_HZ: u64 = 90_000;
/// The 27 MHz system clock of PCR.
pub const PCR_HZ: u64 = 27_000_000;

/// Nanoseconds on the monotonic clock: the time base of a stream. Capture
/// stamps frames and audio with it; every other clock derives from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MonotonicNs(pub u64);

/// A 90 kHz timestamp (PTS/DTS), 33 bits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Clock90k(pub u64);

/// A 27 MHz program clock reference, 33 + 9 bits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pcr27M(pub u64);

impl MonotonicNs {
    pub fn from_secs_f64(secs: f64) -> MonotonicNs {
        MonotonicNs((secs * 1e9) as u64)
    }

    pub fn saturating_sub(self, other: MonotonicNs) -> u64 {
        self.0.saturating_sub(other.0)
    }

    /// This instant on the 90 kHz clock, counted from `origin`.
    pub fn to_90k(self, origin: MonotonicNs) -> Clock90k {
        Clock90k(mul_div(
            self.saturating_sub(origin),
            CLOCK_90K_HZ,
            1_000_000_000,
        ))
    }

    /// This instant on the 27 MHz clock, counted from `origin`.
    pub fn to_pcr(self, origin: MonotonicNs) -> Pcr27M {
        Pcr27M(mul_div(self.saturating_sub(origin), PCR_HZ, 1_000_000_000))
    }
}

impl Clock90k {
    /// The 33-bit value carried in a PES header.
    pub fn wire(self) -> u64 {
        self.0 & ((1 << 33) - 1)
    }

    pub fn to_pcr(self) -> Pcr27M {
        Pcr27M(self.0 * 300)
    }
}

impl Pcr27M {
    /// The 33-bit base (90 kHz) and 9-bit extension of the wire format.
    pub fn base_and_extension(self) -> (u64, u16) {
        let base = (self.0 / 300) & ((1 << 33) - 1);
        let ext = (self.0 % 300) as u16;
        (base, ext)
    }

    pub fn from_base_and_extension(base: u64, ext: u16) -> Pcr27M {
        Pcr27M(base * 300 + u64::from(ext))
    }
}

/// `value * num / den` without overflow for any realistic stream length.
fn mul_div(value: u64, num: u64, den: u64) -> u64 {
    ((u128::from(value) * u128::from(num)) / u128::from(den)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_second_on_each_clock() {
        let origin = MonotonicNs(5_000_000_000);
        let t = MonotonicNs(6_000_000_000);
        assert_eq!(t.to_90k(origin), Clock90k(90_000));
        assert_eq!(t.to_pcr(origin), Pcr27M(27_000_000));
        assert_eq!(MonotonicNs(1).to_90k(origin), Clock90k(0));
    }

    #[test]
    fn pcr_wire_split_round_trips() {
        for v in [0u64, 1, 299, 300, 27_000_000 * 3600 * 24 + 17] {
            let (b, e) = Pcr27M(v).base_and_extension();
            assert!(e < 300);
            assert_eq!(Pcr27M::from_base_and_extension(b, e), Pcr27M(v));
        }
    }

    #[test]
    fn no_overflow_after_days() {
        let ten_days = MonotonicNs(10 * 24 * 3600 * 1_000_000_000);
        assert_eq!(ten_days.to_pcr(MonotonicNs(0)).0, 10 * 24 * 3600 * PCR_HZ);
        assert_eq!(Clock90k(1 << 34).wire(), 0);
    }
}
