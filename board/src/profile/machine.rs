//! What the running machine says about itself: its architecture, its DMI
//! strings (PCs, QEMU's x86 machines) and its device tree's `compatible`
//! list (ARM boards, QEMU's virt machine).

use std::fs;
use std::path::Path;

/// Where, under the root, DMI strings are.
const DMI: &str = "sys/class/dmi/id";
/// Where, under the root, the device tree's root `compatible` is: the
/// `/proc` link first, then the directory it points to.
const DT_COMPATIBLE: [&str; 2] = [
    "proc/device-tree/compatible",
    "sys/firmware/devicetree/base/compatible",
];

/// The facts profiles are recognised by. Anything unreadable is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    /// The architecture, as `std::env::consts::ARCH` names it.
    pub arch: String,
    /// DMI `sys_vendor` (`QEMU`), trimmed.
    pub dmi_sys_vendor: Option<String>,
    /// DMI `product_name` (`Standard PC (Q35 + ICH9, 2009)`), trimmed.
    pub dmi_product_name: Option<String>,
    /// The device tree's root `compatible` strings, most specific first
    /// (`raspberrypi,5-model-b`, `brcm,bcm2712`).
    pub dt_compatible: Vec<String>,
}

impl Machine {
    /// The machine this runs on.
    pub fn this() -> Machine {
        Machine::read(Path::new("/"), std::env::consts::ARCH)
    }

    /// The facts under `root` (`/` on the appliance; a fixture tree in
    /// tests), for a machine of architecture `arch`.
    pub fn read(root: &Path, arch: &str) -> Machine {
        let dmi = |name: &str| {
            fs::read_to_string(root.join(DMI).join(name))
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let dt_compatible = DT_COMPATIBLE
            .iter()
            .find_map(|path| fs::read(root.join(path)).ok())
            .map(|bytes| split_nul(&bytes))
            .unwrap_or_default();
        Machine {
            arch: arch.to_owned(),
            dmi_sys_vendor: dmi("sys_vendor"),
            dmi_product_name: dmi("product_name"),
            dt_compatible,
        }
    }
}

/// A device-tree string list: NUL-terminated strings, one after another.
/// Empty and non-UTF-8 entries are dropped.
fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|s| std::str::from_utf8(s).ok())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_nul;

    #[test]
    fn device_tree_strings_split_on_nul() {
        assert_eq!(
            split_nul(b"raspberrypi,5-model-b\0brcm,bcm2712\0"),
            ["raspberrypi,5-model-b", "brcm,bcm2712"]
        );
        assert_eq!(split_nul(b"linux,dummy-virt"), ["linux,dummy-virt"]);
        assert!(split_nul(b"\0").is_empty());
    }
}
