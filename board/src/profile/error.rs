//! The one error of profiles: which file, which field, what is allowed.

use thiserror::Error;

/// Why a profile could not be read or chosen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    /// The file is not TOML, or has a key no profile has, or a value of the
    /// wrong type (the message is the TOML parser's, with the line).
    #[error("{file}: {message}")]
    Syntax {
        /// The profile file.
        file: String,
        /// What the parser said.
        message: String,
    },
    /// A field breaks its rule.
    #[error("{file}: {field}: {rule}")]
    Invalid {
        /// The profile file.
        file: String,
        /// The field, as a TOML path (`limits.max_streams`, `capture[0].ports[1].input`).
        field: String,
        /// What was wrong, with the allowed range or values.
        rule: String,
    },
    /// The operator named a board no profile has.
    #[error("no board profile is named '{name}' (known: {})", known.join(", "))]
    Unknown {
        /// The name given.
        name: String,
        /// Every profile's name.
        known: Vec<String>,
    },
    /// No profile matched and the architecture has no fallback.
    #[error("no board profile matches this {arch} machine, and {arch} has no fallback profile (known: {})", known.join(", "))]
    NoMatch {
        /// The running architecture.
        arch: String,
        /// Every profile's name.
        known: Vec<String>,
    },
}

impl ProfileError {
    /// The field an [`ProfileError::Invalid`] is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            ProfileError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
