//! `makarad console`: the `makara>` prompt on the serial console, where an
//! operator without a network gets the first API key, checks the
//! appliance and reboots it.
//!
//! Each line is parsed into a [`Command`] first, then carried out. The
//! session is generic over its input and output, so tests drive it with
//! bytes. Nothing an operator types ends the session except `exit`,
//! `logout` and end of input: failures are printed and the prompt comes
//! back. The tty echoes what is typed; the console never does.

pub(crate) mod command;
mod editor;
mod login;
mod network;
pub(crate) mod programs;
mod secret;
mod status;
#[cfg(test)]
mod tests;
mod upkeep;

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::Args;

use crate::exit::{ExitCode, Failure};
use crate::keys;
use command::{Command, HELP};
use makara_board::netconf::Network;
use programs::CommandLine;

/// Written and flushed before each line is read.
pub const PROMPT: &str = "makara> ";

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The appliance's data directory.
    #[arg(long, default_value = "/data/makara")]
    pub data_dir: PathBuf,
    /// Pid file of `makarad serve`, for `status`.
    #[arg(long, default_value = "/run/makara/makarad.pid")]
    pub serve_pid_file: PathBuf,
    /// What `reboot` runs (split at whitespace).
    #[arg(long, default_value = "reboot", value_parser = CommandLine::parse)]
    pub reboot_command: CommandLine,
    /// What `poweroff` runs (split at whitespace).
    #[arg(long, default_value = "poweroff", value_parser = CommandLine::parse)]
    pub poweroff_command: CommandLine,
    /// The service shell `shell` runs (split at whitespace).
    #[arg(long, default_value = "/bin/sh", value_parser = CommandLine::parse)]
    pub shell: CommandLine,
    /// The control socket of `makarad serve`, for the commands that act
    /// on the running streams and presets [default: DATA_DIR/control.sock].
    #[arg(long)]
    pub control_socket: Option<PathBuf>,
    /// makarad's log file, for `log`.
    #[arg(long, default_value = "/run/makara/makarad.log")]
    pub log_file: PathBuf,
    /// The image's network configuration, which `network` changes.
    #[arg(long, default_value = crate::network::DEFAULT_CONF)]
    pub network_conf: PathBuf,
    /// What applies `network.conf` after a change (split at whitespace).
    #[arg(long, default_value = crate::network::DEFAULT_APPLY, value_parser = CommandLine::parse)]
    pub network_apply: CommandLine,
    /// The board profile `makarad serve` runs with, if it was named
    /// (`serve --board`), for `status`; otherwise the machine's own.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
}

/// What the session works on.
#[derive(Debug, Clone)]
pub struct Console {
    pub data_dir: PathBuf,
    pub serve_pid_file: PathBuf,
    pub reboot: CommandLine,
    pub poweroff: CommandLine,
    pub shell: CommandLine,
    pub control_socket: PathBuf,
    pub log_file: PathBuf,
    /// `network.conf` and what applies it.
    pub network: crate::network::NetworkPlace,
    /// `/proc`, where `status` looks for the server's pid.
    pub proc_root: PathBuf,
    /// Whether passwords are read from a terminal, with its echo off.
    pub echo: secret::Echo,
    /// How long a failed login holds the prompt back.
    pub login_delay: std::time::Duration,
    /// `--board`: the board profile `status` shows, by name.
    pub board: Option<String>,
}

impl From<ConsoleArgs> for Console {
    fn from(args: ConsoleArgs) -> Console {
        Console {
            data_dir: args.data_dir.clone(),
            serve_pid_file: args.serve_pid_file,
            reboot: args.reboot_command,
            poweroff: args.poweroff_command,
            shell: args.shell,
            control_socket: args
                .control_socket
                .unwrap_or_else(|| crate::control::socket_in(&args.data_dir)),
            log_file: args.log_file,
            network: crate::network::NetworkPlace {
                conf: args.network_conf,
                apply: args.network_apply,
            },
            proc_root: PathBuf::from("/proc"),
            echo: secret::Echo::of_stdin(),
            login_delay: std::time::Duration::from_secs(2),
            board: args.board,
        }
    }
}

pub fn run(args: ConsoleArgs) -> Result<(), Failure> {
    ignore_interrupts();
    let console = Console::from(args);
    session(&console, io::stdin().lock(), &mut io::stdout().lock())
        .map_err(|e| Failure::new(ExitCode::Failed, format!("console: {e}")))
}

/// Ctrl-C and Ctrl-\ on the console signal the whole foreground process
/// group: without this they would end the console, and while the service
/// shell runs they would end the console under it. Tokio's handler stays
/// installed for the life of the process (it is never unregistered), and
/// unlike an ignored signal it is reset by `exec`, so the shell and the
/// programs it starts get the usual Ctrl-C.
fn ignore_interrupts() {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build();
    let Ok(runtime) = runtime else {
        return;
    };
    let _entered = runtime.enter();
    for kind in [SignalKind::interrupt(), SignalKind::quit()] {
        if let Err(e) = signal(kind) {
            tracing::warn!(error = %e, "console: Ctrl-C may end the console");
        }
    }
}

