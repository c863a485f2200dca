//! Percent-encoding (RFC 5849 §3.6) and the two decodings OAuth needs:
//! plain percent-decoding for the `Authorization` header and
//! `application/x-www-form-urlencoded` decoding for the query and body.
//!
//! Everything works on bytes rather than `str`: a form value may decode to
//! bytes that are not UTF-8, and the signature only needs them re-encoded
//! exactly as the client encoded them, not understood.

use super::OAuthError;

/// One decoded `name=value` pair, as raw bytes.
pub(crate) type Pair = (Vec<u8>, Vec<u8>);

/// Percent-encodes `s` as RFC 5849 §3.6 requires: every byte except the
/// unreserved set (`ALPHA DIGIT - . _ ~`) becomes `%XX` with uppercase hex.
///
/// This is stricter than what browsers or `application/x-www-form-urlencoded`
/// produce (a space is `%20`, never `+`), which is the point: both ends must
/// arrive at the same bytes.
pub fn percent_encode(s: &str) -> String {
    percent_encode_bytes(s.as_bytes())
}

/// [`percent_encode`] for arbitrary bytes.
pub(crate) fn percent_encode_bytes(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Decodes `%XX` escapes; with `plus_is_space`, also turns `+` into a space
/// (form decoding). A `%` not followed by two hex digits is an error rather
/// than passed through: guessing what the client meant would only turn a
/// clear "malformed" into an opaque "bad signature".
pub(crate) fn percent_decode(input: &[u8], plus_is_space: bool) -> Result<Vec<u8>, OAuthError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_value);
                let lo = input.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => {
                        return Err(OAuthError::MalformedParameters(format!(
                            "invalid percent-escape in {:?}",
                            String::from_utf8_lossy(input)
                        )))
                    }
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits an `application/x-www-form-urlencoded` string (a query or a body)
/// into decoded pairs, per the HTML 4.0 rules RFC 5849 §3.4.1.3.1 cites.
///
/// Empty segments (`a=1&&b=2`, a trailing `&`) are skipped; a segment
/// without `=` is a name with an empty value, as in the RFC's own example
/// (`c2` normalises to `c2=`).
pub(crate) fn parse_form(input: &[u8]) -> Result<Vec<Pair>, OAuthError> {
    input
        .split(|&b| b == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (name, value) = match segment.iter().position(|&b| b == b'=') {
                Some(eq) => (&segment[..eq], &segment[eq + 1..]),
                None => (segment, &[][..]),
            };
            Ok((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_pass_through() {
        let unreserved = "ABCXYZabcxyz0189-._~";
        assert_eq!(percent_encode(unreserved), unreserved);
    }

    #[test]
    fn reserved_characters_are_encoded_with_uppercase_hex() {
        assert_eq!(
            percent_encode(" !\"#$%&'()*+,/:;<=>?@[\\]^`{|}"),
            "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D"
        );
    }

    #[test]
    fn unicode_is_encoded_as_utf8_bytes() {
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("日本"), "%E6%97%A5%E6%9C%AC");
        assert_eq!(percent_encode("😀"), "%F0%9F%98%80");
    }

    #[test]
    fn key_with_plus_and_slash_is_encoded() {
        assert_eq!(
            percent_encode("U5k4J0/397WeUaRNWTs+CA"),
            "U5k4J0%2F397WeUaRNWTs%2BCA"
        );
    }

    #[test]
    fn decode_roundtrips_encode() {
        let s = "a b+c/d%e~é";
        let decoded = percent_decode(percent_encode(s).as_bytes(), false);
        assert_eq!(decoded.as_deref(), Ok(s.as_bytes()));
    }

    #[test]
    fn decode_accepts_lowercase_hex() {
        assert_eq!(percent_decode(b"%2f%2F", false), Ok(b"//".to_vec()));
    }

    #[test]
    fn plus_is_a_space_only_in_form_decoding() {
        assert_eq!(percent_decode(b"a+b%2B", true), Ok(b"a b+".to_vec()));
        assert_eq!(percent_decode(b"a+b%2B", false), Ok(b"a+b+".to_vec()));
    }

    #[test]
    fn broken_escapes_are_rejected() {
        for bad in [&b"%"[..], b"%4", b"%zz", b"abc%g0"] {
            assert!(matches!(
                percent_decode(bad, false),
                Err(OAuthError::MalformedParameters(_))
            ));
        }
    }

    #[test]
    fn form_parsing_follows_the_rfc_example() {
        let pairs = parse_form(b"b5=%3D%253D&a3=a&c%40=&a2=r%20b&&c2&a3=2+q&").unwrap_or_default();
        let expected: Vec<Pair> = [
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("c2", ""),
            ("a3", "2 q"),
        ]
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn form_value_may_contain_equals_signs() {
        assert_eq!(
            parse_form(b"a==b="),
            Ok(vec![(b"a".to_vec(), b"=b=".to_vec())])
        );
    }
}
