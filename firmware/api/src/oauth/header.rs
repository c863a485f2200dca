//! Parsing of the `Authorization: OAuth ...` header (RFC 5849 §3.5.1).
//!
//! The grammar is RFC 2617's auth-param list: `name="value"` pairs separated
//! by commas, with optional whitespace. Names and values are percent-encoded
//! (§3.6), so a plain percent-decoding suffices: `+` stays a `+`, unlike in a
//! query string.

use super::encoding::{percent_decode, Pair};
use super::OAuthError;

/// Parses an `Authorization` header value into decoded pairs, `realm`
/// included (the caller decides what to drop).
///
/// Whitespace (including the CR/LF of a folded header) is tolerated around
/// the scheme, commas and `=`, and empty list elements are skipped, as the
/// RFC 2617 `#rule` allows.
pub(crate) fn parse_authorization(header: &str) -> Result<Vec<Pair>, OAuthError> {
    let rest = strip_scheme(header.trim())
        .ok_or_else(|| malformed("the authorization scheme is not OAuth"))?;
    let mut pairs = Vec::new();
    let mut cursor = rest.as_bytes();
    loop {
        cursor = skip_separators(cursor);
        if cursor.is_empty() {
            return Ok(pairs);
        }
        let (pair, after) = parse_pair(cursor)?;
        pairs.push(pair);
        cursor = trim_start(after);
        match cursor.split_first() {
            None => return Ok(pairs),
            Some((b',', _)) => {}
            Some(_) => return Err(malformed("expected a comma between parameters")),
        }
    }
}

/// Returns what follows the `OAuth` scheme token (case-insensitive), or
/// `None` for any other scheme. `OAuthX ...` is another scheme, hence the
/// check that whitespace (or nothing) follows.
fn strip_scheme(header: &str) -> Option<&str> {
    let scheme = header.get(..5)?;
    let rest = header.get(5..)?;
    let separated = rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_whitespace());
    (scheme.eq_ignore_ascii_case("OAuth") && separated).then_some(rest)
}

/// Parses one `name="value"` at the start of `input`; returns the decoded
/// pair and the unparsed remainder.
fn parse_pair(input: &[u8]) -> Result<(Pair, &[u8]), OAuthError> {
    let name_len = input
        .iter()
        .position(|&b| b == b'=' || b == b',' || b.is_ascii_whitespace())
        .unwrap_or(input.len());
    let (name, rest) = input.split_at(name_len);
    if name.is_empty() {
        return Err(malformed("a parameter has no name"));
    }
    let rest = match trim_start(rest).split_first() {
        Some((b'=', rest)) => trim_start(rest),
        _ => {
            return Err(malformed(&format!(
                "parameter {} has no value",
                String::from_utf8_lossy(name)
            )))
        }
    };
    let (raw_value, rest) = parse_quoted(rest).ok_or_else(|| {
        malformed(&format!(
            "the value of {} is not a quoted string",
            String::from_utf8_lossy(name)
        ))
    })?;
    let pair = (
        percent_decode(name, false)?,
        percent_decode(&raw_value, false)?,
    );
    Ok((pair, rest))
}

/// Parses an RFC 2616 quoted-string, undoing `\x` quoted-pairs (no OAuth
/// client should need them, since values are percent-encoded, but they are
/// legal). Returns `None` if `input` does not start with a closed one.
fn parse_quoted(input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let (&first, mut rest) = input.split_first()?;
    if first != b'"' {
        return None;
    }
    let mut value = Vec::new();
    loop {
        let (&b, after) = rest.split_first()?;
        rest = after;
        match b {
            b'"' => return Some((value, rest)),
            b'\\' => {
                let (&escaped, after) = rest.split_first()?;
                value.push(escaped);
                rest = after;
            }
            _ => value.push(b),
        }
    }
}

fn trim_start(input: &[u8]) -> &[u8] {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    &input[start..]
}

/// Skips whitespace and commas: RFC 2617 lists may contain empty elements.
fn skip_separators(input: &[u8]) -> &[u8] {
    let start = input
        .iter()
        .position(|&b| b != b',' && !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    &input[start..]
}

fn malformed(reason: &str) -> OAuthError {
    OAuthError::MalformedHeader(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(header: &str) -> Vec<(String, String)> {
        match parse_authorization(header) {
            Ok(pairs) => pairs
                .into_iter()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(&n).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect(),
            Err(e) => panic!("{header:?} should parse: {e}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_the_rfc_example_with_folded_lines() {
        let header = "OAuth realm=\"Example\",\r\n                oauth_consumer_key=\"9djdj82h48djs9d2\",\r\n                oauth_signature=\"bYT5CMsGcbgUdFHObYMEfcx6bsw%3D\"";
        assert_eq!(
            parsed(header),
            pairs(&[
                ("realm", "Example"),
                ("oauth_consumer_key", "9djdj82h48djs9d2"),
                ("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="),
            ])
        );
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(parsed("oauth a=\"1\""), pairs(&[("a", "1")]));
        assert_eq!(parsed("OAUTH\ta=\"1\""), pairs(&[("a", "1")]));
    }

    #[test]
    fn other_schemes_are_rejected() {
        for header in [
            "Basic dXNlcjpwYXNz",
            "OAuth2 a=\"1\"",
            "Bearer x",
            "",
            "OAut",
        ] {
            assert!(
                matches!(
                    parse_authorization(header),
                    Err(OAuthError::MalformedHeader(_))
                ),
                "{header:?}"
            );
        }
    }

    #[test]
    fn bare_scheme_has_no_parameters() {
        assert_eq!(parsed("OAuth"), pairs(&[]));
        assert_eq!(parsed("  OAuth   "), pairs(&[]));
    }

    #[test]
    fn tolerates_whitespace_empty_elements_and_trailing_comma() {
        assert_eq!(
            parsed("OAuth  ,a = \"1\" ,, b=\"2\",   "),
            pairs(&[("a", "1"), ("b", "2")])
        );
    }

    #[test]
    fn plus_in_a_value_stays_a_plus() {
        assert_eq!(
            parsed("OAuth oauth_signature=\"tR3+Ty81lMeYAr%2FFid0kMTYa%2FWM%3D\""),
            pairs(&[("oauth_signature", "tR3+Ty81lMeYAr/Fid0kMTYa/WM=")])
        );
    }

    #[test]
    fn comma_inside_quotes_is_part_of_the_value() {
        assert_eq!(parsed("OAuth a=\"x,y\""), pairs(&[("a", "x,y")]));
    }

    #[test]
    fn quoted_pairs_are_unescaped() {
        assert_eq!(parsed(r#"OAuth a="x\"y""#), pairs(&[("a", "x\"y")]));
    }

    #[test]
    fn empty_value_is_allowed() {
        assert_eq!(
            parsed("OAuth oauth_token=\"\""),
            pairs(&[("oauth_token", "")])
        );
    }

    #[test]
    fn malformed_headers_are_rejected() {
        for header in [
            "OAuth a=1",
            "OAuth a",
            "OAuth a=",
            "OAuth =\"1\"",
            "OAuth a=\"1",
            "OAuth a=\"1\" b=\"2\"",
            "OAuth a=\"1\"x",
            "OAuth a=\"%zz\"",
        ] {
            assert!(
                matches!(
                    parse_authorization(header),
                    Err(OAuthError::MalformedHeader(_) | OAuthError::MalformedParameters(_))
                ),
                "{header:?} should be rejected"
            );
        }
    }
}
