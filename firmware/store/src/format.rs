//! On-disk format of one slot file.
//!
//! A slot is one header line followed by the payload bytes:
//!
//! ```text
//! MAKARA-SLOT 1 gen=<u64> len=<u64> crc32=<8 lowercase hex>\n<payload>
//! ```
//!
//! The CRC-32 covers the header text before ` crc32=` as well as the
//! payload. Covering only the payload would let a flipped bit in `gen=`
//! silently promote a stale copy over the newest one. CRC-32 detects every
//! error burst of up to 32 bits, so any single corrupted byte anywhere in the
//! file is caught. `len` catches torn or truncated writes even before the
//! checksum is computed, and gives a clearer message.

use thiserror::Error;

/// Includes the separating space, so `MAKARA-SLOTS` is not a match.
const MAGIC: &str = "MAKARA-SLOT ";
const VERSION: &str = "1";
/// The longest well-formed header is 84 bytes. Without a newline by this
/// point the file is garbage, and we need not scan a large file for one.
const MAX_HEADER: usize = 128;

/// Why a slot file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SlotProblem {
    #[error("file is empty (torn write)")]
    Empty,
    #[error("header is truncated (torn write)")]
    TruncatedHeader,
    #[error("not a slot file (bad magic)")]
    BadMagic,
    #[error("unsupported slot format version {0:?}")]
    UnsupportedVersion(String),
    #[error("malformed header: {0}")]
    BadHeader(&'static str),
    #[error("payload is {actual} bytes but the header says {expected} (torn or truncated write)")]
    LengthMismatch { expected: u64, actual: u64 },
    #[error("checksum mismatch: header says {stored:08x}, contents give {computed:08x}")]
    ChecksumMismatch { stored: u32, computed: u32 },
}

/// Serializes one slot file.
pub(crate) fn encode(generation: u64, payload: &[u8]) -> Vec<u8> {
    let covered = format!("{MAGIC}{VERSION} gen={generation} len={}", payload.len());
    let crc = checksum(covered.as_bytes(), payload);
    let trailer = format!(" crc32={crc:08x}\n");
    let mut out = Vec::with_capacity(covered.len() + trailer.len() + payload.len());
    out.extend_from_slice(covered.as_bytes());
    out.extend_from_slice(trailer.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A slot that passed every check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Decoded<'a> {
    pub(crate) generation: u64,
    pub(crate) payload: &'a [u8],
}

/// Parses and verifies one slot file.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, SlotProblem> {
    if bytes.is_empty() {
        return Err(SlotProblem::Empty);
    }
    let magic = MAGIC.as_bytes();
    if !bytes.starts_with(magic) {
        return Err(if magic.starts_with(bytes) {
            SlotProblem::TruncatedHeader
        } else {
            SlotProblem::BadMagic
        });
    }
    let window = &bytes[..bytes.len().min(MAX_HEADER)];
    let Some(newline) = window.iter().position(|&b| b == b'\n') else {
        return Err(if bytes.len() < MAX_HEADER {
            SlotProblem::TruncatedHeader
        } else {
            SlotProblem::BadHeader("no end of header line")
        });
    };
    let header = std::str::from_utf8(&bytes[magic.len()..newline])
        .map_err(|_| SlotProblem::BadHeader("not UTF-8"))?;
    let fields: Vec<&str> = header.split(' ').collect();
    let [version, generation, len, crc] = fields[..] else {
        return Err(SlotProblem::BadHeader("expected 4 fields after the magic"));
    };
    if version != VERSION {
        return Err(SlotProblem::UnsupportedVersion(version.to_owned()));
    }
    let generation = decimal(generation, "gen=")?;
    let expected = decimal(len, "len=")?;
    let stored = hex32(crc, "crc32=")?;

    let payload = &bytes[newline + 1..];
    let actual = payload.len() as u64;
    if actual != expected {
        return Err(SlotProblem::LengthMismatch { expected, actual });
    }
    // Everything up to the space before "crc32=".
    let covered_len = newline - crc.len() - 1;
    let computed = checksum(&bytes[..covered_len], payload);
    if computed != stored {
        return Err(SlotProblem::ChecksumMismatch { stored, computed });
    }
    Ok(Decoded {
        generation,
        payload,
    })
}

