//! Network interfaces: link facts from `/sys/class/net`, addresses from
//! `/proc/net` (see [`crate::ipv4`] for why IPv4 takes two tables).

use std::fs;
use std::io;
use std::path::Path;

use crate::error::BoardError;
use crate::ipv4::ipv4_by_nic;
use crate::ipv6::ipv6_by_nic;

/// Where the kernel lists network interfaces.
pub(crate) const SYS_CLASS_NET: &str = "/sys/class/net";
/// Where the kernel's per-namespace network tables live.
const PROC_NET: &str = "/proc/net";

/// `IFF_LOOPBACK` in `/sys/class/net/*/flags`.
const IFF_LOOPBACK: u32 = 0x8;
/// `ARPHRD_LOOPBACK` in `/sys/class/net/*/type`.
const ARPHRD_LOOPBACK: u32 = 772;

/// One network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    /// Interface name (`eth0`).
    pub name: String,
    /// Hardware address, lowercase `aa:bb:cc:dd:ee:ff`; `None` for
    /// interfaces without one (tun, some tunnels). Loopback reports zeros.
    pub mac: Option<String>,
    /// MTU in bytes.
    pub mtu: Option<u32>,
    /// Whether the link is usable: operstate `up`, or `unknown` with
    /// carrier, which is how loopback and drivers without operstate
    /// support (tun, dummy) present a working link.
    pub up: bool,
    /// Whether this is a loopback interface.
    pub loopback: bool,
    /// Negotiated link speed; `None` when down or not applicable.
    pub speed_mbps: Option<u32>,
    /// IPv4 addresses as `a.b.c.d/prefix`, sorted.
    pub ipv4: Vec<String>,
    /// IPv6 addresses as `addr/prefix`, sorted.
    pub ipv6: Vec<String>,
}

/// Lists the machine's network interfaces, sorted by name.
///
/// # Errors
///
/// [`BoardError`] if `/sys/class/net` or a `/proc/net` table exists but
/// cannot be read. Missing ones read as empty.
pub fn list_nics() -> Result<Vec<Nic>, BoardError> {
    list_nics_in(Path::new(SYS_CLASS_NET), Path::new(PROC_NET))
}

/// [`list_nics`] reading from other directories than `/sys/class/net` and
/// `/proc/net` (fixture trees in tests, another root in tools).
///
/// # Errors
///
/// As [`list_nics`].
pub fn list_nics_in(sys_class_net: &Path, proc_net: &Path) -> Result<Vec<Nic>, BoardError> {
    let mut nics = read_links(sys_class_net)?;
    let if_inet6 = read_optional(&proc_net.join("if_inet6"))?;
    let fib_trie = read_optional(&proc_net.join("fib_trie"))?;
    let route = read_optional(&proc_net.join("route"))?;

    let loopback = nics.iter().find(|n| n.loopback).map(|n| n.name.clone());
    let little_endian = cfg!(target_endian = "little");
    let mut ipv4 = ipv4_by_nic(&fib_trie, &route, loopback.as_deref(), little_endian);
    let mut ipv6 = ipv6_by_nic(&if_inet6);
    for nic in &mut nics {
        nic.ipv4 = ipv4.remove(&nic.name).unwrap_or_default();
        nic.ipv6 = ipv6.remove(&nic.name).unwrap_or_default();
    }
    Ok(nics)
}

/// Reads the link-level facts of every interface under `sys_class_net`,
/// sorted by name, with empty address lists.
pub(crate) fn read_links(sys_class_net: &Path) -> Result<Vec<Nic>, BoardError> {
    let read_dir_error = |source| BoardError::ReadDir {
        path: sys_class_net.to_owned(),
        source,
    };
    let entries = match fs::read_dir(sys_class_net) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_dir_error(e)),
    };
    let mut nics = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_dir_error)?;
        // Interfaces are symlinks to directories; plain files such as
        // `bonding_masters` live alongside them. A NIC vanishing between
        // listing and reading also lands here.
        if !fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        // Names that are not UTF-8 are legal but unheard of, and could not
        // be matched against the /proc tables anyway.
        if let Ok(name) = entry.file_name().into_string() {
            nics.push(read_link(&entry.path(), name));
        }
    }
    nics.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nics)
}

/// Reads one interface directory. Every attribute is optional: sysfs
/// answers EINVAL for those a driver or state does not support (`speed` on
/// virtual NICs, `carrier` when admin down).
fn read_link(dir: &Path, name: String) -> Nic {
    let attr = |file: &str| {
        fs::read_to_string(dir.join(file))
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let number = |file: &str| attr(file).and_then(|s| s.parse::<u32>().ok());
    let flags = attr("flags")
        .and_then(|s| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    let operstate = attr("operstate").unwrap_or_default();
    let carrier = attr("carrier").is_some_and(|c| c == "1");
    Nic {
        mac: attr("address").and_then(|a| parse_mac(&a)),
        mtu: number("mtu"),
        up: operstate == "up" || (operstate == "unknown" && carrier),
        loopback: flags & IFF_LOOPBACK != 0 || number("type") == Some(ARPHRD_LOOPBACK),
        // -1 (SPEED_UNKNOWN) when there is no link.
        speed_mbps: attr("speed")
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|s| u32::try_from(s).ok())
            .filter(|s| *s > 0 && *s != u32::MAX),
        ipv4: Vec::new(),
        ipv6: Vec::new(),
        name,
    }
}

/// Accepts a colon-separated hex hardware address, any length (InfiniBand
/// has 20 bytes), normalised to lowercase.
fn parse_mac(raw: &str) -> Option<String> {
    let valid = !raw.is_empty()
        && raw
            .split(':')
            .all(|octet| octet.len() == 2 && octet.bytes().all(|b| b.is_ascii_hexdigit()));
    valid.then(|| raw.to_ascii_lowercase())
}

/// Reads a whole file; a missing one reads as empty, since an initramfs
/// may not provide every table.
fn read_optional(path: &Path) -> Result<String, BoardError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(BoardError::ReadFile {
            path: path.to_owned(),
            source,
        }),
    }
}
