//! The server id the Kraken API reports: stable across reboots, derived
//! from hardware where possible.

use std::fs;
use std::path::Path;

use crate::nic::{read_links, Nic, SYS_CLASS_NET};

/// Used when neither a MAC address nor a machine id is available.
const FALLBACK_ID: &str = "000000000000";

/// Returns the server id: 12 lowercase hex characters.
///
/// In order of preference:
/// 1. the MAC address (without colons) of the first non-loopback NIC, by
///    name, that is backed by a device (has a `device` link in sysfs) and
///    has a non-zero 6-byte MAC;
/// 2. the same among all non-loopback NICs;
/// 3. the first 12 characters of `/etc/machine-id`;
/// 4. `000000000000`.
///
/// Step 1 exists because virtual interfaces (`docker0`, `br0`, `ifb0`)
/// often have random MACs, are created at boot and may sort before `eth0`:
/// using one would change the id on every boot.
pub fn server_id() -> String {
    server_id_in(Path::new(SYS_CLASS_NET), Path::new("/etc/machine-id"))
}

pub(crate) fn server_id_in(sys_class_net: &Path, machine_id: &Path) -> String {
    let nics = read_links(sys_class_net).unwrap_or_default();
    let candidates: Vec<(&Nic, String)> = nics
        .iter()
        .filter(|nic| !nic.loopback)
        .filter_map(|nic| Some((nic, mac_id(nic.mac.as_deref()?)?)))
        .collect();
    let has_device = |nic: &Nic| sys_class_net.join(&nic.name).join("device").exists();
    let from_mac = candidates
        .iter()
        .find(|(nic, _)| has_device(nic))
        .or_else(|| candidates.first())
        .map(|(_, id)| id.clone());
    from_mac
        .or_else(|| machine_id_prefix(&fs::read_to_string(machine_id).ok()?))
        .unwrap_or_else(|| FALLBACK_ID.to_owned())
}

/// `aa:bb:cc:dd:ee:ff` to `aabbccddeeff`, if it is a 6-byte, non-zero MAC.
fn mac_id(mac: &str) -> Option<String> {
    let hex: String = mac.split(':').collect::<String>().to_ascii_lowercase();
    let valid = hex.len() == 12
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && hex.bytes().any(|b| b != b'0');
    valid.then_some(hex)
}

/// The first 12 characters of a machine id, if they are hex (systemd
/// writes `uninitialized` during first boot).
fn machine_id_prefix(contents: &str) -> Option<String> {
    let prefix = contents.trim().get(..12)?;
    prefix
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| prefix.to_ascii_lowercase())
}
