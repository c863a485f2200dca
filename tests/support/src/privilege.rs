//! Whether the tests run as root: those that build a network or mount
//! namespace need it, and say so when it is missing.

/// True when this process's effective user id is 0, read from
/// `/proc/self/status` (no libc call, so no `unsafe`).
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().nth(1))
        == Some("0")
}
