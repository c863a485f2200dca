//! The checks every field uses, each naming the field and what is allowed:
//! required, a number in range, text of allowed characters, a device
//! path or `none`, a list of names or prefixes.

use std::path::PathBuf;

use super::{Pattern, ProfileError};

/// How many entries a list of names (`nics`, each `recognise` list) may hold.
pub(super) const MAX_NAMES: usize = 8;
/// The word that says a board lacks a device or an LED.
pub(super) const NONE: &str = "none";

/// The checks of one file, which every error names.
pub(super) struct Check<'a> {
    pub(super) file: &'a str,
}

/// A checked value, or the first rule it broke.
pub(super) type Checked<T> = Result<T, ProfileError>;

impl Check<'_> {
    /// `none`, or a device node's absolute path under `/dev/`.
    pub(super) fn device(&self, field: &str, value: String) -> Checked<Option<PathBuf>> {
        if value == NONE {
            return Ok(None);
        }
        let rule = "must be none or a path under /dev/ (at most 64 characters, no '..')";
        let valid = value.starts_with("/dev/")
            && value.len() <= 64
            && value.len() > "/dev/".len()
            && !value.split('/').any(|part| part == "..")
            && value.chars().all(|c| c.is_ascii_graphic());
        if !valid {
            return Err(self.invalid(field, format!("'{value}' {rule}")));
        }
        Ok(Some(PathBuf::from(value)))
    }

    pub(super) fn patterns(
        &self,
        field: &str,
        values: Vec<String>,
        max: usize,
        allowed: fn(char) -> bool,
    ) -> Checked<Vec<Pattern>> {
        self.list(field, values, |field, value| {
            let body = value.strip_suffix('*').unwrap_or(&value).to_owned();
            if body.contains('*') {
                return Err(self.invalid(field, format!("'{value}': '*' may only end a pattern")));
            }
            let _ = self.text(field, body, max, allowed)?;
            Ok(Pattern(value))
        })
    }

    /// Checks each of a list of at most [`MAX_NAMES`] entries, naming each
    /// by its index.
    pub(super) fn list<T>(
        &self,
        field: &str,
        values: Vec<String>,
        each: impl Fn(&str, String) -> Checked<T>,
    ) -> Checked<Vec<T>> {
        if values.len() > MAX_NAMES {
            return Err(self.invalid(
                field,
                format!("{} entries; at most {MAX_NAMES} are allowed", values.len()),
            ));
        }
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| each(&format!("{field}[{i}]"), v))
            .collect()
    }

    /// Text of 1 to `max` characters, each `allowed`.
    pub(super) fn text(
        &self,
        field: &str,
        value: String,
        max: usize,
        allowed: fn(char) -> bool,
    ) -> Checked<String> {
        let len = value.chars().count();
        if !(1..=max).contains(&len) {
            return Err(self.invalid(
                field,
                format!("must be 1-{max} characters long (got {len})"),
            ));
        }
        if let Some(c) = value.chars().find(|c| !allowed(*c)) {
            return Err(self.invalid(field, format!("'{value}' may not contain {c:?}")));
        }
        Ok(value)
    }

    pub(super) fn range(&self, field: &str, value: i64, min: i64, max: i64) -> Checked<u32> {
        if !(min..=max).contains(&value) {
            return Err(self.invalid(field, format!("{value} is out of range ({min}-{max})")));
        }
        u32::try_from(value)
            .map_err(|_| self.invalid(field, format!("{value} is out of range ({min}-{max})")))
    }

    pub(super) fn required<T>(&self, value: Option<T>, field: &str) -> Checked<T> {
        value.ok_or_else(|| self.invalid(field, "is required"))
    }

    pub(super) fn invalid(
        &self,
        field: impl Into<String>,
        rule: impl Into<String>,
    ) -> ProfileError {
        ProfileError::Invalid {
            file: self.file.to_owned(),
            field: field.into(),
            rule: rule.into(),
        }
    }
}
