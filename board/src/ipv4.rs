//! IPv4 addresses per interface, pieced together from `/proc/net/fib_trie`
//! and `/proc/net/route`.
//!
//! Why this way: the kernel does not publish IPv4 addresses per interface
//! anywhere in `/proc` or `/sys`. The clean sources are netlink or
//! `getifaddrs(3)`, both of which need `unsafe` FFI here (or the `nix`
//! crate). What `/proc` does have:
//!
//! - `fib_trie` lists every local address as a `/32 host LOCAL` entry, but
//!   not the interface it belongs to;
//! - `route` (the main table) lists the prefix route the kernel adds for
//!   each address (`192.0.2.0/24 dev eth0`), with the interface and mask,
//!   but not the address.
//!
//! So each local address is attributed to the interface of the
//! longest-prefix gateway-less route containing it, and gets that route's
//! prefix length. Loopback addresses have no main-table route; their prefix
//! appears in `fib_trie` as a LOCAL route shorter than /32
//! (`127.0.0.0/8 host LOCAL`), and they go to the loopback interface.
//!
//! Known blind spots, all rare on an appliance: an address whose interface
//! is administratively down (the kernel withdraws its prefix route), a /32
//! address (no prefix route at all), and a manual on-link route more
//! specific than an address's own subnet on another interface. Those
//! addresses are left out rather than guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

const RTF_UP: u32 = 0x0001;
const RTF_GATEWAY: u32 = 0x0002;
const RTF_REJECT: u32 = 0x0200;

/// An on-link route from `/proc/net/route`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    nic: String,
    network: u32,
    prefix: u8,
    metric: u32,
}

/// What `fib_trie` says is local.
#[derive(Debug, Default, PartialEq, Eq)]
struct FibLocals {
    /// `/32 host LOCAL` entries: the machine's addresses.
    addresses: BTreeSet<u32>,
    /// Shorter LOCAL entries: whole networks routed to a loopback device.
    loopback_networks: Vec<(u32, u8)>,
}

/// Maps interface names to their IPv4 addresses as `a.b.c.d/prefix`, each
/// list sorted by address. `loopback` names the interface loopback
/// networks belong to. `route` holds addresses in host byte order, hence
/// `little_endian` (the running machine's, outside tests).
pub(crate) fn ipv4_by_nic(
    fib_trie: &str,
    route: &str,
    loopback: Option<&str>,
    little_endian: bool,
) -> BTreeMap<String, Vec<String>> {
    let locals = parse_fib_trie(fib_trie);
    let routes = parse_routes(route, little_endian);
    let mut by_nic: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for &address in &locals.addresses {
        let owner = best_route(&routes, address)
            .map(|r| (r.nic.as_str(), r.prefix))
            .or_else(|| {
                let prefix = best_loopback_network(&locals.loopback_networks, address)?;
                Some((loopback?, prefix))
            });
        if let Some((nic, prefix)) = owner {
            by_nic
                .entry(nic.to_owned())
                .or_default()
                .push(format!("{}/{prefix}", Ipv4Addr::from(address)));
        }
    }
    by_nic
}

/// The longest-prefix route containing `address`; on a tie, the lowest
/// metric, then the first listed, as the kernel would pick.
fn best_route(routes: &[Route], address: u32) -> Option<&Route> {
    routes
        .iter()
        .filter(|r| contains(r.network, r.prefix, address))
        .min_by_key(|r| (std::cmp::Reverse(r.prefix), r.metric))
}

fn best_loopback_network(networks: &[(u32, u8)], address: u32) -> Option<u8> {
    networks
        .iter()
        .filter(|(network, prefix)| contains(*network, *prefix, address))
        .map(|(_, prefix)| *prefix)
        .max()
}

fn contains(network: u32, prefix: u8, address: u32) -> bool {
    let mask = mask_of(prefix);
    network & mask == address & mask
}

