//! One console line → one [`Command`], before anything is done.

use std::fmt;
use std::net::Ipv4Addr;

use makara_access::users::Role;
use makara_board::netconf::{self, StaticNetwork, MAX_DNS};

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
    /// The running streams, live from `makarad serve`.
    StreamList,
    StreamStart(String),
    StreamStop(String),
    PresetList,
    PresetLoad(String),
    PresetDefault(String),
    Login,
    UserList,
    /// A user and role; the password is asked for, twice.
    UserAdd(String, Role),
    UserPasswd(String),
    UserRemove(String),
    /// The network configuration, saved and live.
    NetworkShow,
    NetworkDhcp,
    /// A checked static address, and its name servers.
    NetworkStatic(StaticNetwork, Vec<Ipv4Addr>),
    /// The last lines of makarad's log, 20 unless told (1-500).
    Log(usize),
    /// Wipes the configuration, keys and users, after a confirmation.
    FactoryReset,
    /// Sleeps the supervisor thread for this many seconds (1-600), to
    /// test the hardware watchdog; only `makarad serve --debug-commands`
    /// takes it.
    DebugHang(u64),
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
    /// Arguments of the right shape with a value the box cannot use: the
    /// command, then why.
    Invalid(&'static str, String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unknown(word) => write!(f, "unknown command '{word}': type help"),
            ParseError::Usage(usage) => write!(f, "usage: {usage}"),
            ParseError::Invalid(command, why) => write!(f, "{command}: {why}"),
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
    ("stream list", "each stream: state, output bitrate, input"),
    ("stream start NAME", "start a stream"),
    ("stream stop NAME", "stop a stream"),
    ("preset list", "the presets; which one loads at boot"),
    (
        "preset load NAME",
        "stop every stream and load a preset's configuration",
    ),
    ("preset default NAME", "load this preset at boot"),
    (
        "login",
        "log in as an administrator (changes ask for it anyway)",
    ),
    ("user list", "the box's users and their roles"),
    (
        "user add NAME ROLE",
        "add a user: administrator, operator or viewer (asks the password)",
    ),
    ("user passwd NAME", "set a user's password (asks it)"),
    ("user remove NAME", "remove a user"),
    (
        "network show",
        "the saved network configuration and the live addresses",
    ),
    (
        "network dhcp",
        "take the address from DHCP (applied now, kept)",
    ),
    (
        "network static ADDR/PREFIX [GW|none] [DNS..]",
        "a fixed address (applied now, kept)",
    ),
    ("log [LINES]", "the last lines of makarad's log (20; 1-500)"),
    (
        "factory-reset",
        "wipe configuration, API keys and users, then reboot (asks first)",
    ),
    (
        "debug hang SECONDS",
        "sleep the supervisor 1-600 s: the watchdog resets the box (serve --debug-commands only)",
    ),
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
const STREAM_USAGE: &str = "stream list | stream start NAME | stream stop NAME";
const PRESET_USAGE: &str = "preset list | preset load NAME | preset default NAME";
const NETWORK_USAGE: &str =
    "network show | network dhcp | network static ADDR/PREFIX [GW|none] [DNS..]";
const STATIC_USAGE: &str = "network static ADDR/PREFIX [GW|none] [DNS..] (at most 3 DNS)";
const USER_USAGE: &str = "user list | user add NAME ROLE | user passwd NAME | user remove NAME";
const DEBUG_HANG_USAGE: &str = "debug hang SECONDS: SECONDS is 1-600";
/// The longest `debug hang`: ten minutes.
pub const MAX_HANG_SECONDS: u64 = 600;
/// `log` shows this many lines unless told, and at most `MAX_LOG_LINES`.
pub const DEFAULT_LOG_LINES: usize = 20;
pub const MAX_LOG_LINES: usize = 500;

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
        "stream" => stream(args, line)?,
        "preset" => preset(args, line)?,
        "login" => no_args(Command::Login, args, "login")?,
        "user" => user(args)?,
        "network" => network(args)?,
        "log" => log(args)?,
        "factory-reset" => no_args(Command::FactoryReset, args, "factory-reset")?,
        "debug" => debug(args)?,
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

fn stream(args: &[&str], line: &str) -> Result<Command, ParseError> {
    let Some(action) = args.first() else {
        return Err(ParseError::Usage(STREAM_USAGE));
    };
    match (action.to_ascii_lowercase().as_str(), name_after(line, 2)) {
        ("list", None) => Ok(Command::StreamList),
        ("start", Some(name)) => Ok(Command::StreamStart(name)),
        ("stop", Some(name)) => Ok(Command::StreamStop(name)),
        ("list", _) => Err(ParseError::Usage("stream list")),
        ("start", None) => Err(ParseError::Usage("stream start NAME")),
        ("stop", None) => Err(ParseError::Usage("stream stop NAME")),
        _ => Err(ParseError::Usage(STREAM_USAGE)),
    }
}

fn preset(args: &[&str], line: &str) -> Result<Command, ParseError> {
    let Some(action) = args.first() else {
        return Err(ParseError::Usage(PRESET_USAGE));
    };
    match (action.to_ascii_lowercase().as_str(), name_after(line, 2)) {
        ("list", None) => Ok(Command::PresetList),
        ("load", Some(name)) => Ok(Command::PresetLoad(name)),
        ("default", Some(name)) => Ok(Command::PresetDefault(name)),
        ("list", _) => Err(ParseError::Usage("preset list")),
        ("load", None) => Err(ParseError::Usage("preset load NAME")),
        ("default", None) => Err(ParseError::Usage("preset default NAME")),
        _ => Err(ParseError::Usage(PRESET_USAGE)),
    }
}

fn user(args: &[&str]) -> Result<Command, ParseError> {
    let [action, rest @ ..] = args else {
        return Err(ParseError::Usage(USER_USAGE));
    };
    match (action.to_ascii_lowercase().as_str(), rest) {
        ("list", []) => Ok(Command::UserList),
        ("add", [name, role]) => role
            .to_ascii_lowercase()
            .parse::<Role>()
            .map(|role| Command::UserAdd((*name).to_owned(), role))
            .map_err(|_| ParseError::Usage("user add NAME administrator|operator|viewer")),
        ("passwd", [name]) => Ok(Command::UserPasswd((*name).to_owned())),
        ("remove", [name]) => Ok(Command::UserRemove((*name).to_owned())),
        ("list", _) => Err(ParseError::Usage("user list")),
        ("add", _) => Err(ParseError::Usage(
            "user add NAME administrator|operator|viewer",
        )),
        ("passwd", _) => Err(ParseError::Usage("user passwd NAME")),
        ("remove", _) => Err(ParseError::Usage("user remove NAME")),
        _ => Err(ParseError::Usage(USER_USAGE)),
    }
}

fn network(args: &[&str]) -> Result<Command, ParseError> {
    let Some((&sub, rest)) = args.split_first() else {
        return Err(ParseError::Usage(NETWORK_USAGE));
    };
    match (sub.to_ascii_lowercase().as_str(), rest) {
        ("show", []) => Ok(Command::NetworkShow),
        ("dhcp", []) => Ok(Command::NetworkDhcp),
        ("static", [cidr, more @ ..]) if more.len() <= 1 + MAX_DNS => static_network(cidr, more),
        ("show", _) => Err(ParseError::Usage("network show")),
        ("dhcp", _) => Err(ParseError::Usage("network dhcp")),
        ("static", _) => Err(ParseError::Usage(STATIC_USAGE)),
        _ => Err(ParseError::Usage(NETWORK_USAGE)),
    }
}

/// `ADDR/PREFIX [GW|none] [DNS..]`, held to the board's rules.
fn static_network(cidr: &str, more: &[&str]) -> Result<Command, ParseError> {
    const WHAT: &str = "network static";
    let invalid = |why: String| ParseError::Invalid(WHAT, why);
    let address = |field: &str, word: &str| {
        word.parse::<Ipv4Addr>().map_err(|_| {
            invalid(format!(
                "{field} '{}' is not an IPv4 address (a.b.c.d)",
                printable(word)
            ))
        })
    };
    let (ip, prefix) = cidr.split_once('/').ok_or_else(|| {
        let cidr = printable(cidr);
        invalid(format!(
            "'{cidr}' needs a prefix length: ADDR/PREFIX, e.g. 192.0.2.10/24"
        ))
    })?;
    let ip = address("address", ip)?;
    let prefix = prefix
        .parse::<u8>()
        .ok()
        .filter(|p| (1..=32).contains(p))
        .ok_or_else(|| {
            invalid(format!(
                "prefix '{}' is out of range: 1-32",
                printable(prefix)
            ))
        })?;
    let gateway = match more.first() {
        None => None,
        Some(word) if word.eq_ignore_ascii_case("none") => None,
        Some(word) => Some(address("gateway", word)?),
    };
    let dns = more
        .iter()
        .skip(1)
        .map(|word| address("DNS server", word))
        .collect::<Result<Vec<_>, _>>()?;
    for server in &dns {
        netconf::check_host_address(*server).map_err(|e| invalid(format!("DNS server: {e}")))?;
    }
    let config = StaticNetwork {
        address: ip,
        prefix,
        gateway,
    };
    config.check().map_err(|e| invalid(e.to_string()))?;
    Ok(Command::NetworkStatic(config, dns))
}

fn log(args: &[&str]) -> Result<Command, ParseError> {
    const USAGE: &str = "log [LINES]: LINES is 1-500";
    match args {
        [] => Ok(Command::Log(DEFAULT_LOG_LINES)),
        [count] => match count.parse::<usize>() {
            Ok(n) if (1..=MAX_LOG_LINES).contains(&n) => Ok(Command::Log(n)),
            _ => Err(ParseError::Usage(USAGE)),
        },
        _ => Err(ParseError::Usage(USAGE)),
    }
}

/// `debug hang SECONDS`, 1-600: digits only (no sign, no fraction).
fn debug(args: &[&str]) -> Result<Command, ParseError> {
    let [action, seconds] = args else {
        return Err(ParseError::Usage(DEBUG_HANG_USAGE));
    };
    if !action.eq_ignore_ascii_case("hang") || !seconds.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Usage(DEBUG_HANG_USAGE));
    }
    match seconds.parse::<u64>() {
        Ok(n) if (1..=MAX_HANG_SECONDS).contains(&n) => Ok(Command::DebugHang(n)),
        _ => Err(ParseError::Usage(DEBUG_HANG_USAGE)),
    }
}

