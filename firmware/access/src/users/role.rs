//! What a user may do.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A user's role: HMP's default Administrator and Viewer, with Operator
/// between them for the people who run streams and recordings.
///
/// Viewers only read; operators may also start and stop streams and
/// record; administrators may do everything, including changing the
/// configuration. Each role may do all that the ones before it may, so
/// roles are ordered `Viewer < Operator < Administrator` and a permission
/// check is [`Role::allows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Operator,
    Administrator,
}

/// A role word that is not one of [`Role::WORDS`].
#[derive(Debug, Error, PartialEq, Eq)]
#[error("role '{0}' is unknown: use administrator, operator or viewer")]
pub struct UnknownRole(pub String);

impl Role {
    /// Every role, least allowed first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Administrator];

    /// The words `makarad user` and the users file use, in [`Role::ALL`]'s
    /// order.
    pub const WORDS: [&'static str; 3] = ["viewer", "operator", "administrator"];

    /// Whether this role may do what `needed` may: an administrator may
    /// operate, an operator may view, a viewer may only view.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// `administrator`, `operator` or `viewer`.
    pub fn as_str(self) -> &'static str {
        Role::WORDS[self as usize]
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    /// One of [`Role::WORDS`], exactly (lower case).
    fn from_str(word: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == word)
            .ok_or_else(|| UnknownRole(word.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!("operator".parse(), Ok(Role::Operator));
    }

    #[test]
    fn unknown_words_are_refused_naming_the_choices() {
        for word in ["", "Administrator", "admin", "root", " viewer"] {
            let err = word.parse::<Role>().expect_err(word);
            assert_eq!(err, UnknownRole(word.to_owned()));
            let text = err.to_string();
            assert!(text.contains("administrator, operator or viewer"), "{text}");
        }
    }

    #[test]
    fn each_role_allows_what_the_lesser_ones_do() {
        use Role::*;
        assert!(Administrator.allows(Administrator));
        assert!(Administrator.allows(Operator));
        assert!(Administrator.allows(Viewer));
        assert!(!Operator.allows(Administrator));
        assert!(Operator.allows(Operator));
        assert!(Operator.allows(Viewer));
        assert!(!Viewer.allows(Administrator));
        assert!(!Viewer.allows(Operator));
        assert!(Viewer.allows(Viewer));
    }
}
