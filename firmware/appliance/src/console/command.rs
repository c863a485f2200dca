//! One console line → one [`Command`], before anything is done.

use std::fmt;

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Status,
    ApiKeyCreate,
    ApiKeyList,
    ApiKeyRevoke(String),
    ApiEnable,
    ApiDisable,
    ApiStatus,
    Reboot,
    Poweroff,
    Shell,
    Exit,
}

/// Why a line is not a command. The message is what the operator sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The first word is no command.
    Unknown(String),
    /// A command with the wrong arguments: its usage line.
    Usage(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unknown(word) => write!(f, "unknown command '{word}': type help"),
            ParseError::Usage(usage) => write!(f, "usage: {usage}"),
        }
    }
}

/// The commands with their usage, as `help` lists them.
pub const HELP: &[(&str, &str)] = &[
    ("help", "this list"),
    (
        "status",
        "version, network, storage, API, makarad and streams",
    ),
    (
        "api-key create",
        "make an API consumer key and secret (enables the API)",
    ),
    ("api-key list", "list the consumer keys (not the secrets)"),
    ("api-key revoke KEY", "revoke a consumer key"),
    ("api enable", "accept API requests"),
    ("api disable", "refuse every API request (403)"),
    ("api status", "whether the API is on, and how many keys"),
    ("reboot", "restart the appliance"),
    ("poweroff", "switch the appliance off"),
    (
        "shell",
        "service shell for field engineers; exit it to return",
    ),
    (
        "exit, logout",
        "end this session (the console starts again)",
    ),
];

const API_KEY_USAGE: &str = "api-key create | api-key list | api-key revoke KEY";
const API_USAGE: &str = "api enable | api disable | api status";

/// Parses one line; `Ok(None)` for a blank line. Command words are not
/// case-sensitive, arguments (keys) are.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((first, args)) = words.split_first() else {
        return Ok(None);
    };
    let command = match first.to_ascii_lowercase().as_str() {
        "help" | "?" => no_args(Command::Help, args, "help")?,
        "status" => no_args(Command::Status, args, "status")?,
        "api-key" => api_key(args)?,
        "api" => api(args)?,
        "reboot" => no_args(Command::Reboot, args, "reboot")?,
        "poweroff" => no_args(Command::Poweroff, args, "poweroff")?,
        "shell" => no_args(Command::Shell, args, "shell")?,
        "exit" | "logout" | "quit" => Command::Exit,
        _ => return Err(ParseError::Unknown(printable(first))),
    };
    Ok(Some(command))
}

fn no_args(command: Command, args: &[&str], usage: &'static str) -> Result<Command, ParseError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(ParseError::Usage(usage))
    }
}

fn api_key(args: &[&str]) -> Result<Command, ParseError> {
    let [action, rest @ ..] = args else {
        return Err(ParseError::Usage(API_KEY_USAGE));
    };
    match (action.to_ascii_lowercase().as_str(), rest) {
        ("create", []) => Ok(Command::ApiKeyCreate),
        ("list", []) => Ok(Command::ApiKeyList),
        ("revoke", [key]) => Ok(Command::ApiKeyRevoke((*key).to_owned())),
        ("create", _) => Err(ParseError::Usage("api-key create")),
        ("list", _) => Err(ParseError::Usage("api-key list")),
        ("revoke", _) => Err(ParseError::Usage("api-key revoke KEY")),
        _ => Err(ParseError::Usage(API_KEY_USAGE)),
    }
}

fn api(args: &[&str]) -> Result<Command, ParseError> {
    let [action] = args else {
        return Err(ParseError::Usage(API_USAGE));
    };
    match action.to_ascii_lowercase().as_str() {
        "enable" => Ok(Command::ApiEnable),
        "disable" => Ok(Command::ApiDisable),
        "status" => Ok(Command::ApiStatus),
        _ => Err(ParseError::Usage(API_USAGE)),
    }
}

/// Line noise and escape sequences (arrow keys) echoed back raw would
/// move the cursor or change the terminal; show them escaped instead.
fn printable(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line).unwrap().unwrap()
    }

    fn err(line: &str) -> String {
        parse(line).unwrap_err().to_string()
    }

    #[test]
    fn blank_lines_are_no_command() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("   \t "), Ok(None));
        assert_eq!(parse("\r\n"), Ok(None));
    }

    #[test]
    fn every_command_parses() {
        assert_eq!(ok("help"), Command::Help);
        assert_eq!(ok("?"), Command::Help);
        assert_eq!(ok("status"), Command::Status);
        assert_eq!(ok("api-key create"), Command::ApiKeyCreate);
        assert_eq!(ok("api-key list"), Command::ApiKeyList);
        assert_eq!(
            ok("api-key revoke AbC123"),
            Command::ApiKeyRevoke("AbC123".into())
        );
        assert_eq!(ok("api enable"), Command::ApiEnable);
        assert_eq!(ok("api disable"), Command::ApiDisable);
        assert_eq!(ok("api status"), Command::ApiStatus);
        assert_eq!(ok("reboot"), Command::Reboot);
        assert_eq!(ok("poweroff"), Command::Poweroff);
        assert_eq!(ok("shell"), Command::Shell);
        assert_eq!(ok("exit"), Command::Exit);
        assert_eq!(ok("logout"), Command::Exit);
    }

    #[test]
    fn spacing_carriage_returns_and_case_do_not_matter_but_keys_keep_their_case() {
        assert_eq!(ok("  status \r\n"), Command::Status);
        assert_eq!(
            ok("API-Key  Revoke\tKeyX\r"),
            Command::ApiKeyRevoke("KeyX".into())
        );
        assert_eq!(ok("STATUS"), Command::Status);
    }

    #[test]
    fn unknown_commands_name_the_word() {
        assert_eq!(err("xyz"), "unknown command 'xyz': type help");
        assert_eq!(err("Xyz"), "unknown command 'Xyz': type help");
        assert_eq!(err("xyz status"), "unknown command 'xyz': type help");
        assert_eq!(err("\x1b[A"), "unknown command '\\u{1b}[A': type help");
    }

    #[test]
    fn wrong_arguments_give_the_usage() {
        assert_eq!(err("status now"), "usage: status");
        assert_eq!(err("help me"), "usage: help");
        assert_eq!(err("reboot -f"), "usage: reboot");
        assert_eq!(err("api-key"), format!("usage: {API_KEY_USAGE}"));
        assert_eq!(err("api-key make"), format!("usage: {API_KEY_USAGE}"));
        assert_eq!(err("api-key create 2"), "usage: api-key create");
        assert_eq!(err("api-key list all"), "usage: api-key list");
        assert_eq!(err("api-key revoke"), "usage: api-key revoke KEY");
        assert_eq!(err("api-key revoke a b"), "usage: api-key revoke KEY");
        assert_eq!(err("api"), format!("usage: {API_USAGE}"));
        assert_eq!(err("api on"), format!("usage: {API_USAGE}"));
        assert_eq!(err("api enable now"), format!("usage: {API_USAGE}"));
    }

    #[test]
    fn help_lists_every_command_word() {
        let listed: String = HELP.iter().map(|(c, _)| format!("{c} ")).collect();
        for word in [
            "help", "status", "api-key", "api ", "reboot", "poweroff", "shell", "exit", "logout",
        ] {
            assert!(listed.contains(word), "{word} missing from help");
        }
    }
}
