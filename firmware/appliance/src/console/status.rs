//! `status`: gathered from the machine and the data directory first, then
//! rendered, so rendering is tested on made-up facts. A fact that cannot
//! be read shows as its error; `status` itself never fails.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use makara_access::{AccessState, AccessStore};
use makara_board::{Mount, Nic, PidState};
use makara_supervisor::{saved_summary, SavedSummary};

use super::Console;

/// Everything `status` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub version: String,
    pub hostname: String,
    /// The board profile: `name: description`.
    pub board: Result<String, String>,
    pub uptime: Result<String, String>,
    pub nics: Result<Vec<Nic>, String>,
    pub data_dir: PathBuf,
    pub mount: Result<Option<Mount>, String>,
    pub api: Result<ApiSummary, String>,
    pub serve: Result<PidState, String>,
    pub saved: Result<SavedSummary, String>,
    /// The streams as the running `makarad serve` has them (state, output
    /// bitrate, input), through its control socket.
    pub live: Result<Vec<String>, String>,
}

/// The API switch and the number of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSummary {
    pub enabled: bool,
    pub keys: usize,
}

impl From<&AccessState> for ApiSummary {
    fn from(state: &AccessState) -> ApiSummary {
        ApiSummary {
            enabled: state.enabled,
            keys: state.keys.len(),
        }
    }
}

impl std::fmt::Display for ApiSummary {
    /// `enabled, 1 key`, `disabled, 0 keys`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let switch = if self.enabled { "enabled" } else { "disabled" };
        write!(f, "{switch}, {}", plural(self.keys, "key"))
    }
}

/// The API summary of the data directory.
pub fn api(console: &Console) -> Result<ApiSummary, String> {
    let state = AccessStore::open(&console.data_dir).load();
    state
        .map(|s| ApiSummary::from(&s))
        .map_err(|e| e.to_string())
}

pub fn gather(console: &Console) -> Report {
    Report {
        version: makara_board::firmware_version().to_owned(),
        hostname: makara_board::hostname(),
        board: makara_board::choose(console.board.as_deref(), std::path::Path::new("/"))
            .map(|chosen| crate::board::describe(&chosen))
            .map_err(|e| e.to_string()),
        uptime: makara_board::uptime()
            .map(format_uptime)
            .map_err(|e| e.to_string()),
        nics: makara_board::list_nics().map_err(|e| e.to_string()),
        data_dir: console.data_dir.clone(),
        mount: makara_board::mount_of(&console.data_dir).map_err(|e| e.to_string()),
        api: api(console),
        serve: makara_board::pid_file_state(&console.serve_pid_file, &console.proc_root, SERVER)
            .map_err(|e| e.to_string()),
        saved: saved_summary(&console.data_dir).map_err(|e| e.to_string()),
        live: crate::control::request(&console.control_socket, "stream list")
            .map_err(|e| e.to_string()),
    }
}

/// The program `--serve-pid-file` should name.
const SERVER: &str = "makarad";

/// Labels are padded to this width, so values line up.
const LABEL: usize = 10;

pub fn render(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let mut row = |label: &str, value: &str| {
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("{label}:")
        };
        writeln!(out, "{label:LABEL$}{value}")
    };
    row("version", &format!("makarad {}", report.version))?;
    row("hostname", &report.hostname)?;
    row("board", &shown(&report.board))?;
    row("uptime", &shown(&report.uptime))?;
    let nics = network_lines(&report.nics);
    for (i, line) in nics.iter().enumerate() {
        row(if i == 0 { "network" } else { "" }, line)?;
    }
    row("data", &data_line(report))?;
    row("api", &shown(&report.api))?;
    row("serve", &serve_line(&report.serve))?;
    let streams = stream_lines(&report.saved);
    for (i, line) in streams.iter().enumerate() {
        row(if i == 0 { "streams" } else { "" }, line)?;
    }
    row("presets", &presets_line(&report.saved))?;
    let live = match &report.live {
        Ok(lines) => lines.clone(),
        Err(e) => vec![format!("unknown ({e})")],
    };
    for (i, line) in live.iter().enumerate() {
        row(if i == 0 { "running" } else { "" }, line)?;
    }
    Ok(())
}

fn shown<T: ToString>(fact: &Result<T, String>) -> String {
    match fact {
        Ok(value) => value.to_string(),
        Err(e) => format!("unknown ({e})"),
    }
}