/// What follows the first `words` words of `line`, trimmed: a name, which
/// may hold spaces of its own ("Studio A"). `None` if nothing follows.
fn name_after(line: &str, words: usize) -> Option<String> {
    let mut rest = line.trim();
    for _ in 0..words {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    let name = rest.trim_end();
    (!name.is_empty()).then(|| name.to_owned())
}

impl Command {
    /// Whether the command changes the box: it needs a login.
    pub fn changes_the_box(&self) -> bool {
        !matches!(
            self,
            Command::Help
                | Command::Status
                | Command::ApiKeyList
                | Command::ApiStatus
                | Command::StreamList
                | Command::PresetList
                | Command::UserList
                | Command::NetworkShow
                | Command::Log(_)
                | Command::Login
                | Command::Exit
        )
    }

    /// The line `makarad serve` answers on its control socket for a
    /// command that needs the running supervisor; `None` for the others.
    pub fn control_line(&self) -> Option<String> {
        Some(match self {
            Command::StreamList => "stream list".to_owned(),
            Command::StreamStart(name) => format!("stream start {name}"),
            Command::StreamStop(name) => format!("stream stop {name}"),
            Command::PresetList => "preset list".to_owned(),
            Command::PresetLoad(name) => format!("preset load {name}"),
            Command::PresetDefault(name) => format!("preset default {name}"),
            Command::DebugHang(seconds) => format!("debug hang {seconds}"),
            _ => return None,
        })
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
        assert_eq!(ok("stream list"), Command::StreamList);
        assert_eq!(ok("stream start Demo"), Command::StreamStart("Demo".into()));
        assert_eq!(ok("stream stop Demo"), Command::StreamStop("Demo".into()));
        assert_eq!(ok("preset list"), Command::PresetList);
        assert_eq!(
            ok("preset load Studio"),
            Command::PresetLoad("Studio".into())
        );
        assert_eq!(
            ok("preset default Studio"),
            Command::PresetDefault("Studio".into())
        );
        assert_eq!(ok("login"), Command::Login);
        assert_eq!(ok("user list"), Command::UserList);
        assert_eq!(
            ok("user add ops-1 Operator"),
            Command::UserAdd("ops-1".into(), Role::Operator)
        );
        assert_eq!(ok("user passwd Ann"), Command::UserPasswd("Ann".into()));
        assert_eq!(ok("user remove Ann"), Command::UserRemove("Ann".into()));
        assert_eq!(ok("log"), Command::Log(DEFAULT_LOG_LINES));
        assert_eq!(ok("log 500"), Command::Log(500));
        assert_eq!(ok("factory-reset"), Command::FactoryReset);
        assert_eq!(ok("network show"), Command::NetworkShow);
        assert_eq!(ok("network DHCP"), Command::NetworkDhcp);
        assert_eq!(ok("debug hang 1"), Command::DebugHang(1));
        assert_eq!(ok("DEBUG Hang 600"), Command::DebugHang(600));
        assert_eq!(ok("debug hang 0120"), Command::DebugHang(120));
    }

    #[test]
    fn debug_hang_takes_only_whole_seconds_from_1_to_600() {
        let usage = format!("usage: {DEBUG_HANG_USAGE}");
        for line in [
            "debug",
            "debug hang",
            "debug hang 0",
            "debug hang 601",
            "debug hang -1",
            "debug hang +5",
            "debug hang 1.5",
            "debug hang 5s",
            "debug hang ten",
            "debug hang 99999999999999999999999",
            "debug hang 5 6",
            "debug sleep 5",
            "debug 5",
        ] {
            assert_eq!(err(line), usage, "{line}");
        }
        // It changes the box (sleeps its supervisor): the login is asked
        // for; and it goes to makarad serve.
        assert!(ok("debug hang 5").changes_the_box());
        let command = ok("debug hang 120");
        assert_eq!(command.control_line().as_deref(), Some("debug hang 120"));
        assert_eq!(ok(&command.control_line().unwrap()), command);
    }

    fn fixed(address: [u8; 4], prefix: u8, gateway: Option<[u8; 4]>) -> StaticNetwork {
        StaticNetwork {
            address: address.into(),
            prefix,
            gateway: gateway.map(Ipv4Addr::from),
        }
    }

    #[test]
    fn network_static_takes_a_gateway_and_name_servers() {
        assert_eq!(
            ok("network static 10.0.2.20/24"),
            Command::NetworkStatic(fixed([10, 0, 2, 20], 24, None), vec![])
        );
        assert_eq!(
            ok("network static 10.0.2.20/24 none 1.1.1.1"),
            Command::NetworkStatic(fixed([10, 0, 2, 20], 24, None), vec![[1, 1, 1, 1].into()])
        );
        assert_eq!(
            ok("network static 10.0.2.20/24 10.0.2.2 10.0.2.3 9.9.9.9 1.1.1.1"),
            Command::NetworkStatic(
                fixed([10, 0, 2, 20], 24, Some([10, 0, 2, 2])),
                vec![
                    [10, 0, 2, 3].into(),
                    [9, 9, 9, 9].into(),
                    [1, 1, 1, 1].into()
                ]
            )
        );
    }

    #[test]
    fn network_static_refuses_what_the_box_cannot_use() {
        let cases = [
            ("network static 10.0.2.20", "network static: '10.0.2.20' needs a prefix length: ADDR/PREFIX, e.g. 192.0.2.10/24"),
            ("network static ten/24", "network static: address 'ten' is not an IPv4 address (a.b.c.d)"),
            ("network static 10.0.2.20/0", "network static: prefix '0' is out of range: 1-32"),
            ("network static 10.0.2.20/33", "network static: prefix '33' is out of range: 1-32"),
            ("network static 10.0.2.20/x", "network static: prefix 'x' is out of range: 1-32"),
            ("network static 10.0.2.20/24 gw", "network static: gateway 'gw' is not an IPv4 address (a.b.c.d)"),
            ("network static 10.0.2.20/24 10.0.2.2 dns", "network static: DNS server 'dns' is not an IPv4 address (a.b.c.d)"),
            ("network static 10.0.2.20/24 10.0.2.2 224.0.0.1", "network static: DNS server: 224.0.0.1 is not a host address (0/8, 127/8, multicast and 240/4 are not)"),
            ("network static 10.0.2.0/24", "network static: 10.0.2.0/24 is the subnet's own address, not a host of it"),
            ("network static 10.0.2.255/24", "network static: 10.0.2.255/24 is the subnet's broadcast address"),
            ("network static 127.0.0.2/8", "network static: 127.0.0.2 is not a host address (0/8, 127/8, multicast and 240/4 are not)"),
            ("network static 10.0.2.20/24 10.0.3.1", "network static: gateway 10.0.3.1 is not in the box's subnet"),
            ("network static 10.0.2.20/24 10.0.2.20", "network static: gateway 10.0.2.20 is the box's own address"),
            ("network static 10.0.2.20/24 \x1b", "network static: gateway '\\u{1b}' is not an IPv4 address (a.b.c.d)"),
        ];
        for (line, want) in cases {
            assert_eq!(err(line), want, "{line}");
        }
    }

    #[test]
    fn reading_needs_no_login_and_changing_does() {
        for line in [
            "help",
            "status",
            "api status",
            "api-key list",
            "stream list",
            "preset list",
            "user list",
            "network show",
            "log",
            "login",
            "exit",
        ] {
            assert!(!ok(line).changes_the_box(), "{line}");
        }
        for line in [
            "api-key create",
            "api-key revoke k",
            "api enable",
            "api disable",
            "stream start a",
            "stream stop a",
            "preset load a",
            "preset default a",
            "user add a viewer",
            "user passwd a",
            "user remove a",
            "network dhcp",
            "network static 10.0.0.2/24",
            "factory-reset",
            "reboot",
            "poweroff",
            "shell",
        ] {
            assert!(ok(line).changes_the_box(), "{line}");
        }
    }

    #[test]
    fn names_keep_their_inner_spaces_and_case() {
        assert_eq!(
            ok("  Stream START  Studio  A \r"),
            Command::StreamStart("Studio  A".into())
        );
        assert_eq!(
            ok("preset load evening news"),
            Command::PresetLoad("evening news".into())
        );
    }

    #[test]
    fn control_lines_parse_back_to_their_command() {
        for line in [
            "stream list",
            "stream start Studio  A",
            "stream stop x",
            "preset list",
            "preset load a b",
            "preset default c",
        ] {
            let command = ok(line);
            assert_eq!(ok(&command.control_line().unwrap()), command);
        }
        assert_eq!(ok("status").control_line(), None);
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
        assert_eq!(err("stream"), format!("usage: {STREAM_USAGE}"));
        assert_eq!(err("stream go x"), format!("usage: {STREAM_USAGE}"));
        assert_eq!(err("stream list all"), "usage: stream list");
        assert_eq!(err("stream start"), "usage: stream start NAME");
        assert_eq!(err("stream stop  "), "usage: stream stop NAME");
        assert_eq!(err("preset"), format!("usage: {PRESET_USAGE}"));
        assert_eq!(err("preset save x"), format!("usage: {PRESET_USAGE}"));
        assert_eq!(err("preset list x"), "usage: preset list");
        assert_eq!(err("preset load"), "usage: preset load NAME");
        assert_eq!(err("preset default"), "usage: preset default NAME");
        assert_eq!(err("login now"), "usage: login");
        assert_eq!(err("user"), format!("usage: {USER_USAGE}"));
        assert_eq!(err("user delete a"), format!("usage: {USER_USAGE}"));
        assert_eq!(err("user list a"), "usage: user list");
        assert_eq!(
            err("user add a"),
            "usage: user add NAME administrator|operator|viewer"
        );
        assert_eq!(
            err("user add a root"),
            "usage: user add NAME administrator|operator|viewer"
        );
        assert_eq!(err("user passwd"), "usage: user passwd NAME");
        assert_eq!(err("user remove a b"), "usage: user remove NAME");
        assert_eq!(err("log 0"), "usage: log [LINES]: LINES is 1-500");
        assert_eq!(err("log 501"), "usage: log [LINES]: LINES is 1-500");
        assert_eq!(err("log many"), "usage: log [LINES]: LINES is 1-500");
        assert_eq!(err("log 1 2"), "usage: log [LINES]: LINES is 1-500");
        assert_eq!(err("factory-reset now"), "usage: factory-reset");
        assert_eq!(err("network"), format!("usage: {NETWORK_USAGE}"));
        assert_eq!(err("network off"), format!("usage: {NETWORK_USAGE}"));
        assert_eq!(err("network show all"), "usage: network show");
        assert_eq!(err("network dhcp now"), "usage: network dhcp");
        assert_eq!(err("network static"), format!("usage: {STATIC_USAGE}"));
        assert_eq!(
            err("network static 10.0.2.20/24 10.0.2.2 1.1.1.1 1.0.0.1 8.8.8.8 8.8.4.4"),
            format!("usage: {STATIC_USAGE}")
        );
    }

    #[test]
    fn help_lists_every_command_word() {
        let listed: String = HELP.iter().map(|(c, _)| format!("{c} ")).collect();
        for word in [
            "help",
            "status",
            "api-key",
            "api ",
            "stream ",
            "preset ",
            "login",
            "user ",
            "network ",
            "log",
            "factory-reset",
            "reboot",
            "poweroff",
            "shell",
            "exit",
            "logout",
        ] {
            assert!(listed.contains(word), "{word} missing from help");
        }
    }
}
