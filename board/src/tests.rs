//! Tests of the public API against fixture trees.

use std::os::unix::fs::symlink;

use makara_test_support::TestDir;

use crate::server_id::server_id_in;
use crate::test_tree::{fixture, nic};
use crate::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn lists_this_vms_nics() {
    let nics = list_nics_in(&fixture("vm/sys_class_net"), &fixture("vm/proc_net"));
    let expected = vec![
        Nic {
            name: "eth0".to_owned(),
            mac: Some("02:fc:00:00:00:01".to_owned()),
            mtu: Some(1400),
            up: true,
            loopback: false,
            speed_mbps: None, // virtio reports -1
            ipv4: strings(&["192.0.2.2/24"]),
            ipv6: strings(&["fd00::2/64", "fe80::fc:ff:fe00:1/64"]),
        },
        Nic {
            name: "ifb0".to_owned(),
            mac: Some("9a:ed:af:1a:ab:16".to_owned()),
            mtu: Some(1500),
            up: false,
            loopback: false,
            speed_mbps: None,
            ipv4: vec![],
            ipv6: vec![],
        },
        Nic {
            name: "ifb1".to_owned(),
            mac: Some("f6:ec:a2:cc:47:8a".to_owned()),
            mtu: Some(1500),
            up: false,
            loopback: false,
            speed_mbps: None,
            ipv4: vec![],
            ipv6: vec![],
        },
        Nic {
            name: "lo".to_owned(),
            mac: Some("00:00:00:00:00:00".to_owned()),
            mtu: Some(65536),
            up: true,
            loopback: true,
            speed_mbps: None,
            ipv4: strings(&["127.0.0.1/8"]),
            ipv6: strings(&["::1/128"]),
        },
    ];
    assert_eq!(nics.ok(), Some(expected));
}

#[test]
fn lists_the_netns_scenario() {
    // See testdata/capture.sh for the namespace's setup.
    let nics = list_nics_in(&fixture("netns/sys_class_net"), &fixture("netns/proc_net"))
        .unwrap_or_default();
    let names: Vec<&str> = nics.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["br0", "ifb9", "lo", "tap0", "veth0", "veth1"]);
    let nic = |name: &str| nics.iter().find(|n| n.name == name).cloned();

    let veth0 = nic("veth0").unwrap_or_else(|| panic!("no veth0"));
    assert!(veth0.up);
    assert_eq!(veth0.speed_mbps, Some(10000));
    assert_eq!(veth0.ipv4, strings(&["192.168.1.50/24", "192.168.1.51/24"]));
    assert_eq!(
        veth0.ipv6.first().map(String::as_str),
        Some("2001:db8:1::50/64")
    );

    let tap0 = nic("tap0").unwrap_or_else(|| panic!("no tap0"));
    assert!(!tap0.up, "admin down");
    assert!(tap0.ipv4.is_empty() && tap0.ipv6.is_empty());

    // ifb has no operstate support: "unknown" with carrier counts as up.
    assert!(nic("ifb9").is_some_and(|n| n.up));
    assert_eq!(
        nic("br0").map(|n| n.ipv4),
        Some(strings(&["172.17.0.1/16"]))
    );
    assert_eq!(nic("lo").map(|n| n.loopback), Some(true));
}

#[test]
fn missing_directories_mean_no_nics() {
    let tree = TestDir::new("board");
    let nics = list_nics_in(&tree.join("no-sys"), &tree.join("no-proc"));
    assert_eq!(nics.ok(), Some(vec![]));
}

#[test]
fn missing_proc_tables_mean_no_addresses() {
    let nics = list_nics_in(&fixture("vm/sys_class_net"), &fixture("absent")).unwrap_or_default();
    assert_eq!(nics.len(), 4);
    assert!(nics.iter().all(|n| n.ipv4.is_empty() && n.ipv6.is_empty()));
}

#[test]
fn unreadable_inputs_are_errors() {
    let tree = TestDir::new("board");
    let not_a_dir = tree.write("sys-file", "");
    assert!(matches!(
        list_nics_in(&not_a_dir, &tree.join("proc")),
        Err(BoardError::ReadDir { .. })
    ));
    // A directory where a table should be: exists, but cannot be read.
    std::fs::create_dir_all(tree.join("proc/route")).expect("mkdir");
    let err = list_nics_in(&tree.join("sys"), &tree.join("proc"));
    assert!(
        matches!(&err, Err(BoardError::ReadFile { path, .. }) if path.ends_with("route")),
        "{err:?}"
    );
    if let Err(e) = err {
        assert!(e.to_string().contains("proc/route"), "{e}");
    }
}

#[test]
fn follows_symlinks_and_skips_files_and_dangling_links() {
    let tree = TestDir::new("board");
    tree.write("devices/virtual/net/dummy0/mtu", "1500\n");
    std::fs::create_dir_all(tree.join("sys")).expect("mkdir");
    symlink(
        tree.join("devices/virtual/net/dummy0"),
        tree.join("sys/dummy0"),
    )
    .expect("symlink");
    symlink(tree.join("devices/gone"), tree.join("sys/gone0")).expect("symlink");
    tree.write("sys/bonding_masters", "bond0\n");
    let nics = list_nics_in(&tree.join("sys"), &tree.join("proc")).unwrap_or_default();
    assert_eq!(nics.len(), 1);
    assert_eq!(
        nics.first().map(|n| (n.name.as_str(), n.mtu)),
        Some(("dummy0", Some(1500)))
    );
}

