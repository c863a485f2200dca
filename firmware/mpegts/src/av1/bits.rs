//! A reader of the AV1 specification's f(n) and uvlc() descriptors (AV1
//! §4.10): bits most significant first, running out being an error.

use super::Av1Error;

pub(super) struct BitReader<'a> {
    bytes: &'a [u8],
    /// The next bit, counted from the first byte's most significant.
    at: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, at: 0 }
    }

    /// f(n) for n ≤ 32.
    pub fn bits(&mut self, n: u32) -> Result<u32, Av1Error> {
        let mut value = 0u32;
        for _ in 0..n {
            let byte = self
                .bytes
                .get(self.at / 8)
                .ok_or(Av1Error::ShortSequenceHeader)?;
            let bit = (byte >> (7 - self.at % 8)) & 1;
            value = (value << 1) | u32::from(bit);
            self.at += 1;
        }
        Ok(value)
    }

    pub fn flag(&mut self) -> Result<bool, Av1Error> {
        Ok(self.bits(1)? == 1)
    }

    /// A small field, f(n) with n ≤ 8.
    pub fn byte(&mut self, n: u32) -> Result<u8, Av1Error> {
        Ok(self.bits(n.min(8))? as u8)
    }

    /// uvlc() (AV1 §4.10.3): leading zeros, a one, then as many bits.
    pub fn uvlc(&mut self) -> Result<u32, Av1Error> {
        let mut zeros = 0;
        while !self.flag()? {
            zeros += 1;
            if zeros >= 32 {
                return Ok(u32::MAX);
            }
        }
        let value = self.bits(zeros)?;
        Ok(value.saturating_add((1u32 << zeros) - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_across_bytes() {
        // 101 | 1 0000 | 0001 1 | 1
        let mut r = BitReader::new(&[0b1011_0000, 0b0001_1100]);
        assert_eq!(r.bits(3), Ok(5));
        assert_eq!(r.flag(), Ok(true));
        assert_eq!(r.bits(5), Ok(0));
        assert_eq!(r.bits(5), Ok(0b0_0111));
        // uvlc: 00 1 xx → 3 + xx; only two bits are left.
        assert_eq!(r.uvlc(), Err(Av1Error::ShortSequenceHeader));
        let mut r = BitReader::new(&[0b0010_1100]);
        assert_eq!(r.uvlc(), Ok(3 + 1)); // 2 zeros, 1, then 01
        assert_eq!(r.uvlc(), Ok(0)); // "1"
    }
}
