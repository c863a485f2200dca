//! IPv6 addresses from `/proc/net/if_inet6`.
//!
//! Each line is `address ifindex prefixlen scope flags name`, the address as
//! 32 hex digits in network order and the numbers in hex, e.g.
//! `fe8000000000000000fc00fffe000001 04 40 20 80     eth0`.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

/// `IFA_F_DADFAILED`: the address collided with another host's and is not
/// usable, so it is not reported.
const IFA_F_DADFAILED: u32 = 0x08;

/// Maps interface names to their IPv6 addresses as `addr/prefix`, each list
/// sorted by address (global addresses before link-local ones, as it
/// happens). Malformed lines are skipped: the format is the kernel's, and
/// one odd line should not hide the others.
pub(crate) fn ipv6_by_nic(if_inet6: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_nic: BTreeMap<String, Vec<(Ipv6Addr, u8)>> = BTreeMap::new();
    for (name, addr, prefix) in if_inet6.lines().filter_map(parse_line) {
        by_nic
            .entry(name.to_owned())
            .or_default()
            .push((addr, prefix));
    }
    by_nic
        .into_iter()
        .map(|(name, mut addrs)| {
            addrs.sort_unstable();
            addrs.dedup();
            let formatted = addrs.iter().map(|(a, p)| format!("{a}/{p}")).collect();
            (name, formatted)
        })
        .collect()
}

fn parse_line(line: &str) -> Option<(&str, Ipv6Addr, u8)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [addr, _index, prefix, _scope, flags, name] = fields[..] else {
        return None;
    };
    if addr.len() != 32 {
        return None;
    }
    let addr = Ipv6Addr::from(u128::from_str_radix(addr, 16).ok()?);
    let prefix = u8::from_str_radix(prefix, 16).ok().filter(|p| *p <= 128)?;
    let flags = u32::from_str_radix(flags, 16).ok()?;
    (flags & IFA_F_DADFAILED == 0).then_some((name, addr, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_this_vms_table() {
        let table = ipv6_by_nic(include_str!("../testdata/vm/proc_net/if_inet6"));
        assert_eq!(
            table,
            BTreeMap::from([
                (
                    "eth0".to_owned(),
                    vec!["fd00::2/64".to_owned(), "fe80::fc:ff:fe00:1/64".to_owned()]
                ),
                ("lo".to_owned(), vec!["::1/128".to_owned()]),
            ])
        );
    }

    #[test]
    fn parses_the_netns_scenario() {
        let table = ipv6_by_nic(include_str!("../testdata/netns/proc_net/if_inet6"));
        let veth0 = table.get("veth0").cloned().unwrap_or_default();
        assert_eq!(veth0.len(), 2);
        assert_eq!(veth0.first().map(String::as_str), Some("2001:db8:1::50/64"));
        assert!(veth0
            .get(1)
            .is_some_and(|a| a.starts_with("fe80::") && a.ends_with("/64")));
        assert_eq!(table.len(), 5, "{table:?}");
        assert!(
            !table.contains_key("tap0"),
            "down NICs have no link-local address"
        );
    }

    #[test]
    fn skips_failed_dad_and_malformed_lines() {
        let text = "\
20010db8000000000000000000000001 02 40 00 88     eth0
20010db8000000000000000000000002 02 40 00 80     eth0
2001db8 02 40 00 80 eth0
20010db8000000000000000000000003 02 zz 00 80     eth0
20010db8000000000000000000000004 02 81 00 80     eth0
20010db8000000000000000000000005 02 40 00 80
";
        assert_eq!(
            ipv6_by_nic(text),
            BTreeMap::from([("eth0".to_owned(), vec!["2001:db8::2/64".to_owned()])])
        );
    }

    #[test]
    fn empty_input_is_an_empty_map() {
        assert!(ipv6_by_nic("").is_empty());
    }
}
