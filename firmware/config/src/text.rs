//! Free-text fields and their longest values, counted in characters (as
//! the contract counts srtPassphrase), after surrounding white space is
//! trimmed.
//!
//! The contract states a length only for srtPassphrase (10-79, in
//! `srt.rs`). The others are ours, chosen so that no real value is refused
//! and no request can make the configuration, its copies on disk or the
//! answers that list it large:
//!
//! - names: 128, enough for a descriptive title, and short enough to list;
//! - descriptions: 512, a paragraph;
//! - URLs: 1024, a long RTSP URL with credentials and a query;
//! - a NIC name: 15, the kernel's limit (`IFNAMSIZ` less its NUL);
//! - an SRT peer: 253, the longest DNS name;
//! - an SRT stream id: 512, the longest that SRT carries (its access
//!   control guidelines say characters, libsrt counts bytes: `srt.rs`
//!   checks both);
//! - a SAP announcement address: 45, the longest IPv6 address text;
//! - SAP's session fields: 128 or 256, so an announcement stays within the
//!   1 KB RFC 2974 recommends.

use crate::invalid::{required, text, Invalid};

/// The longest value of a free-text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    pub field: &'static str,
    pub max: usize,
}

/// Every resource's `name`, presets' too.
pub const NAME: TextLimit = TextLimit::new("name", 128);
/// Inputs', outputs' and streams' `description`.
pub const DESCRIPTION: TextLimit = TextLimit::new("description", 512);
/// Inputs' and outputs' `url`.
pub const URL: TextLimit = TextLimit::new("url", 1024);
/// The NIC an input or output is bound to.
pub const INTERFACE: TextLimit = TextLimit::new("interface", 15);
/// An SRT caller's or rendezvous peer: an address or a DNS name.
pub const SRT_ADDRESS: TextLimit = TextLimit::new("srtAddress", 253);
/// The stream id an SRT caller sends, or a listener asks of its callers.
pub const SRT_STREAM_ID: TextLimit = TextLimit::new("srtStreamId", 512);
/// The group or host SAP announcements go to.
pub const SAP_ADDRESS: TextLimit = TextLimit::new("address", 45);
pub const SAP_SESSION_NAME: TextLimit = TextLimit::new("sessionName", 128);
pub const SAP_SESSION_DESCRIPTION: TextLimit = TextLimit::new("sessionDescription", 256);
pub const SAP_KEYWORDS: TextLimit = TextLimit::new("keywords", 128);
pub const SAP_AUTHOR: TextLimit = TextLimit::new("author", 128);

/// Every limit above, for documentation and tests.
pub const ALL: [TextLimit; 11] = [
    NAME,
    DESCRIPTION,
    URL,
    INTERFACE,
    SRT_ADDRESS,
    SRT_STREAM_ID,
    SAP_ADDRESS,
    SAP_SESSION_NAME,
    SAP_SESSION_DESCRIPTION,
    SAP_KEYWORDS,
    SAP_AUTHOR,
];

impl TextLimit {
    pub const fn new(field: &'static str, max: usize) -> TextLimit {
        TextLimit { field, max }
    }

    /// The trimmed text, `None` when absent or blank, or an error when it
    /// is longer than the limit.
    pub fn check(&self, value: Option<String>) -> Result<Option<String>, Invalid> {
        let Some(value) = text(value) else {
            return Ok(None);
        };
        let len = value.chars().count();
        if len > self.max {
            return Err(Invalid::TooLong {
                field: self.field,
                len,
                max: self.max,
            });
        }
        Ok(Some(value))
    }

    /// Like [`TextLimit::check`], for a field that must be given.
    pub fn required(&self, value: Option<String>) -> Result<String, Invalid> {
        required(self.check(value)?, self.field)
    }

    /// A value the firmware made up (a default name from a URL), cut to
    /// the limit so that it can be sent back unchanged.
    pub(crate) fn truncate(&self, value: String) -> String {
        match value.char_indices().nth(self.max) {
            Some((end, _)) => value[..end].to_string(),
            None => value,
        }
    }
}

/// A preset's name: required, at most [`NAME`] long.
pub fn preset_name(name: &str) -> Result<String, Invalid> {
    NAME.required(Some(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_after_trimming() {
        let limit = TextLimit::new("name", 3);
        assert_eq!(limit.check(None), Ok(None));
        assert_eq!(limit.check(Some("  ".into())), Ok(None));
        assert_eq!(limit.check(Some(" éèê ".into())), Ok(Some("éèê".into())));
        // Four-byte characters count once each.
        assert_eq!(
            limit.check(Some("😀😀😀".into())),
            Ok(Some("😀😀😀".into()))
        );
        let e = limit.check(Some("abcd".into())).unwrap_err();
        assert_eq!(
            e,
            Invalid::TooLong {
                field: "name",
                len: 4,
                max: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "name is 4 characters long; at most 3 are allowed"
        );
    }

    #[test]
    fn required_text_must_be_there() {
        assert_eq!(NAME.required(None), Err(Invalid::Missing { field: "name" }));
        assert_eq!(NAME.required(Some("a".into())), Ok("a".into()));
    }

    #[test]
    fn made_up_values_are_cut_at_a_character_boundary() {
        let limit = TextLimit::new("name", 2);
        assert_eq!(limit.truncate("éèê".into()), "éè");
        assert_eq!(limit.truncate("é".into()), "é");
    }

    #[test]
    fn preset_names_are_limited_like_every_name() {
        assert_eq!(preset_name(" Evening "), Ok("Evening".into()));
        assert_eq!(preset_name(" "), Err(Invalid::Missing { field: "name" }));
        let long = "x".repeat(NAME.max + 1);
        assert_eq!(preset_name(&long).unwrap_err().field(), "name");
        assert!(preset_name(&"x".repeat(NAME.max)).is_ok());
    }

    #[test]
    fn every_limit_is_listed_once() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a.max > 0);
            assert!(ALL[..i].iter().all(|b| b.field != a.field), "{}", a.field);
        }
    }
}