/// `eth0: up, 10.0.2.15/24`, one line per interface.
fn network_lines(nics: &Result<Vec<Nic>, String>) -> Vec<String> {
    let nics = match nics {
        Ok(nics) if nics.is_empty() => return vec!["no interfaces".into()],
        Ok(nics) => nics,
        Err(e) => return vec![format!("unknown ({e})")],
    };
    nics.iter()
        .map(|nic| {
            let link = if nic.up { "up" } else { "down" };
            let loopback = if nic.loopback { " (loopback)" } else { "" };
            let addresses = if nic.ipv4.is_empty() {
                "no IPv4 address".to_owned()
            } else {
                nic.ipv4.join(" ")
            };
            format!("{}: {link}{loopback}, {addresses}", nic.name)
        })
        .collect()
}

/// `3d 4h 05m 06s`, `2h 03m 10s`, `4m 05s`.
fn format_uptime(uptime: Duration) -> String {
    let seconds = uptime.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (hours, minutes, secs) = (rest / 3600, rest % 3600 / 60, rest % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m {secs:02}s"),
        (0, _) => format!("{hours}h {minutes:02}m {secs:02}s"),
        _ => format!("{days}d {hours}h {minutes:02}m {secs:02}s"),
    }
}

fn serve_line(serve: &Result<PidState, String>) -> String {
    match serve {
        Ok(PidState::Running(pid)) => format!("running (pid {pid})"),
        Ok(PidState::Exited(pid)) => format!("not running (pid {pid} has exited)"),
        Err(e) => format!("unknown ({e})"),
    }
}

/// `/data/makara on /data (ext4): persistent`.
fn data_line(report: &Report) -> String {
    let dir = report.data_dir.display();
    match &report.mount {
        Ok(Some(mount)) => {
            let verdict = if mount.persistent() {
                "persistent"
            } else {
                "not persistent: settings will not survive a reboot"
            };
            let point = mount.mount_point.display();
            format!("{dir} on {point} ({}): {verdict}", mount.fstype)
        }
        Ok(None) => format!("{dir}: persistence unknown (no mount holds it)"),
        Err(e) => format!("{dir}: persistence unknown ({e})"),
    }
}

/// A count line, then one line per stream: `Demo: started (auto start)`.
fn stream_lines(saved: &Result<SavedSummary, String>) -> Vec<String> {
    let saved = match saved {
        Ok(saved) => saved,
        Err(e) => return vec![format!("unknown ({e})")],
    };
    let mut lines = vec![format!(
        "{} ({}, {}, {})",
        saved.streams.len(),
        plural(saved.inputs, "input"),
        plural(saved.outputs, "output"),
        plural(saved.transcoders, "transcoder"),
    )];
    for stream in &saved.streams {
        let state = if stream.started { "started" } else { "stopped" };
        let auto = if stream.auto_start {
            " (auto start)"
        } else {
            ""
        };
        lines.push(format!("{}: {state}{auto}", stream.name));
    }
    lines
}