fn checksum(covered_header: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(covered_header);
    hasher.update(payload);
    hasher.finalize()
}

/// Parses `<key><digits>`. Strict on purpose: `u64::from_str` would also
/// take a leading `+`, and we only ever write plain digits.
fn decimal(field: &str, key: &'static str) -> Result<u64, SlotProblem> {
    let digits = field
        .strip_prefix(key)
        .ok_or(SlotProblem::BadHeader("fields out of order"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SlotProblem::BadHeader("number is not decimal digits"));
    }
    digits
        .parse()
        .map_err(|_| SlotProblem::BadHeader("number out of range"))
}

/// Parses `<key><8 lowercase hex digits>`.
fn hex32(field: &str, key: &'static str) -> Result<u32, SlotProblem> {
    let digits = field
        .strip_prefix(key)
        .ok_or(SlotProblem::BadHeader("fields out of order"))?;
    let well_formed = digits.len() == 8
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(SlotProblem::BadHeader(
            "checksum is not 8 lowercase hex digits",
        ));
    }
    u32::from_str_radix(digits, 16).map_err(|_| SlotProblem::BadHeader("bad checksum"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = encode(42, b"hello\nworld");
        let decoded = decode(&bytes).expect("valid");
        assert_eq!(decoded.generation, 42);
        assert_eq!(decoded.payload, b"hello\nworld");
    }

    #[test]
    fn header_looks_as_documented() {
        let bytes = encode(7, b"abc");
        let text = String::from_utf8(bytes).expect("ascii");
        let crc = checksum(b"MAKARA-SLOT 1 gen=7 len=3", b"abc");
        assert_eq!(
            text,
            format!("MAKARA-SLOT 1 gen=7 len=3 crc32={crc:08x}\nabc")
        );
    }

    #[test]
    fn longest_header_fits() {
        let bytes = encode(u64::MAX, b"");
        assert!(bytes.len() <= MAX_HEADER, "{}", bytes.len());
        assert_eq!(decode(&bytes).expect("valid").generation, u64::MAX);
    }

    #[test]
    fn empty_payload() {
        let bytes = encode(1, b"");
        assert_eq!(decode(&bytes).expect("valid").payload, b"");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode(b""), Err(SlotProblem::Empty));
        assert_eq!(decode(b"MAKARA"), Err(SlotProblem::TruncatedHeader));
        assert_eq!(decode(b"hello world\n"), Err(SlotProblem::BadMagic));
        assert_eq!(
            decode(b"MAKARA-SLOT 2 gen=1 len=0 crc32=00000000\n"),
            Err(SlotProblem::UnsupportedVersion("2".into()))
        );
        assert!(matches!(
            decode(b"MAKARA-SLOT 1 gen=+1 len=0 crc32=00000000\n"),
            Err(SlotProblem::BadHeader(_))
        ));
        assert!(matches!(
            decode(b"MAKARA-SLOT 1 len=0 gen=1 crc32=00000000\n"),
            Err(SlotProblem::BadHeader(_))
        ));
        assert!(matches!(
            decode(b"MAKARA-SLOT 1 gen=1 len=0 crc32=0000000\n"),
            Err(SlotProblem::BadHeader(_))
        ));
        assert!(matches!(
            decode(b"MAKARA-SLOT 1 gen=1 len=0\n"),
            Err(SlotProblem::BadHeader(_))
        ));
        let mut long = b"MAKARA-SLOT ".to_vec();
        long.resize(4096, b'x');
        assert!(matches!(decode(&long), Err(SlotProblem::BadHeader(_))));
    }

    #[test]
    fn rejects_extra_bytes() {
        let mut bytes = encode(1, b"abc");
        bytes.push(b'!');
        assert_eq!(
            decode(&bytes),
            Err(SlotProblem::LengthMismatch {
                expected: 3,
                actual: 4
            })
        );
    }

    #[test]
    fn every_truncation_is_detected() {
        let bytes = encode(9, b"payload with some length");
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn every_single_byte_change_is_detected() {
        let bytes = encode(9, b"payload with some length");
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] ^= flip;
                assert!(decode(&bad).is_err(), "byte {i} ^ {flip:#x}");
            }
        }
    }
}
