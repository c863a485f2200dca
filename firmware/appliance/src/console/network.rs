//! `network show|dhcp|static`: the saved configuration and the live
//! addresses, and changes made through [`crate::network`] (checked,
//! saved, applied at once).

use std::io::{self, Write};
use std::net::Ipv4Addr;

use makara_board::netconf::{Network, StaticNetwork};
use makara_board::Nic;

use super::Console;

/// The saved configuration, then each interface's live IPv4 addresses.
pub fn show(console: &Console, out: &mut impl Write) -> io::Result<()> {
    let place = &console.network;
    match place.read() {
        Ok(conf) => {
            writeln!(out, "saved:   {} ({})", conf.network, place.conf.display())?;
            if let Network::Static(_) = conf.network {
                writeln!(out, "dns:     {}", words(&conf.dns))?;
            }
        }
        Err(e) => writeln!(out, "saved:   unknown ({e})")?,
    }
    match makara_board::list_nics() {
        Ok(nics) => {
            for nic in nics.iter().filter(|n| !n.loopback) {
                writeln!(out, "live:    {}", live(nic))?;
            }
        }
        Err(e) => writeln!(out, "live:    unknown ({e})")?,
    }
    Ok(())
}

/// Saves and applies a new configuration, and says how it went.
pub fn change(
    console: &Console,
    network: Network,
    dns: Option<Vec<Ipv4Addr>>,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "network: applying {network}")?;
    out.flush()?;
    match console.network.change(network, dns) {
        Ok(()) => writeln!(out, "network: {network}, saved and applied"),
        Err(e) => writeln!(out, "failed: {e}"),
    }
}

/// `network static`'s arguments.
pub fn set_static(
    console: &Console,
    config: StaticNetwork,
    dns: Vec<Ipv4Addr>,
    out: &mut impl Write,
) -> io::Result<()> {
    change(console, Network::Static(config), Some(dns), out)
}

fn live(nic: &Nic) -> String {
    let state = if nic.up { "up" } else { "down" };
    match nic.ipv4.as_slice() {
        [] => format!("{}: {state}, no IPv4 address", nic.name),
        addresses => format!("{}: {state}, {}", nic.name, addresses.join(" ")),
    }
}

fn words(dns: &[Ipv4Addr]) -> String {
    if dns.is_empty() {
        return "none".to_owned();
    }
    dns.iter()
        .map(Ipv4Addr::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