fn mask_of(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

/// Reads the LOCAL entries of `fib_trie`. The format is a tree dump:
///
/// ```text
///      +-- 192.0.2.0/24 2 0 2        internal node
///         |-- 192.0.2.2              leaf: a key...
///            /32 host LOCAL          ...and one line per route with that key
/// ```
///
/// Only leaves and their route lines matter; table headers (`Main:`,
/// `Local:`) are ignored since the same address may appear in both and the
/// result is a set anyway.
fn parse_fib_trie(text: &str) -> FibLocals {
    let mut locals = FibLocals::default();
    let mut leaf: Option<u32> = None;
    for line in text.lines().map(str::trim) {
        if let Some(key) = line.strip_prefix("|-- ") {
            leaf = key.trim().parse::<Ipv4Addr>().ok().map(u32::from);
        } else if let Some(entry) = line.strip_prefix('/') {
            let fields: Vec<&str> = entry.split_whitespace().collect();
            let (Some(key), &[prefix, .., kind]) = (leaf, fields.as_slice()) else {
                continue;
            };
            let Some(prefix) = prefix.parse::<u8>().ok().filter(|p| *p <= 32) else {
                continue;
            };
            if kind != "LOCAL" {
                continue;
            }
            if prefix == 32 {
                locals.addresses.insert(key);
            } else if !locals.loopback_networks.contains(&(key, prefix)) {
                locals.loopback_networks.push((key, prefix));
            }
        } else {
            leaf = None;
        }
    }
    locals
}

/// Reads the usable on-link routes of `/proc/net/route`: up, without a
/// gateway, not a reject route, not a default route (a `default dev ppp0`
/// would otherwise claim every address), with a contiguous mask.
fn parse_routes(text: &str, little_endian: bool) -> Vec<Route> {
    text.lines()
        .skip(1) // the column header
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [nic, destination, _gateway, flags, _refcnt, _use, metric, mask, ..] = fields[..]
            else {
                return None;
            };
            let flags = u32::from_str_radix(flags, 16).ok()?;
            if nic == "*" || flags & RTF_UP == 0 || flags & (RTF_GATEWAY | RTF_REJECT) != 0 {
                return None;
            }
            let mask = proc_hex_address(mask, little_endian)?;
            let prefix = u8::try_from(mask.leading_ones()).ok()?;
            if prefix == 0 || mask != mask_of(prefix) {
                return None;
            }
            Some(Route {
                nic: nic.to_owned(),
                network: proc_hex_address(destination, little_endian)?,
                prefix,
                metric: metric.parse().ok()?,
            })
        })
        .collect()
}

