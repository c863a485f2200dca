//! Facts for `status` that `makara-board` does not keep: uptime, where the
//! data directory is mounted, and whether `makarad serve` runs. Parsing is
//! separate from reading, so the parsers are tested on fixed text.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// File systems that live in RAM: nothing on them survives a reboot.
/// `rootfs` is the initramfs the appliance boots from.
const VOLATILE_FILESYSTEMS: &[&str] = &["tmpfs", "ramfs", "rootfs"];

/// The uptime from `/proc/uptime`, as `3d 4h 05m 06s`.
pub fn uptime() -> Result<String, io::Error> {
    let text = fs::read_to_string("/proc/uptime")?;
    parse_uptime(&text)
        .map(format_uptime)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc/uptime"))
}

/// Whole seconds from the first field of `/proc/uptime` ("12345.67 …").
fn parse_uptime(text: &str) -> Option<u64> {
    let first = text.split_whitespace().next()?;
    let whole = first.split('.').next()?;
    whole.parse().ok()
}

fn format_uptime(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (hours, minutes, secs) = (rest / 3600, rest % 3600 / 60, rest % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m {secs:02}s"),
        (0, _) => format!("{hours}h {minutes:02}m {secs:02}s"),
        _ => format!("{days}d {hours}h {minutes:02}m {secs:02}s"),
    }
}

/// The file system a path lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: PathBuf,
    pub fstype: String,
}

impl Mount {
    /// Whether files on it survive a reboot.
    pub fn persistent(&self) -> bool {
        !VOLATILE_FILESYSTEMS.contains(&self.fstype.as_str())
    }
}

/// The mount holding `path`, from `/proc/mounts`. A data directory that
/// does not exist yet is looked up by its nearest existing parent, which
/// is where it will be created.
pub fn mount_of(path: &Path) -> Result<Option<Mount>, io::Error> {
    let mounts = fs::read_to_string("/proc/mounts")?;
    let resolved = path
        .ancestors()
        .find_map(|p| fs::canonicalize(p).ok())
        .unwrap_or_else(|| path.to_path_buf());
    Ok(find_mount(&mounts, &resolved))
}

/// The last mount in `mounts` whose mount point contains `path`: later
/// lines are mounted over earlier ones.
fn find_mount(mounts: &str, path: &Path) -> Option<Mount> {
    let mut best: Option<Mount> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_device), Some(point), Some(fstype)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let point = PathBuf::from(unescape(point));
        let deeper_or_later = best
            .as_ref()
            .is_none_or(|b| depth(&point) >= depth(&b.mount_point));
        if path.starts_with(&point) && deeper_or_later {
            best = Some(Mount {
                mount_point: point,
                fstype: fstype.to_owned(),
            });
        }
    }
    best
}

fn depth(path: &Path) -> usize {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

/// `/proc/mounts` writes space, tab, newline and backslash as `\040`,
/// `\011`, `\012` and `\134`.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `makarad serve` runs, as far as its pid file tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Serve {
    Running(u32),
    /// The pid file names a process that is gone or is not makarad.
    Exited(u32),
    /// No pid file, or nothing usable in it.
    Unknown(String),
}

impl fmt::Display for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serve::Running(pid) => write!(f, "running (pid {pid})"),
            Serve::Exited(pid) => write!(f, "not running (pid {pid} has exited)"),
            Serve::Unknown(why) => write!(f, "unknown ({why})"),
        }
    }
}

/// Reads `pid_file` and looks the pid up under `proc_root` (`/proc`).
pub fn serve_state(pid_file: &Path, proc_root: &Path) -> Serve {
    let text = match fs::read_to_string(pid_file) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Serve::Unknown(format!("no pid file {}", pid_file.display()))
        }
        Err(e) => return Serve::Unknown(format!("cannot read {}: {e}", pid_file.display())),
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return Serve::Unknown(format!("{} holds no pid", pid_file.display()));
    };
    let process = proc_root.join(pid.to_string());
    if !process.is_dir() {
        return Serve::Exited(pid);
    }
    // A pid is reused once its process is gone; if the command line is
    // readable it must be makarad's.
    match fs::read(process.join("cmdline")) {
        Ok(cmdline) if !is_makarad(&cmdline) => Serve::Exited(pid),
        _ => Serve::Running(pid),
    }
}

