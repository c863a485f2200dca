//! Numeric limits of the contract, one constant per documented range.

use crate::invalid::Invalid;

/// An inclusive integer range with the field it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub field: &'static str,
    pub min: i64,
    pub max: i64,
}

impl Limits {
    pub const fn new(field: &'static str, min: i64, max: i64) -> Limits {
        Limits { field, min, max }
    }

    /// The value if it lies in range, else an error naming field and range.
    pub fn check(&self, value: i64) -> Result<i64, Invalid> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(Invalid::OutOfRange {
                field: self.field,
                value,
                min: self.min,
                max: self.max,
            })
        }
    }

    /// `value` checked, or `default` when absent.
    pub fn or_default(&self, value: Option<i64>, default: i64) -> Result<i64, Invalid> {
        value.map_or(Ok(default), |v| self.check(v))
    }

    /// Like [`Limits::check`], narrowed to the integer type the config keeps.
    pub fn check_as<T: TryFrom<i64>>(&self, value: i64) -> Result<T, Invalid> {
        let v = self.check(value)?;
        T::try_from(v).map_err(|_| Invalid::OutOfRange {
            field: self.field,
            value,
            min: self.min,
            max: self.max,
        })
    }
}

/// `-1` means "off/automatic" for several Kraken fields; anything else must
/// lie in `limits`.
pub(crate) fn minus_one_or(limits: Limits, value: Option<i64>) -> Result<i32, Invalid> {
    match value {
        None | Some(-1) => Ok(-1),
        Some(v) => limits
            .check(v)
            .map(|v| v as i32)
            .map_err(|_| Invalid::BadValue {
                field: limits.field,
                reason: format!(
                    "{v} is out of range (-1 for off, or {}-{})",
                    limits.min, limits.max
                ),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive() {
        let l = Limits::new("ttl", 1, 255);
        assert_eq!(l.check(1), Ok(1));
        assert_eq!(l.check(255), Ok(255));
        assert!(l.check(0).is_err());
        assert!(l.check(256).is_err());
    }

    #[test]
    fn minus_one_is_off() {
        let l = Limits::new("shapingVbvSizeMs", 100, 10000);
        assert_eq!(minus_one_or(l, None), Ok(-1));
        assert_eq!(minus_one_or(l, Some(-1)), Ok(-1));
        assert_eq!(minus_one_or(l, Some(500)), Ok(500));
        let e = minus_one_or(l, Some(5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shapingVbvSizeMs: 5 is out of range (-1 for off, or 100-10000)"
        );
    }
}
