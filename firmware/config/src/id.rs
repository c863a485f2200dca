//! Resource identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of an input, output, transcoder, stream or preset: a UUID in its
/// hyphenated lowercase text form, as Kraken prints them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    /// A fresh random (version 4) id.
    pub fn new_random() -> Id {
        Id(uuid::Uuid::new_v4().to_string())
    }

    /// Accepts any UUID spelling and keeps its canonical form, so that ids
    /// typed in upper case still find their resource.
    pub fn parse(text: &str) -> Option<Id> {
        uuid::Uuid::parse_str(text.trim())
            .ok()
            .map(|u| Id(u.to_string()))
    }

    /// The canonical text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_canonicalises_case() {
        let id = Id::parse("F7615C6B-830D-4E73-A132-B315B2C29051").unwrap();
        assert_eq!(id.as_str(), "f7615c6b-830d-4e73-a132-b315b2c29051");
    }

    #[test]
    fn parse_rejects_non_uuids() {
        assert!(Id::parse("SD-1").is_none());
        assert!(Id::parse("").is_none());
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(Id::new_random(), Id::new_random());
    }
}
