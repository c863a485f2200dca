//! Whole sessions: bytes in, text out, against a scratch data directory.

use std::path::Path;

use makara_access::users::Role;
use makara_access::AccessStore;
use makara_test_support::TestDir;

use super::programs::CommandLine;
use super::{session, Console, PROMPT};

fn console(dir: &Path) -> Console {
    let line = |text| CommandLine::parse(text).unwrap();
    Console {
        data_dir: dir.join("data"),
        serve_pid_file: dir.join("makarad.pid"),
        reboot: line("echo rebooting now"),
        poweroff: line("false"),
        shell: line("true"),
        control_socket: dir.join("control.sock"),
        log_file: dir.join("makarad.log"),
        network: crate::network::NetworkPlace {
            conf: dir.join("network.conf"),
            apply: line("true"),
        },
        proc_root: dir.join("proc"),
        echo: super::secret::Echo::Pipe,
        login_delay: std::time::Duration::ZERO,
        board: Some("qemu-x86_64".into()),
    }
}

/// Logs in on a box without an administrator: the console has user
/// `admin` made with this password.
const PASSWORD: &str = "console-pass-1";

fn first_login() -> String {
    format!("login\n{PASSWORD}\n{PASSWORD}\n")
}

/// `answers` after a first login, whose answer is checked and left out.
fn logged_in(console: &Console, input: &str) -> Vec<String> {
    let mut all = answers(console, &format!("{}{input}", first_login()));
    let login = all.remove(0);
    assert!(login.ends_with("logged in as admin\n"), "{login}");
    all
}

/// Runs a session on `input`; the output without the banner, split at the
/// prompts: one entry per prompt, holding what the line before it printed.
fn answers(console: &Console, input: &str) -> Vec<String> {
    answers_of_bytes(console, input.as_bytes())
}

