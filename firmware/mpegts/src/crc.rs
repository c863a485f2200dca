//! CRC-32/MPEG-2, the checksum that closes every PSI section
//! (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value
//! 0xFFFFFFFF, most significant bit first, no final XOR.
//!
//! Because nothing is reflected or inverted, running the CRC over a whole
//! section including its own CRC gives 0, which is how a decoder checks it.

const POLYNOMIAL: u32 = 0x04C1_1DB7;

/// One entry per value of the byte shifted out, computed at compile time.
const TABLE: [u32; 256] = make_table();

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ POLYNOMIAL
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The CRC-32/MPEG-2 of `bytes`.
pub fn crc32_mpeg2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0xFFFF_FFFF, |crc, &b| {
        (crc << 8) ^ TABLE[usize::from((crc >> 24) as u8 ^ b)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue check value of CRC-32/MPEG-2 (the CRC of the ASCII
    /// digits "123456789"), as listed in Greg Cook's CRC catalogue.
    #[test]
    fn catalogue_check_value() {
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
        assert_eq!(crc32_mpeg2(&[]), 0xFFFF_FFFF);
    }

    #[test]
    fn whole_section_checks_to_zero() {
        let mut bytes = b"any section body".to_vec();
        let crc = crc32_mpeg2(&bytes);
        bytes.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(crc32_mpeg2(&bytes), 0);
    }
}