/// `Morning (default: loaded at boot), Evening`, or `none`.
fn presets_line(saved: &Result<SavedSummary, String>) -> String {
    let presets = match saved {
        Ok(saved) if saved.presets.is_empty() => return "none".into(),
        Ok(saved) => &saved.presets,
        Err(e) => return format!("unknown ({e})"),
    };
    let names: Vec<String> = presets
        .iter()
        .map(|p| match p.is_default {
            true => format!("{} (default: loaded at boot)", p.name),
            false => p.name.clone(),
        })
        .collect();
    names.join(", ")
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use makara_supervisor::{SavedPreset, SavedStream};

    fn nic(name: &str, up: bool, loopback: bool, ipv4: &[&str]) -> Nic {
        Nic {
            name: name.into(),
            mac: None,
            mtu: Some(1500),
            up,
            loopback,
            speed_mbps: None,
            ipv4: ipv4.iter().map(|a| a.to_string()).collect(),
            ipv6: Vec::new(),
        }
    }

    fn report() -> Report {
        Report {
            version: "1.2.3".into(),
            hostname: "makara".into(),
            board: Ok("qemu-x86_64: QEMU q35 virtual machine, x86_64 (scripts/qemu)".into()),
            uptime: Ok("2h 03m 10s".into()),
            nics: Ok(vec![
                nic("eth0", true, false, &["10.0.2.15/24"]),
                nic("eth1", false, false, &[]),
                nic("lo", true, true, &["127.0.0.1/8"]),
            ]),
            data_dir: "/data/makara".into(),
            mount: Ok(Some(Mount {
                mount_point: "/data".into(),
                fstype: "ext4".into(),
            })),
            api: Ok(ApiSummary {
                enabled: true,
                keys: 1,
            }),
            serve: Ok(PidState::Running(321)),
            saved: Ok(SavedSummary {
                streams: vec![
                    SavedStream {
                        name: "Demo".into(),
                        started: true,
                        auto_start: true,
                    },
                    SavedStream {
                        name: "Spare".into(),
                        started: false,
                        auto_start: false,
                    },
                ],
                inputs: 1,
                outputs: 2,
                transcoders: 1,
                presets: vec![
                    SavedPreset {
                        name: "Morning".into(),
                        is_default: true,
                    },
                    SavedPreset {
                        name: "Evening".into(),
                        is_default: false,
                    },
                ],
            }),
            live: Ok(vec![
                "Demo: active, 2480 kbit/s, input receiving".into(),
                "Spare: stopped".into(),
            ]),
        }
    }

    fn rendered(report: &Report) -> String {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_healthy_appliance() {
        assert_eq!(
            rendered(&report()),
            "\
version:  makarad 1.2.3
hostname: makara
board:    qemu-x86_64: QEMU q35 virtual machine, x86_64 (scripts/qemu)
uptime:   2h 03m 10s
network:  eth0: up, 10.0.2.15/24
          eth1: down, no IPv4 address
          lo: up (loopback), 127.0.0.1/8
data:     /data/makara on /data (ext4): persistent
api:      enabled, 1 key
serve:    running (pid 321)
streams:  2 (1 input, 2 outputs, 1 transcoder)
          Demo: started (auto start)
          Spare: stopped
presets:  Morning (default: loaded at boot), Evening
running:  Demo: active, 2480 kbit/s, input receiving
          Spare: stopped
"
        );
    }

    #[test]
    fn what_cannot_be_read_shows_as_unknown() {
        let report = Report {
            board: Err("no board profile is named 'rpi5' (known: qemu-x86_64)".into()),
            uptime: Err("no /proc".into()),
            nics: Err("no /sys".into()),
            mount: Ok(Some(Mount {
                mount_point: "/".into(),
                fstype: "tmpfs".into(),
            })),
            api: Err("the access document is not valid".into()),
            serve: Err("no pid file /run/makara/makarad.pid".into()),
            saved: Err("the configuration is not UTF-8".into()),
            live: Err("makarad serve does not answer".into()),
            ..report()
        };
        let text = rendered(&report);
        for line in [
            "board:    unknown (no board profile is named 'rpi5' (known: qemu-x86_64))",
            "uptime:   unknown (no /proc)",
            "network:  unknown (no /sys)",
            "data:     /data/makara on / (tmpfs): not persistent: settings will not survive a reboot",
            "api:      unknown (the access document is not valid)",
            "serve:    unknown (no pid file /run/makara/makarad.pid)",
            "streams:  unknown (the configuration is not UTF-8)",
            "presets:  unknown (the configuration is not UTF-8)",
            "running:  unknown (makarad serve does not answer)",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line:?} not in\n{text}");
        }
    }

    #[test]
    fn no_interfaces_and_no_streams() {
        let report = Report {
            nics: Ok(Vec::new()),
            api: Ok(ApiSummary {
                enabled: false,
                keys: 0,
            }),
            saved: Ok(SavedSummary::default()),
            live: Ok(vec!["no streams".into()]),
            ..report()
        };
        let text = rendered(&report);
        assert!(text.contains("network:  no interfaces\n"), "{text}");
        assert!(text.contains("api:      disabled, 0 keys\n"), "{text}");
        assert!(
            text.ends_with(
                "streams:  0 (0 inputs, 0 outputs, 0 transcoders)\npresets:  none\n\
                 running:  no streams\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn uptime_reads_like_a_duration() {
        let secs = |s| format_uptime(Duration::from_secs(s));
        assert_eq!(secs(0), "0m 00s");
        assert_eq!(secs(65), "1m 05s");
        assert_eq!(secs(3 * 3600 + 7), "3h 00m 07s");
        assert_eq!(secs(2 * 86_400 + 3600 + 60 + 1), "2d 1h 01m 01s");
    }

    #[test]
    fn serve_states_read_well() {
        assert_eq!(serve_line(&Ok(PidState::Running(7))), "running (pid 7)");
        assert_eq!(
            serve_line(&Ok(PidState::Exited(7))),
            "not running (pid 7 has exited)"
        );
    }
}