/// Whether argv[0] (NUL-terminated in `/proc/PID/cmdline`) names makarad.
fn is_makarad(cmdline: &[u8]) -> bool {
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let name = argv0.rsplit(|b| *b == b'/').next().unwrap_or_default();
    name.starts_with(b"makarad")
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    #[test]
    fn uptime_is_whole_seconds_of_the_first_field() {
        assert_eq!(parse_uptime("350735.47 234388.90\n"), Some(350_735));
        assert_eq!(parse_uptime("12 7"), Some(12));
        assert_eq!(parse_uptime(""), None);
        assert_eq!(parse_uptime("x.5 1"), None);
    }

    #[test]
    fn uptime_reads_like_a_duration() {
        assert_eq!(format_uptime(0), "0m 00s");
        assert_eq!(format_uptime(65), "1m 05s");
        assert_eq!(format_uptime(3 * 3600 + 7), "3h 00m 07s");
        assert_eq!(format_uptime(2 * 86_400 + 3600 + 60 + 1), "2d 1h 01m 01s");
    }

    const MOUNTS: &str = "\
rootfs / rootfs rw 0 0
proc /proc proc rw,nosuid,nodev,noexec 0 0
tmpfs /run tmpfs rw,nosuid,nodev,mode=755 0 0
/dev/vda /data ext4 rw,noatime 0 0
/dev/vdb /data/my\\040disk vfat rw 0 0
";

    fn mount(point: &str, fstype: &str) -> Option<Mount> {
        Some(Mount {
            mount_point: point.into(),
            fstype: fstype.into(),
        })
    }

    #[test]
    fn the_deepest_mount_point_holding_the_path_wins() {
        let find = |p: &str| find_mount(MOUNTS, Path::new(p));
        assert_eq!(find("/data/makara"), mount("/data", "ext4"));
        assert_eq!(find("/data"), mount("/data", "ext4"));
        assert_eq!(find("/database"), mount("/", "rootfs"));
        assert_eq!(find("/run/makara"), mount("/run", "tmpfs"));
        assert_eq!(find("/data/my disk/x"), mount("/data/my disk", "vfat"));
    }

    #[test]
    fn a_later_mount_on_the_same_point_hides_the_earlier_one() {
        let mounts = "/dev/vda /data ext4 rw 0 0\ntmpfs /data tmpfs rw 0 0\n";
        let found = find_mount(mounts, Path::new("/data/makara"));
        assert_eq!(found, mount("/data", "tmpfs"));
    }

    #[test]
    fn ram_file_systems_are_not_persistent() {
        for fstype in ["tmpfs", "ramfs", "rootfs"] {
            assert!(!mount("/", fstype).unwrap().persistent(), "{fstype}");
        }
        for fstype in ["ext4", "vfat", "overlay", "btrfs"] {
            assert!(mount("/", fstype).unwrap().persistent(), "{fstype}");
        }
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape("/a\\040b\\011c\\134d"), "/a b\tc\\d");
        assert_eq!(unescape("/trailing\\"), "/trailing\\");
        assert_eq!(unescape("/bad\\9xy"), "/bad\\9xy");
    }

    #[test]
    fn serve_state_follows_the_pid_file_and_proc() {
        let dir = TestDir::new("console-serve");
        let proc_root = dir.path().join("proc");
        let pid_file = dir.path().join("makarad.pid");
        assert!(
            matches!(serve_state(&pid_file, &proc_root), Serve::Unknown(why) if why.contains("no pid file"))
        );

        fs::write(&pid_file, "garbage\n").unwrap();
        assert!(
            matches!(serve_state(&pid_file, &proc_root), Serve::Unknown(why) if why.contains("holds no pid"))
        );

        fs::write(&pid_file, "42\n").unwrap();
        assert_eq!(serve_state(&pid_file, &proc_root), Serve::Exited(42));

        fs::create_dir_all(proc_root.join("42")).unwrap();
        assert_eq!(serve_state(&pid_file, &proc_root), Serve::Running(42));

        fs::write(proc_root.join("42/cmdline"), b"/usr/bin/makarad\0serve\0").unwrap();
        assert_eq!(serve_state(&pid_file, &proc_root), Serve::Running(42));

        fs::write(proc_root.join("42/cmdline"), b"/bin/sleep\x0060\0").unwrap();
        assert_eq!(serve_state(&pid_file, &proc_root), Serve::Exited(42));
    }

    #[test]
    fn serve_states_read_well() {
        assert_eq!(Serve::Running(7).to_string(), "running (pid 7)");
        assert_eq!(
            Serve::Exited(7).to_string(),
            "not running (pid 7 has exited)"
        );
    }
}
