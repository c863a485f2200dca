//! Multicast inputs, inside a network namespace this test creates (so no
//! datagram reaches a real network): a veth pair, veth0 10.99.0.1/24 and
//! veth1 10.99.1.1/24, the multicast route on veth0. A sender on veth1's
//! address sends to 239.1.1.1:5000 out of veth1; it crosses the pair and
//! arrives on veth0 only.
//!
//! The outer test needs root (`ip netns add`); it runs the inner one, this
//! same test binary, with `tests/support/in-netns`, which also shows the
//! namespace's own /sys/class/net to makara-board (`ip netns exec` would
//! too, but it remounts /, which fails in a chroot such as the
//! fresh-machine test's).

use std::fs;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::Command;

use makara_test_support::is_root;
use socket2::{Domain, Protocol, Socket, Type};

use super::*;

const NAMESPACE_VAR: &str = "MAKARA_INPUT_TEST_NETNS";
const INNER_TEST: &str = "input::tests::multicast::inside_the_namespace";
/// Runs a command in a named network namespace with its own /sys.
const IN_NETNS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/support/in-netns");

/// The namespace, deleted when the test ends however it ends.
struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn run(args: &[&str]) {
    let output = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn multicast_is_joined_on_the_named_interface() {
    assert!(
        is_root(),
        "this test creates a network namespace (ip netns add) to send multicast in, \
         which needs root: run the tests as root (scripts/test in CI does)"
    );
    let ns = Namespace(format!("makara-input-{}", std::process::id()));
    let name = ns.0.as_str();
    run(&["ip", "netns", "add", name]);
    for args in [
        "link add veth0 type veth peer name veth1",
        "addr add 10.99.0.1/24 dev veth0",
        "addr add 10.99.1.1/24 dev veth1",
        "link set lo up",
        "link set veth0 up",
        "link set veth1 up",
        "route add 239.0.0.0/8 dev veth0",
    ] {
        let mut command = vec![IN_NETNS, name, "ip"];
        command.extend(args.split(' '));
        run(&command);
    }
    // The datagrams' source is an address of this namespace: accept it.
    run(&[
        IN_NETNS,
        name,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.all.accept_local=1",
        "net.ipv4.conf.veth0.accept_local=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.veth0.rp_filter=0",
    ]);
    let this_test = std::env::current_exe().unwrap();
    let output = Command::new(IN_NETNS)
        .arg(name)
        .arg(this_test)
        .args([INNER_TEST, "--exact", "--ignored", "--nocapture"])
        .env(NAMESPACE_VAR, name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the test inside the namespace failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run by multicast_is_joined_on_the_named_interface inside its network namespace"]
fn inside_the_namespace() {
    let namespace = std::env::var(NAMESPACE_VAR).unwrap_or_default();
    assert!(
        !namespace.is_empty() && fs::metadata("/sys/class/net/veth1").is_ok(),
        "this test sends multicast: it runs only inside the namespace that \
         multicast_is_joined_on_the_named_interface creates"
    );
    let open = |url: &str, nic: Option<&str>| TsInput::open(&udp_config(url, nic)).unwrap();
    let mut first = open("udp://239.1.1.1:5000", Some("veth0"));
    let mut second = open("udp://239.1.1.1:5000", Some("veth0"));
    let mut auto = open("udp://239.1.1.1:5000", None);
    let mut wrong_nic = open("udp://239.1.1.1:5000", Some("veth1"));
    let mut other_group = open("udp://239.1.1.2:5000", Some("veth0"));
    assert_eq!(first.label(), "udp://239.1.1.1:5000 on veth0");

    let igmp = fs::read_to_string("/proc/net/igmp").unwrap();
    assert!(joined(&igmp, "veth0", "010101EF"), "{igmp}");
    assert!(joined(&igmp, "veth0", "020101EF"), "{igmp}");

    let packets = stream(70, &[20]);
    let tx = multicast_sender(Ipv4Addr::new(10, 99, 1, 1));
    let group = SocketAddrV4::new(Ipv4Addr::new(239, 1, 1, 1), 5000);
    for datagram in packets.chunks(7) {
        tx.send_to(&datagram.concat(), &group.into()).unwrap();
    }
    for input in [&mut first, &mut second, &mut auto] {
        let label = input.label();
        assert_eq!(read_packets(input, 70), packets, "{label}");
        let report = input.report();
        assert_eq!(report.continuity_errors, 1, "{label}");
        assert!(report.receiving, "{label}");
    }
    for input in [&mut wrong_nic, &mut other_group] {
        let mut out = Vec::new();
        input.read(Duration::from_millis(300), &mut out).unwrap();
        assert!(out.is_empty(), "{} received", input.label());
    }
}

/// Whether /proc/net/igmp lists `group` (hex, as the kernel writes it)
/// under `nic`.
fn joined(igmp: &str, nic: &str, group: &str) -> bool {
    let mut current = None;
    for line in igmp.lines().skip(1) {
        if !line.starts_with('\t') {
            current = line.split_whitespace().nth(1);
        } else if current == Some(nic) && line.split_whitespace().next() == Some(group) {
            return true;
        }
    }
    false
}

/// A socket sending multicast out of the interface with address `from`,
/// not looped back to this host's own members.
fn multicast_sender(from: Ipv4Addr) -> Socket {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    socket.set_multicast_if_v4(&from).unwrap();
    socket.set_multicast_loop_v4(false).unwrap();
    socket.bind(&SocketAddrV4::new(from, 0).into()).unwrap();
    socket
}