/// `/proc/net/route` prints each `__be32` as a native-endian integer in
/// hex, so `192.0.2.0` is `000200C0` on a little-endian machine.
fn proc_hex_address(hex: &str, little_endian: bool) -> Option<u32> {
    let raw = u32::from_str_radix(hex, 16).ok()?;
    let bytes = if little_endian {
        raw.to_le_bytes()
    } else {
        raw.to_be_bytes()
    };
    Some(u32::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        entries
            .iter()
            .map(|(nic, addrs)| {
                let addrs = addrs.iter().map(|a| (*a).to_owned()).collect();
                ((*nic).to_owned(), addrs)
            })
            .collect()
    }

    #[test]
    fn attributes_this_vms_addresses() {
        let table = ipv4_by_nic(
            include_str!("../testdata/vm/proc_net/fib_trie"),
            include_str!("../testdata/vm/proc_net/route"),
            Some("lo"),
            true,
        );
        assert_eq!(
            table,
            map(&[("eth0", &["192.0.2.2/24"]), ("lo", &["127.0.0.1/8"])])
        );
    }

    #[test]
    fn attributes_the_netns_scenario() {
        // See testdata/capture.sh for how this namespace was set up.
        let table = ipv4_by_nic(
            include_str!("../testdata/netns/proc_net/fib_trie"),
            include_str!("../testdata/netns/proc_net/route"),
            Some("lo"),
            true,
        );
        assert_eq!(
            table,
            map(&[
                ("br0", &["172.17.0.1/16"]),
                ("lo", &["127.0.0.1/8"]),
                ("veth0", &["192.168.1.50/24", "192.168.1.51/24"]),
                ("veth1", &["10.20.0.5/16"]),
                // tap0 (admin down) and ifb9 (a /32) have no prefix route:
                // the documented blind spots.
            ])
        );
    }

    #[test]
    fn without_a_loopback_nic_loopback_addresses_are_dropped() {
        let table = ipv4_by_nic(
            include_str!("../testdata/vm/proc_net/fib_trie"),
            include_str!("../testdata/vm/proc_net/route"),
            None,
            true,
        );
        assert_eq!(table, map(&[("eth0", &["192.0.2.2/24"])]));
    }

    #[test]
    fn route_addresses_follow_the_byte_order() {
        assert_eq!(proc_hex_address("000200C0", true), Some(0xC000_0200));
        assert_eq!(proc_hex_address("C0000200", false), Some(0xC000_0200));
        assert_eq!(proc_hex_address("xyz", true), None);
    }

    #[test]
    fn big_endian_route_table() {
        let route =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                     eth0\tC0000200\t00000000\t0001\t0\t0\t0\tFFFFFF00\t0\t0\t0\n";
        let fib = "Local:\n  |-- 192.0.2.2\n     /32 host LOCAL\n";
        assert_eq!(
            ipv4_by_nic(fib, route, None, false),
            map(&[("eth0", &["192.0.2.2/24"])])
        );
    }

    #[test]
    fn longest_prefix_then_lowest_metric_wins() {
        let route = "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT\n\
                     wide 0000000A 00000000 0001 0 0 0 000000FF 0 0 0\n\
                     slow 0000010A 00000000 0001 0 0 200 00FFFFFF 0 0 0\n\
                     fast 0000010A 00000000 0001 0 0 100 00FFFFFF 0 0 0\n\
                     gw 0500010A 0100010A 0003 0 0 0 FFFFFFFF 0 0 0\n\
                     dflt 00000000 00000000 0001 0 0 0 00000000 0 0 0\n\
                     down 0000010A 00000000 0000 0 0 0 00FFFFFF 0 0 0\n\
                     * 0000010A 00000000 0201 0 0 0 00FFFFFF 0 0 0\n\
                     odd 0000010A 00000000 0001 0 0 0 FF00FFFF 0 0 0\n";
        let fib = "|-- 10.1.0.5\n /32 host LOCAL\n|-- 10.2.0.5\n /32 host LOCAL\n";
        assert_eq!(
            ipv4_by_nic(fib, route, None, true),
            map(&[("fast", &["10.1.0.5/24"]), ("wide", &["10.2.0.5/8"])])
        );
    }

    #[test]
    fn fib_trie_parsing_keeps_only_local_entries() {
        let locals = parse_fib_trie(include_str!("../testdata/vm/proc_net/fib_trie"));
        let addresses: Vec<Ipv4Addr> = locals
            .addresses
            .iter()
            .map(|a| Ipv4Addr::from(*a))
            .collect();
        assert_eq!(
            addresses,
            [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(192, 0, 2, 2)]
        );
        assert_eq!(
            locals.loopback_networks,
            [(u32::from(Ipv4Addr::new(127, 0, 0, 0)), 8)]
        );
    }

    #[test]
    fn garbage_and_empty_input_yield_nothing() {
        assert!(ipv4_by_nic("", "", Some("lo"), true).is_empty());
        let fib =
            "/32 host LOCAL\n|-- not-an-ip\n /32 host LOCAL\n|-- 10.0.0.1\n /99 host LOCAL\n /32\n";
        let route = "Iface\nbroken\neth0 zz 0 1 0 0 0 00FFFFFF\n";
        assert!(ipv4_by_nic(fib, route, Some("lo"), true).is_empty());
    }

    #[test]
    fn masks() {
        assert_eq!(mask_of(0), 0);
        assert_eq!(mask_of(8), 0xFF00_0000);
        assert_eq!(mask_of(32), u32::MAX);
        assert!(contains(0x0A00_0000, 8, 0x0A01_0203));
        assert!(!contains(0x0A00_0000, 8, 0x0B00_0000));
    }
}