fn answers_of_bytes(console: &Console, input: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    session(console, input, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut parts = text.split(PROMPT).map(str::to_owned);
    let banner = parts.next().unwrap();
    assert!(banner.contains("Makara video encoder"), "{banner}");
    parts.collect()
}

#[test]
fn the_banner_names_the_product_version_and_host_and_points_to_help() {
    let dir = TestDir::new("console-session-banner");
    let mut out = Vec::new();
    session(&console(dir.path()), &b""[..], &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let version = makara_board::firmware_version();
    let host = makara_board::hostname();
    assert!(
        text.starts_with(&format!(
            "Makara video encoder {version} on {host}: serial console\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("No API keys yet: `api-key create` makes one.\n"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("Type help for the commands.\n{PROMPT}\n")),
        "{text}"
    );
}

#[test]
fn end_of_input_ends_the_session_after_one_prompt() {
    let dir = TestDir::new("console-session-eof");
    assert_eq!(answers(&console(dir.path()), ""), ["\n"]);
}

#[test]
fn blank_lines_just_prompt_again() {
    let dir = TestDir::new("console-session-blank");
    assert_eq!(
        answers(&console(dir.path()), "\n\r\n  \n"),
        ["", "", "", "\n"]
    );
}

#[test]
fn exit_and_logout_end_the_session_without_reading_further() {
    let dir = TestDir::new("console-session-exit");
    assert_eq!(answers(&console(dir.path()), "exit\nhelp\n"), [""]);
    assert_eq!(answers(&console(dir.path()), "logout\r\nstatus\n"), [""]);
}

#[test]
fn help_lists_one_command_per_line() {
    let dir = TestDir::new("console-session-help");
    let answers = answers(&console(dir.path()), "help\n");
    let lines: Vec<&str> = answers[0].lines().collect();
    assert_eq!(lines.len(), super::HELP.len());
    assert!(lines[0].starts_with("help "), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("api-key revoke KEY")),
        "{lines:?}"
    );
}

#[test]
fn unknown_commands_and_bad_arguments_are_explained_and_the_prompt_returns() {
    let dir = TestDir::new("console-session-unknown");
    let answers = answers(&console(dir.path()), "xyz\napi-key revoke\napi on\nhelp\n");
    assert_eq!(answers[0], "unknown command 'xyz': type help\n");
    assert_eq!(answers[1], "usage: api-key revoke KEY\n");
    assert_eq!(answers[2], "usage: api enable | api disable | api status\n");
    assert!(answers[3].starts_with("help "), "{answers:?}");
}

#[test]
fn line_noise_that_is_not_utf8_is_an_unknown_command() {
    let dir = TestDir::new("console-session-noise");
    let answers = answers_of_bytes(&console(dir.path()), b"\xff\xfe\nexit\n");
    assert_eq!(
        answers[0],
        "unknown command '\u{fffd}\u{fffd}': type help\n"
    );
    assert_eq!(answers.len(), 2);
}

#[test]
fn api_key_create_prints_the_two_lines_and_stores_a_working_key() {
    let dir = TestDir::new("console-session-create");
    let console = console(dir.path());
    let answers = logged_in(&console, "api-key create\n");
    let lines: Vec<&str> = answers[0].lines().collect();
    let state = AccessStore::open(&console.data_dir).load().unwrap();
    assert!(state.enabled);
    assert_eq!(state.keys.len(), 1);
    let key = &state.keys[0];
    assert_eq!(lines[0], format!("consumer_key: {}", key.consumer_key));
    assert_eq!(
        lines[1],
        format!("consumer_secret: {}", key.consumer_secret)
    );
    assert_eq!(
        lines[2],
        "The API is enabled. The secret is not shown again."
    );
}

#[test]
fn api_key_list_and_revoke_work_like_the_cli() {
    let dir = TestDir::new("console-session-list");
    let console = console(dir.path());
    assert_eq!(
        answers(&console, "api-key list\n")[0],
        "no API keys (api-key create makes one)\nnote: the API is disabled (api enable)\n"
    );
    let key = AccessStore::open(&console.data_dir).create_key().unwrap();
    let k = &key.consumer_key;
    let input = format!("api-key list\napi-key revoke {k}\napi-key revoke {k}\napi-key list\n");
    let answers = logged_in(&console, &input);
    assert_eq!(
        answers[0],
        format!("consumer_key: {k} created: {}\n", key.created_unix)
    );
    assert_eq!(answers[1], format!("revoked: {k}\n"));
    assert_eq!(answers[2], format!("failed: no consumer key {k}\n"));
    assert_eq!(answers[3], "no API keys (api-key create makes one)\n");
}

#[test]
fn api_enable_disable_and_status_switch_the_stored_state() {
    let dir = TestDir::new("console-session-api");
    let console = console(dir.path());
    let input = "api status\napi enable\napi status\napi disable\napi status\n";
    let answers = logged_in(&console, input);
    assert_eq!(
        &answers[..5],
        [
            "api: disabled, 0 keys\n",
            "api: enabled\n",
            "api: enabled, 0 keys\n",
            "api: disabled\n",
            "api: disabled, 0 keys\n",
        ]
    );
    assert!(!AccessStore::open(&console.data_dir).load().unwrap().enabled);
}

#[test]
fn a_broken_data_directory_is_reported_and_the_session_goes_on() {
    let dir = TestDir::new("console-session-broken");
    let console = console(dir.path());
    // A file where the data directory should be.
    std::fs::write(&console.data_dir, "not a directory").unwrap();
    let answers = answers(&console, "api-key create\napi status\nhelp\n");
    // The login cannot read the users: nothing is changed.
    assert!(
        answers[0].starts_with("cannot read the users: "),
        "{answers:?}"
    );
    assert!(answers[1].starts_with("api status failed: "), "{answers:?}");
    assert!(answers[2].starts_with("help "), "{answers:?}");
}

#[test]
fn status_shows_the_version_the_api_and_the_server() {
    let dir = TestDir::new("console-session-status");
    let console = console(dir.path());
    AccessStore::open(&console.data_dir).create_key().unwrap();
    std::fs::write(&console.serve_pid_file, "4242\n").unwrap();
    std::fs::create_dir_all(console.proc_root.join("4242")).unwrap();
    let answers = answers(&console, "status\n");
    let text = &answers[0];
    let version = makara_board::firmware_version();
    for line in [
        format!("version:  makarad {version}\n"),
        "api:      enabled, 1 key\n".to_owned(),
        "serve:    running (pid 4242)\n".to_owned(),
        "streams:  0 (0 inputs, 0 outputs, 0 transcoders)\n".to_owned(),
        "board:    qemu-x86_64: QEMU q35 virtual machine, x86_64 (scripts/qemu)\n".to_owned(),
    ] {
        assert!(text.contains(&line), "{line:?} not in\n{text}");
    }
    for label in ["hostname: ", "uptime:   ", "network:  ", "data:     "] {
        assert!(
            text.contains(&format!("\n{label}")),
            "{label:?} not in\n{text}"
        );
    }
}

/// `debug hang` goes to makarad serve (here there is none), after the
/// login; a bad number of seconds gets the usage.
#[test]
fn debug_hang_goes_to_makarad_serve() {
    let dir = TestDir::new("console-session-debug");
    let answers = logged_in(&console(dir.path()), "debug hang 5\ndebug hang 0\n");
    assert!(
        answers[0].starts_with("failed: makarad serve does not answer on "),
        "{answers:?}"
    );
    assert_eq!(answers[1], "usage: debug hang SECONDS: SECONDS is 1-600\n");
}

#[test]
fn reboot_and_poweroff_run_their_commands_and_report_failures() {
    let dir = TestDir::new("console-session-power");
    let answers = logged_in(&console(dir.path()), "reboot\npoweroff\n");
    assert_eq!(
        answers[0],
        "reboot: running `echo rebooting now`\nrebooting now\nreboot: requested; the appliance goes down now\n"
    );
    assert_eq!(
        answers[1],
        "poweroff: running `false`\npoweroff failed: `false` exited with status 1\n"
    );
    assert_eq!(answers.len(), 3, "the session went on: {answers:?}");
}

#[test]
fn the_shell_warns_and_returns_to_the_prompt() {
    let dir = TestDir::new("console-session-shell");
    let answers = logged_in(&console(dir.path()), "shell\nexit\n");
    assert_eq!(
        answers[0],
        "service shell: changes made here can break the appliance; type exit to return\n"
    );
    assert_eq!(answers.len(), 2);
}

/// A configuration written by another firmware version is not read as if
/// it were this one's: `status` says why it cannot show the streams.
#[test]
fn status_does_not_guess_at_a_configuration_of_another_format() {
    let dir = TestDir::new("console-session-format");
    let console = console(dir.path());
    let document = "format = 2\nrunning = []\n[[current.streams]]\nid = \"x\"\n[current.streams.value]\nname = \"Later\"\n";
    makara_store::Slots::new(&console.data_dir, "config")
        .save(document.as_bytes())
        .unwrap();
    let answers = answers(&console, "status\n");
    let line = answers[0]
        .lines()
        .find(|l| l.starts_with("streams:"))
        .unwrap_or_default();
    assert!(
        line.starts_with("streams:  unknown (") && line.contains("format 2"),
        "{line:?}"
    );
}

#[test]
fn stream_and_preset_commands_say_when_the_server_does_not_answer() {
    let dir = TestDir::new("console-no-serve");
    let console = console(dir.path());
    let said = logged_in(&console, "stream start Demo\npreset list\n");
    for answer in &said[..2] {
        assert!(
            answer.starts_with("failed: makarad serve does not answer on "),
            "{answer}"
        );
    }
}

#[test]
fn a_change_asks_for_the_login_and_reading_does_not() {
    let dir = TestDir::new("console-login-ask");
    let console = console(dir.path());
    let said = answers(
        &console,
        &format!("api status\napi enable\n{PASSWORD}\n{PASSWORD}\napi status\n"),
    );
    assert_eq!(said[0], "api: disabled, 0 keys\n");
    assert!(
        said[1].starts_with("No administrator yet. Choose the password of user 'admin'"),
        "{}",
        said[1]
    );
    assert!(said[1].ends_with("New password: Again: added: admin role: administrator\nlogged in as admin\napi: enabled\n"), "{}", said[1]);
    assert_eq!(said[2], "api: enabled, 0 keys\n");
}

#[test]
fn passwords_that_differ_or_break_the_rules_change_nothing() {
    let dir = TestDir::new("console-login-differ");
    let console = console(dir.path());
    let said = answers(
        &console,
        "api enable\nfirst-pass-1\nsecond-pass\napi enable\nshort\nshort\napi status\n",
    );
    assert!(
        said[0].ends_with("the two passwords differ; nothing changed\n"),
        "{}",
        said[0]
    );
    assert!(said[1].contains("failed: "), "{}", said[1]);
    assert_eq!(said[2], "api: disabled, 0 keys\n");
}

#[test]
fn an_administrator_logs_in_and_others_do_not() {
    let dir = TestDir::new("console-login-existing");
    let console = console(dir.path());
    let store = makara_access::users::UserStore::open(&console.data_dir);
    store
        .add("boss", Role::Administrator, "boss-password")
        .unwrap();
    store
        .add("watcher", Role::Viewer, "watcher-password")
        .unwrap();
    let said = answers(
        &console,
        "api enable\nwatcher\nwatcher-password\napi enable\nboss\nwrong-password\n\
         api enable\nboss\nboss-password\napi disable\n",
    );
    assert!(
        said[0].ends_with("Username: Password: login failed\n"),
        "{}",
        said[0]
    );
    assert!(
        said[1].ends_with("Username: Password: login failed\n"),
        "{}",
        said[1]
    );
    assert!(
        said[2].ends_with("logged in as boss\napi: enabled\n"),
        "{}",
        said[2]
    );
    // Logged in for the rest of the session.
    assert_eq!(said[3], "api: disabled\n");
}

#[test]
fn users_are_added_changed_listed_and_removed() {
    let dir = TestDir::new("console-users");
    let console = console(dir.path());
    let said = logged_in(
        &console,
        "user add ops operator\nops-password\nops-password\nuser passwd ops\n\
         new-ops-pass\nnew-ops-pass\nuser list\nuser remove ops\nuser remove ops\n",
    );
    assert!(
        said[0].ends_with("added: ops role: operator\n"),
        "{}",
        said[0]
    );
    assert!(said[1].ends_with("password changed: ops\n"), "{}", said[1]);
    assert!(
        said[2].contains("username: admin role: administrator"),
        "{}",
        said[2]
    );
    assert!(
        said[2].contains("username: ops role: operator"),
        "{}",
        said[2]
    );
    assert_eq!(said[3], "removed: ops\n");
    assert!(said[4].starts_with("failed: "), "{}", said[4]);
}

#[test]
fn log_shows_the_last_lines_across_a_rotation() {
    let dir = TestDir::new("console-log");
    let console = console(dir.path());
    let older = dir.path().join("makarad.log.1");
    std::fs::write(older, "old 1\nold 2\nold 3\n").unwrap();
    std::fs::write(&console.log_file, "new 1\nnew 2\n").unwrap();
    let said = answers(&console, "log 3\nlog 1\n");
    assert_eq!(said[0], "old 3\nnew 1\nnew 2\n");
    assert_eq!(said[1], "new 2\n");
    std::fs::remove_file(&console.log_file).unwrap();
    assert!(answers(&console, "log\n")[0].starts_with("cannot read the log "));
}

#[test]
fn factory_reset_asks_then_wipes_configuration_keys_and_users_and_reboots() {
    let dir = TestDir::new("console-factory-reset");
    let console = console(dir.path());
    AccessStore::open(&console.data_dir).create_key().unwrap();
    std::fs::create_dir_all(console.data_dir.join("recordings")).unwrap();
    let said = logged_in(
        &console,
        "factory-reset\nno\nfactory-reset\nfactory-reset\n",
    );
    assert!(
        said[0].ends_with("not confirmed; nothing changed\n"),
        "{}",
        said[0]
    );
    assert!(
        said[1].contains("factory reset: configuration, keys and users wiped\nreboot: running"),
        "{}",
        said[1]
    );
    assert!(AccessStore::open(&console.data_dir)
        .load()
        .unwrap()
        .keys
        .is_empty());
    let users = makara_access::users::UserStore::open(&console.data_dir)
        .list()
        .unwrap();
    assert!(users.is_empty(), "{users:?}");
    assert!(
        console.data_dir.join("recordings").is_dir(),
        "recordings stay"
    );
}

/// A console whose network apply command copies `network.conf` to
/// `applied` (or fails, saying so, when `fail` is set).
fn network_console(dir: &Path, fail: bool) -> Console {
    use std::os::unix::fs::PermissionsExt;
    let mut console = console(dir);
    let script = dir.join("apply");
    let body = if fail {
        "echo 'no network interface eth0' >&2; exit 1".to_owned()
    } else {
        format!(
            "cp {} {}",
            dir.join("network.conf").display(),
            dir.join("applied").display()
        )
    };
    std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    console.network.apply = CommandLine::parse(&script.display().to_string()).unwrap();
    console
}

#[test]
fn network_static_and_dhcp_are_saved_and_applied() {
    let dir = TestDir::new("console");
    let console = network_console(dir.path(), false);
    let applied = dir.path().join("applied");
    let out = logged_in(
        &console,
        "network static 10.0.2.20/24 10.0.2.2 10.0.2.3\nnetwork show\nnetwork dhcp\n",
    );
    assert!(
        out[0].ends_with("network: static 10.0.2.20/24 gateway 10.0.2.2, saved and applied\n"),
        "{}",
        out[0]
    );
    assert!(
        out[1].starts_with("saved:   static 10.0.2.20/24 gateway 10.0.2.2 (")
            && out[1].contains("\ndns:     10.0.2.3\n"),
        "{}",
        out[1]
    );
    assert!(
        out[2].ends_with("network: dhcp, saved and applied\n"),
        "{}",
        out[2]
    );
    assert_eq!(std::fs::read_to_string(applied).unwrap(), "MODE=dhcp\n");
}

#[test]
fn a_network_change_that_cannot_be_applied_says_so_and_is_kept() {
    let dir = TestDir::new("console");
    let console = network_console(dir.path(), true);
    let out = logged_in(&console, "network static 10.0.2.20/24\n");
    assert!(
        out[0].contains("failed: saved, but `")
            && out[0]
                .ends_with("failed: no network interface eth0; it takes effect at the next boot\n"),
        "{}",
        out[0]
    );
    let saved = std::fs::read_to_string(dir.path().join("network.conf")).unwrap();
    assert_eq!(saved, "MODE=static\nADDRESS=10.0.2.20/24\n");
}

#[test]
fn a_network_change_needs_the_login() {
    let dir = TestDir::new("console");
    let console = network_console(dir.path(), false);
    // The first-use password is asked for; end of input gives up.
    answers(&console, "network dhcp\n");
    assert!(!dir.path().join("network.conf").exists());
    assert!(!dir.path().join("applied").exists());
}

#[test]
fn an_overlong_line_is_refused_whole() {
    let dir = TestDir::new("console");
    let console = console(dir.path());
    let input = format!("{}\nhelp me\n", "status ".repeat(300));
    let out = answers(&console, &input);
    assert_eq!(out[0], "line over 1024 bytes: ignored\n");
    assert_eq!(out[1], "usage: help\n");
}
