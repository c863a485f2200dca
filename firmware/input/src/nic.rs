//! The input's `interface`: a NIC name, turned into what sockets need.

use std::fs;
use std::net::Ipv4Addr;

use makara_board::Nic;

use crate::error::InputError;

/// The named interface, as the board lists it.
pub fn find(label: &str, name: &str) -> Result<Nic, InputError> {
    let nics = makara_board::list_nics().map_err(|source| InputError::Interfaces {
        label: label.to_string(),
        source,
    })?;
    let known = nics
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    nics.iter()
        .find(|n| n.name == name)
        .cloned()
        .ok_or_else(|| InputError::UnknownInterface {
            label: label.to_string(),
            interface: name.to_string(),
            known,
        })
}

/// The interface's first IPv4 address (multicast joins and SRT sockets are
/// bound to it).
pub fn ipv4(label: &str, nic: &Nic) -> Result<Ipv4Addr, InputError> {
    nic.ipv4
        .iter()
        .filter_map(|cidr| cidr.split('/').next()?.parse().ok())
        .next()
        .ok_or_else(|| InputError::NoIpv4 {
            label: label.to_string(),
            interface: nic.name.clone(),
        })
}

/// The interface's index, which IPv6 multicast joins take. The name came
/// from the board's list, so it is a directory of /sys/class/net.
pub fn index(label: &str, nic: &Nic) -> Result<u32, InputError> {
    let path = format!("/sys/class/net/{}/ifindex", nic.name);
    let text = fs::read_to_string(&path).map_err(|source| InputError::Socket {
        label: label.to_string(),
        source,
    })?;
    text.trim().parse().map_err(|_| InputError::Socket {
        label: label.to_string(),
        source: std::io::Error::other(format!("{path} holds no interface index")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_found_with_its_address() {
        let lo = find("test", "lo").unwrap();
        assert_eq!(ipv4("test", &lo).unwrap(), Ipv4Addr::LOCALHOST);
        assert_eq!(index("test", &lo).unwrap(), 1);
    }

    #[test]
    fn an_unknown_interface_names_the_known_ones() {
        let e = find("udp://239.1.1.1:5000", "nosuchnic0").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "udp://239.1.1.1:5000: interface nosuchnic0 does not exist (this appliance has: "
            ),
            "{text}"
        );
        assert!(text.contains("lo"), "{text}");
    }
}
