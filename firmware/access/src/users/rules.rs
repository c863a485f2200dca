//! What a username and a password may be.

use thiserror::Error;

/// Usernames are 1-64 characters.
pub const USERNAME_MAX_CHARS: usize = 64;

/// Passwords are at least 8 bytes, NIST SP 800-63B's minimum for a password
/// the user chose.
pub const PASSWORD_MIN_BYTES: usize = 8;

/// Passwords are at most 128 bytes: more than NIST's 64 characters, room
/// for any passphrase or password manager, and a bound on what a login
/// request may make the appliance hash.
pub const PASSWORD_MAX_BYTES: usize = 128;

/// Why a username is refused.
///
/// Usernames are 1-64 characters from `A-Z a-z 0-9 . _ - @`, starting with
/// a letter or digit. They appear in logs, in `makarad user list`'s lines
/// and in JSON, so they hold no spaces, quotes, control characters or
/// look-alike letters from other scripts; `@` lets an e-mail address be a
/// name, and a name cannot start like a command-line option (`-`) or a
/// path (`.`). Names are compared exactly at login, but two names that
/// differ only in case cannot both exist.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("username must be 1-{USERNAME_MAX_CHARS} characters, not {0}")]
    Length(usize),
    #[error(
        "username may only contain A-Z, a-z, 0-9, '.', '_', '-' and '@'; '{}' is not allowed",
        .0.escape_debug()
    )]
    Character(char),
    #[error("username must start with a letter or a digit, not '{0}'")]
    Start(char),
}

/// Why a new password is refused. Never shows the password.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be {PASSWORD_MIN_BYTES}-{PASSWORD_MAX_BYTES} bytes, not {0}")]
    Length(usize),
    /// A tab, newline or other control character cannot be typed at a
    /// login form or given on `makarad user`'s one line of stdin.
    #[error("password must not contain control characters (tab, newline, …)")]
    Control,
}

/// Checks `name` against the username rules.
pub fn check_username(name: &str) -> Result<(), UsernameError> {
    let length = name.chars().count();
    if !(1..=USERNAME_MAX_CHARS).contains(&length) {
        return Err(UsernameError::Length(length));
    }
    if let Some(bad) = name.chars().find(|&c| !username_char(c)) {
        return Err(UsernameError::Character(bad));
    }
    match name.chars().next() {
        Some(first) if !first.is_ascii_alphanumeric() => Err(UsernameError::Start(first)),
        _ => Ok(()),
    }
}

/// Checks a new password against the password rules. Any other character
/// (spaces, any script) is allowed: length matters, composition rules do
/// not (NIST SP 800-63B).
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    if !(PASSWORD_MIN_BYTES..=PASSWORD_MAX_BYTES).contains(&password.len()) {
        return Err(PasswordError::Length(password.len()));
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::Control);
    }
    Ok(())
}

fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_usernames() {
        let longest = "a".repeat(USERNAME_MAX_CHARS);
        for name in [
            "a",
            "7",
            "alice",
            "Bob.Smith",
            "ops_1",
            "x-y",
            "eng@example.com",
            &longest,
        ] {
            assert_eq!(check_username(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn username_length_is_1_to_64() {
        assert_eq!(check_username(""), Err(UsernameError::Length(0)));
        let long = "a".repeat(USERNAME_MAX_CHARS + 1);
        assert_eq!(check_username(&long), Err(UsernameError::Length(65)));
        let text = UsernameError::Length(65).to_string();
        assert!(text.contains("username") && text.contains("1-64"), "{text}");
    }

    #[test]
    fn username_characters_are_a_safe_set() {
        for (name, bad) in [
            ("al ice", ' '),
            ("alice\n", '\n'),
            ("al'ice", '\''),
            ("a\"b", '"'),
            ("a/b", '/'),
            ("a:b", ':'),
            ("аlice", 'а'), // Cyrillic a
            ("é", 'é'),
        ] {
            assert_eq!(
                check_username(name),
                Err(UsernameError::Character(bad)),
                "{name}"
            );
        }
        let text = UsernameError::Character('\n').to_string();
        assert!(text.contains("'\\n'") && text.contains("A-Z"), "{text}");
    }

    #[test]
    fn usernames_start_with_a_letter_or_digit() {
        for (name, first) in [
            ("-rf", '-'),
            (".", '.'),
            ("..", '.'),
            ("_x", '_'),
            ("@x", '@'),
        ] {
            assert_eq!(
                check_username(name),
                Err(UsernameError::Start(first)),
                "{name}"
            );
        }
    }

    #[test]
    fn password_length_is_8_to_128_bytes() {
        assert_eq!(check_password("1234567"), Err(PasswordError::Length(7)));
        assert_eq!(check_password("12345678"), Ok(()));
        assert_eq!(check_password(&"p".repeat(128)), Ok(()));
        assert_eq!(
            check_password(&"p".repeat(129)),
            Err(PasswordError::Length(129))
        );
        // Bytes, not characters: 43 three-byte letters are 129 bytes.
        assert_eq!(
            check_password(&"€".repeat(43)),
            Err(PasswordError::Length(129))
        );
        let text = PasswordError::Length(3).to_string();
        assert!(
            text.contains("password") && text.contains("8-128 bytes"),
            "{text}"
        );
    }

    #[test]
    fn passwords_may_hold_spaces_and_any_script_but_no_control_characters() {
        assert_eq!(check_password("correct horse battery"), Ok(()));
        assert_eq!(check_password("пароль-密码-€€€"), Ok(()));
        for bad in [
            "tab\tinside",
            "newline\n12",
            "nul\0nul\0",
            "del\u{7f}abcdef",
        ] {
            assert_eq!(check_password(bad), Err(PasswordError::Control), "{bad:?}");
        }
    }

    #[test]
    fn password_errors_never_show_the_password() {
        let password = "secret\tpassword";
        let text = check_password(password).expect_err("tab").to_string();
        assert!(!text.contains("secret"), "{text}");
    }
}
