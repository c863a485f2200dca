//! Which file system holds a path, from `/proc/mounts`, and whether what
//! is written there survives a reboot.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

const PROC_MOUNTS: &str = "/proc/mounts";

/// File systems that live in RAM: nothing on them survives a reboot.
/// `rootfs` is the initramfs the appliance boots from.
const VOLATILE_FILESYSTEMS: &[&str] = &["tmpfs", "ramfs", "rootfs"];

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

#[derive(Debug, Error)]
#[error("cannot read {PROC_MOUNTS}: {0}")]
pub struct MountError(#[source] io::Error);

/// The mount holding `path`. A path that does not exist yet (a data
/// directory before its first write) is looked up by its nearest existing
/// parent, which is where it will be created.
pub fn mount_of(path: &Path) -> Result<Option<Mount>, MountError> {
    let mounts = fs::read_to_string(PROC_MOUNTS).map_err(MountError)?;
    Ok(find_mount(&mounts, &nearest_existing(path)))
}

/// `path` with links resolved, or its nearest existing ancestor's when it
/// does not exist yet.
fn nearest_existing(path: &Path) -> PathBuf {
    path.ancestors()
        .find_map(|p| fs::canonicalize(p).ok())
        .unwrap_or_else(|| path.to_path_buf())
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Not against the live `/proc/mounts`: in a chroot (the fresh-machine
    /// test) it names the host's mount points, and `/` may be missing.
    #[test]
    fn a_path_not_made_yet_is_found_by_its_parent() {
        let dir = makara_test_support::TestDir::new("mounts");
        let parent = fs::canonicalize(dir.path()).unwrap();
        assert_eq!(nearest_existing(&dir.join("no/such/dir/yet")), parent);
        assert_eq!(nearest_existing(dir.path()), parent);
    }
}