#[test]
fn odd_attribute_values() {
    let tree = TestDir::new("board");
    nic(
        &tree,
        "ib0",
        &[
            (
                "address",
                "80:00:02:08:FE:80:00:00:00:00:00:00:00:02:C9:03:00:0A:1B:2C",
            ),
            ("mtu", "not a number"),
            ("operstate", "unknown"),
            ("carrier", "0"),
            ("speed", "4294967295"),
            ("type", "32"),
            ("flags", "0x1003"),
        ],
    );
    nic(
        &tree,
        "tun0",
        &[("address", ""), ("operstate", "unknown"), ("carrier", "1")],
    );
    nic(
        &tree,
        "eth9",
        &[
            ("address", "zz:00:00:00:00:00"),
            ("speed", "1000"),
            ("operstate", "up"),
        ],
    );
    let nics = list_nics_in(&tree.join("sys"), &tree.join("proc")).unwrap_or_default();
    let [eth9, ib0, tun0] = nics.as_slice() else {
        panic!("{nics:?}");
    };
    assert_eq!(
        ib0.mac.as_deref(),
        Some("80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:1b:2c")
    );
    assert_eq!((ib0.mtu, ib0.up, ib0.speed_mbps), (None, false, None));
    assert_eq!((tun0.mac.as_deref(), tun0.up), (None, true));
    assert_eq!(
        (eth9.mac.as_deref(), eth9.up, eth9.speed_mbps),
        (None, true, Some(1000))
    );
}

#[test]
fn server_id_of_this_vm_is_eth0s_mac() {
    let tree = TestDir::new("board");
    assert_eq!(
        server_id_in(&fixture("vm/sys_class_net"), &tree.join("no-machine-id")),
        "02fc00000001"
    );
}

#[test]
fn server_id_prefers_nics_backed_by_a_device() {
    let tree = TestDir::new("board");
    nic(&tree, "br0", &[("address", "AA:00:00:00:00:01")]);
    nic(&tree, "eth1", &[("address", "02:00:00:00:00:01")]);
    nic(&tree, "eth1/device", &[]);
    nic(
        &tree,
        "lo",
        &[("address", "00:00:00:00:00:00"), ("flags", "0x9")],
    );
    assert_eq!(
        server_id_in(&tree.join("sys"), &tree.join("x")),
        "020000000001"
    );
    // Without any device-backed NIC, the first virtual one by name.
    std::fs::remove_dir(tree.join("sys/eth1/device")).expect("rmdir");
    assert_eq!(
        server_id_in(&tree.join("sys"), &tree.join("x")),
        "aa0000000001"
    );
}

#[test]
fn server_id_skips_loopback_zero_and_long_macs() {
    let tree = TestDir::new("board");
    nic(&tree, "a0", &[("address", "00:00:00:00:00:00")]);
    nic(
        &tree,
        "b0",
        &[(
            "address",
            "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:1b:2c",
        )],
    );
    nic(
        &tree,
        "c0",
        &[("address", "02:00:00:00:00:07"), ("type", "772")],
    );
    let machine_id = tree.write("machine-id", "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n");
    assert_eq!(server_id_in(&tree.join("sys"), &machine_id), "3d1219c7c4c5");
}

#[test]
fn server_id_fallbacks() {
    let tree = TestDir::new("board");
    let uninitialized = tree.write("machine-id", "uninitialized\n");
    assert_eq!(
        server_id_in(&tree.join("sys"), &uninitialized),
        "000000000000"
    );
    let short = tree.write("short-id", "abc\n");
    assert_eq!(server_id_in(&tree.join("sys"), &short), "000000000000");
    assert_eq!(
        server_id_in(&tree.join("sys"), &tree.join("none")),
        "000000000000"
    );
}

#[test]
fn hostname_is_trimmed_with_a_fallback() {
    let tree = TestDir::new("board");
    assert_eq!(hostname_from(&tree.write("h1", "encoder-7\n")), "encoder-7");
    assert_eq!(hostname_from(&tree.write("h2", " \n")), "localhost");
    assert_eq!(hostname_from(&tree.join("missing")), "localhost");
}

#[test]
fn firmware_version_is_the_package_version() {
    let parts: Vec<&str> = firmware_version().split('.').collect();
    assert_eq!(parts.len(), 3, "{}", firmware_version());
    assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()));
}

#[test]
fn live_system_smoke_test() {
    // Whatever machine runs the tests: the calls succeed and the id is
    // well-formed. (Without /sys, list_nics is Ok and empty.)
    assert!(list_nics().is_ok());
    let id = server_id();
    assert_eq!(id.len(), 12);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert!(!hostname().is_empty());
}
