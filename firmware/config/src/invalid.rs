//! The one error type of validation: which field, and what was wrong with it.

use thiserror::Error;

/// A request that breaks a rule of the contract. Each variant names the
/// field with its Kraken element name, so the message can go to the client
/// as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Invalid {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} {value} is out of range ({min}-{max})")]
    OutOfRange {
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{field} must be {min}-{max} characters long (got {len})")]
    Length {
        field: &'static str,
        len: usize,
        min: usize,
        max: usize,
    },
    #[error("{field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field}: {reason}")]
    BadValue { field: &'static str, reason: String },
    #[error("{field} is not allowed {reason}")]
    NotAllowed { field: &'static str, reason: String },
}

impl Invalid {
    /// The Kraken element name the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Invalid::Missing { field }
            | Invalid::OutOfRange { field, .. }
            | Invalid::Length { field, .. }
            | Invalid::TooLong { field, .. }
            | Invalid::BadValue { field, .. }
            | Invalid::NotAllowed { field, .. } => field,
        }
    }

    pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> Invalid {
        Invalid::BadValue {
            field,
            reason: reason.into(),
        }
    }
}

/// Takes a required field or reports it missing.
pub(crate) fn required<T>(value: Option<T>, field: &'static str) -> Result<T, Invalid> {
    value.ok_or(Invalid::Missing { field })
}

/// Trims a free-text field; blank counts as absent.
pub(crate) fn text(value: Option<String>) -> Option<String> {
    value
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Test helper: each case's result must be `TooLong` for its field, with
/// its maximum.
#[cfg(test)]
pub(crate) fn assert_each_too_long<T: std::fmt::Debug>(
    cases: impl IntoIterator<Item = (&'static str, usize, Result<T, Invalid>)>,
) {
    for (field, max, result) in cases {
        match result {
            Err(Invalid::TooLong {
                field: f, max: m, ..
            }) => assert_eq!((f, m), (field, max)),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_field_and_range() {
        let e = Invalid::OutOfRange {
            field: "videoBitrate",
            value: 20000,
            min: 150,
            max: 15000,
        };
        assert_eq!(
            e.to_string(),
            "videoBitrate 20000 is out of range (150-15000)"
        );
        assert_eq!(e.field(), "videoBitrate");
    }

    #[test]
    fn blank_text_is_absent() {
        assert_eq!(text(Some("  ".into())), None);
        assert_eq!(text(Some(" a ".into())), Some("a".into()));
    }
}