/// The banner, then prompt → line → command until `exit` or end of input.
/// Only reading or writing the console itself can fail it.
pub fn session(console: &Console, mut input: impl BufRead, out: &mut impl Write) -> io::Result<()> {
    let input = &mut input;
    banner(console, out)?;
    let mut keyboard = editor::Keyboard::default();
    let mut login = login::Session::default();
    loop {
        let line = match console.echo {
            secret::Echo::Terminal => editor::read_line(PROMPT, input, out, &mut keyboard)?,
            secret::Echo::Pipe => {
                out.write_all(PROMPT.as_bytes())?;
                out.flush()?;
                read_plain_line(input, out)?
            }
        };
        let Some(line) = line else {
            writeln!(out)?;
            return Ok(());
        };
        match command::parse(&line) {
            Ok(None) => {}
            Ok(Some(Command::Exit)) => return Ok(()),
            Ok(Some(Command::Login)) => {
                if let Some(user) = &login.user {
                    writeln!(out, "logged in as {user}")?;
                } else {
                    login::require(console, &mut login, input, out)?;
                }
            }
            Ok(Some(command)) => {
                if !command.changes_the_box() || login::require(console, &mut login, input, out)? {
                    execute(console, command, input, out)?;
                }
            }
            Err(e) => writeln!(out, "{e}")?,
        }
    }
}

/// A line from a pipe (a script, the tests): bytes up to LF, not
/// necessarily UTF-8 (line noise must not end the session), and at most
/// [`editor::MAX_LINE_CHARS`] bytes of it kept: a longer one is refused
/// whole rather than cut into two commands.
fn read_plain_line(input: &mut impl BufRead, out: &mut impl Write) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let bytes = input.fill_buf()?;
        if bytes.is_empty() {
            if line.is_empty() && !too_long {
                return Ok(None);
            }
            break;
        }
        let end = bytes.iter().position(|&b| b == b'\n');
        let content = end.unwrap_or(bytes.len());
        let room = editor::MAX_LINE_CHARS.saturating_sub(line.len());
        too_long |= content > room;
        line.extend_from_slice(&bytes[..content.min(room)]);
        input.consume(end.map_or(content, |at| at + 1));
        if end.is_some() {
            break;
        }
    }
    if too_long {
        writeln!(out, "line over {} bytes: ignored", editor::MAX_LINE_CHARS)?;
        return Ok(Some(String::new()));
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn banner(console: &Console, out: &mut impl Write) -> io::Result<()> {
    let version = makara_board::firmware_version();
    let host = makara_board::hostname();
    writeln!(
        out,
        "Makara video encoder {version} on {host}: serial console"
    )?;
    if let Ok(api) = status::api(console) {
        if api.keys == 0 {
            writeln!(out, "No API keys yet: `api-key create` makes one.")?;
        }
    }
    writeln!(out, "Type help for the commands.")
}

fn execute(
    console: &Console,
    command: Command,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<()> {
    if let Some(line) = command.control_line() {
        return match crate::control::request(&console.control_socket, &line) {
            Ok(lines) if lines.is_empty() => writeln!(out, "done"),
            Ok(lines) => lines.iter().try_for_each(|l| writeln!(out, "{l}")),
            Err(e) => writeln!(out, "failed: {e}"),
        };
    }
    let dir = &console.data_dir;
    let result = match command {
        Command::Help => return help(out),
        Command::Status => return status::render(&status::gather(console), out),
        Command::ApiKeyCreate => keys::create_key(dir, out).and_then(|()| {
            writeln!(out, "The API is enabled. The secret is not shown again.")?;
            Ok(())
        }),
        Command::ApiKeyList => keys::list_keys(dir, out).and_then(|state| {
            if state.keys.is_empty() {
                writeln!(out, "no API keys (api-key create makes one)")?;
            }
            if !state.enabled {
                writeln!(out, "note: the API is disabled (api enable)")?;
            }
            Ok(())
        }),
        Command::ApiKeyRevoke(key) => keys::revoke_key(dir, &key, out),
        Command::ApiEnable => keys::set_api(dir, true, out),
        Command::ApiDisable => keys::set_api(dir, false, out),
        Command::ApiStatus => {
            return match status::api(console) {
                Ok(api) => writeln!(out, "api: {api}"),
                Err(e) => writeln!(out, "api status failed: {e}"),
            };
        }
        Command::Reboot => return programs::power("reboot", &console.reboot, out),
        Command::Poweroff => return programs::power("poweroff", &console.poweroff, out),
        Command::Shell => return programs::shell(&console.shell, out),
        Command::UserList => return upkeep::user_list(console, out),
        Command::UserAdd(name, role) => return upkeep::user_add(console, &name, role, input, out),
        Command::UserPasswd(name) => return upkeep::user_passwd(console, &name, input, out),
        Command::UserRemove(name) => return upkeep::user_remove(console, &name, out),
        Command::Log(lines) => return upkeep::log(&console.log_file, lines, out),
        Command::NetworkShow => return network::show(console, out),
        Command::NetworkDhcp => return network::change(console, Network::Dhcp, None, out),
        Command::NetworkStatic(config, dns) => {
            return network::set_static(console, config, dns, out)
        }
        Command::FactoryReset => return upkeep::factory_reset(console, input, out).map(|_| ()),
        Command::Login
        | Command::Exit
        | Command::StreamList
        | Command::StreamStart(_)
        | Command::StreamStop(_)
        | Command::PresetList
        | Command::PresetLoad(_)
        | Command::PresetDefault(_)
        | Command::DebugHang(_) => return Ok(()),
    };
    match result {
        Ok(()) => Ok(()),
        Err(keys::AccessCommandError::Output(e)) => Err(e),
        Err(e) => writeln!(out, "failed: {}", crate::exit::chain(&e)),
    }
}

fn help(out: &mut impl Write) -> io::Result<()> {
    let width = HELP.iter().map(|(c, _)| c.len()).max().unwrap_or(0) + 2;
    for (command, what) in HELP {
        writeln!(out, "{command:width$}{what}")?;
    }
    Ok(())
}
