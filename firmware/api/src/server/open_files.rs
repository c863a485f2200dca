//! How many connections fit in the process's open-file limit.
//!
//! Every held connection is one descriptor. makarad keeps
//! [`super::MAX_CONNECTIONS`] within the kernel's default soft limit of
//! 1024 with room to spare, so it does not raise the limit; if it runs
//! under a lower one, it holds fewer connections rather than failing to
//! accept (or to open a store file) when they are all taken.

use std::fs;

/// Descriptors left for everything but API connections: the listener, the
/// store's files, capture devices, output sockets, the runtime's own.
pub const RESERVED: usize = 128;
/// Below this many connections the API stops being useful; a limit that
/// leaves fewer is used anyway and logged.
const FLOOR: usize = 16;

/// The connection bound for this process: `wanted`, or fewer if the soft
/// open-file limit (read from `/proc/self/limits`) leaves less room.
pub fn connection_bound(wanted: usize) -> usize {
    let soft = fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| soft_open_files(&text));
    let bound = bound_for(wanted, soft);
    if bound < wanted {
        tracing::warn!(
            open_files = soft,
            connections = bound,
            "the open-file limit leaves room for fewer API connections than {wanted}"
        );
    }
    bound
}

/// `wanted`, or what `soft` open files leave after [`RESERVED`]; `None`
/// (unlimited or unknown) leaves `wanted`.
fn bound_for(wanted: usize, soft: Option<u64>) -> usize {
    let Some(soft) = soft else {
        return wanted;
    };
    let room = usize::try_from(soft)
        .unwrap_or(usize::MAX)
        .saturating_sub(RESERVED);
    wanted.min(room.max(FLOOR))
}

/// The soft limit of the "Max open files" line of `/proc/<pid>/limits`.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 4096                 files
Max locked memory         8388608              8388608              bytes
";

    #[test]
    fn reads_the_soft_limit() {
        assert_eq!(soft_open_files(LIMITS), Some(1024));
        let unlimited = LIMITS.replace("1024   ", "unlimited");
        assert_eq!(soft_open_files(&unlimited), None);
        assert_eq!(soft_open_files("nothing here"), None);
    }

    #[test]
    fn the_bound_leaves_room_for_other_files() {
        assert_eq!(bound_for(512, Some(1024)), 512);
        assert_eq!(bound_for(512, Some(256)), 256 - RESERVED);
        assert_eq!(bound_for(512, Some(20)), FLOOR);
        assert_eq!(bound_for(512, None), 512);
    }

    #[test]
    fn this_process_has_a_readable_limit() {
        let text = fs::read_to_string("/proc/self/limits").unwrap();
        assert!(soft_open_files(&text).is_some_and(|n| n > 0));
    }
}
