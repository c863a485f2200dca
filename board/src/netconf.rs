//! The box's IPv4 configuration: DHCP or a static address, as kept in
//! `network.conf` on the data disk, which the image's init reads at boot
//! and its `network` script applies (`docs/image.md`). The serial console
//! and the front panel change it through here, so both hold a static
//! address to the same rules ([`StaticNetwork::check`]).
//!
//! The file is `KEY=VALUE` lines: `MODE` (`dhcp` or `static`), `ADDRESS`
//! (`a.b.c.d/len`), `GATEWAY`, `DNS` (addresses separated by spaces), and
//! `INTERFACE` and `HOSTNAME`, which this module keeps as it found them,
//! together with comments and keys it does not know. Values may carry a
//! trailing `# comment` and double quotes, as init's reader allows.

#![deny(missing_docs)]

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;

/// The most DNS servers a configuration names.
pub const MAX_DNS: usize = 3;
/// The longest `network.conf` read: a few lines are expected.
pub const MAX_FILE_BYTES: u64 = 16 * 1024;

/// How the box's IPv4 address is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// An address leased by DHCP.
    #[default]
    Dhcp,
    /// An address set by hand.
    Static(StaticNetwork),
}

/// A static IPv4 configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticNetwork {
    /// The box's address.
    pub address: Ipv4Addr,
    /// Prefix length, 1-32.
    pub prefix: u8,
    /// The default route, if any.
    pub gateway: Option<Ipv4Addr>,
}

/// Why a static configuration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// In 0/8, loopback, multicast or 240/4: no box can have it.
    #[error("{0} is not a host address (0/8, 127/8, multicast and 240/4 are not)")]
    NotHost(Ipv4Addr),
    /// The prefix length is outside 1-32.
    #[error("prefix /{0} is out of range: 1-32")]
    Prefix(u8),
    /// The address is its subnet's own (host bits all zero).
    #[error("{0}/{1} is the subnet's own address, not a host of it")]
    SubnetAddress(Ipv4Addr, u8),
    /// The address is its subnet's broadcast address.
    #[error("{0}/{1} is the subnet's broadcast address")]
    Broadcast(Ipv4Addr, u8),
    /// The gateway is not in the box's subnet.
    #[error("gateway {0} is not in the box's subnet")]
    GatewayOffSubnet(Ipv4Addr),
    /// The gateway is the box's own address.
    #[error("gateway {0} is the box's own address")]
    GatewayIsTheBox(Ipv4Addr),
}

/// An address a box can have: not in 0/8, loopback, multicast or the
/// reserved 240/4 (with the broadcast address).
pub fn check_host_address(address: Ipv4Addr) -> Result<(), Refusal> {
    let first = address.octets()[0];
    if first == 0 || address.is_loopback() || first >= 224 {
        return Err(Refusal::NotHost(address));
    }
    Ok(())
}

fn mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(u32::from(32 - prefix)).unwrap_or(0)
}

/// `address` is a host of its `/prefix` subnet: on subnets of more than
/// two addresses, the first and last are not.
pub fn check_subnet(address: Ipv4Addr, prefix: u8) -> Result<(), Refusal> {
    check_host_address(address)?;
    if !(1..=32).contains(&prefix) {
        return Err(Refusal::Prefix(prefix));
    }
    let host = u32::from(address) & !mask(prefix);
    match prefix {
        31.. => Ok(()),
        _ if host == 0 => Err(Refusal::SubnetAddress(address, prefix)),
        _ if host == !mask(prefix) => Err(Refusal::Broadcast(address, prefix)),
        _ => Ok(()),
    }
}

impl StaticNetwork {
    /// The address is a host of its subnet, and the gateway (if any)
    /// another host of the same subnet.
    pub fn check(&self) -> Result<(), Refusal> {
        check_subnet(self.address, self.prefix)?;
        let Some(gateway) = self.gateway else {
            return Ok(());
        };
        check_host_address(gateway)?;
        if gateway == self.address {
            return Err(Refusal::GatewayIsTheBox(gateway));
        }
        let net = mask(self.prefix);
        if u32::from(gateway) & net != u32::from(self.address) & net {
            return Err(Refusal::GatewayOffSubnet(gateway));
        }
        check_subnet(gateway, self.prefix)
    }
}

/// Why `network.conf` cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NetConfError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path} is over {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// A value the box cannot use.
    #[error("line {line}: {key}={value}: {why}")]
    Value {
        /// Its line, from 1.
        line: usize,
        /// The key.
        key: &'static str,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// The static configuration breaks a rule.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// More DNS servers than [`MAX_DNS`].
    #[error("{0} DNS servers: at most {MAX_DNS}")]
    TooManyDns(usize),
}

/// `network.conf`: the addressing, the DNS servers, and every other line
/// as it was.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkConf {
    /// DHCP or static.
    pub network: Network,
    /// Name servers for a static configuration (DHCP brings its own).
    pub dns: Vec<Ipv4Addr>,
    /// Lines other than MODE, ADDRESS, GATEWAY and DNS, in order.
    kept: Vec<String>,
}

impl NetworkConf {
    /// Reads the file; one that does not exist is DHCP, as init takes it.
    pub fn read(path: &Path) -> Result<NetworkConf, NetConfError> {
        let io = |source| NetConfError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = match File::open(path) {
            Ok(file) => {
                let mut text = String::new();
                io::Read::read_to_string(&mut io::Read::take(file, MAX_FILE_BYTES + 1), &mut text)
                    .map_err(io)?;
                text
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(NetworkConf::default()),
            Err(e) => return Err(io(e)),
        };
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(NetConfError::TooLarge {
                path: path.display().to_string(),
            });
        }
        NetworkConf::parse(&text)
    }

    /// Parses the text of the file, strictly for the keys it changes.
    pub fn parse(text: &str) -> Result<NetworkConf, NetConfError> {
        let mut raw = RawConf::default();
        let mut kept = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let Some((key, value)) = line.split_once('=') else {
                kept.push(line.to_owned());
                continue;
            };
            let value = clean_value(value);
            let slot = match key.trim() {
                "MODE" => &mut raw.mode,
                "ADDRESS" => &mut raw.address,
                "GATEWAY" => &mut raw.gateway,
                "DNS" => &mut raw.dns,
                _ => {
                    kept.push(line.to_owned());
                    continue;
                }
            };
            *slot = Some((i + 1, value));
        }
        let conf = raw.into_conf(kept)?;
        Ok(conf)
    }

    /// Checks the configuration before it is written.
    pub fn check(&self) -> Result<(), NetConfError> {
        if let Network::Static(config) = self.network {
            config.check()?;
        }
        if self.dns.len() > MAX_DNS {
            return Err(NetConfError::TooManyDns(self.dns.len()));
        }
        self.dns.iter().try_for_each(|&d| check_host_address(d))?;
        Ok(())
    }

    /// The file's text: the kept lines, then the addressing.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for line in &self.kept {
            text.push_str(line);
            text.push('\n');
        }
        match self.network {
            Network::Dhcp => text.push_str("MODE=dhcp\n"),
            Network::Static(c) => {
                text.push_str("MODE=static\n");
                text.push_str(&format!("ADDRESS={}/{}\n", c.address, c.prefix));
                if let Some(gateway) = c.gateway {
                    text.push_str(&format!("GATEWAY={gateway}\n"));
                }
            }
        }
        if !self.dns.is_empty() {
            let dns: Vec<String> = self.dns.iter().map(Ipv4Addr::to_string).collect();
            text.push_str(&format!("DNS=\"{}\"\n", dns.join(" ")));
        }
        text
    }

    /// Checks, then replaces the file so that a power cut leaves the old
    /// one or the new one, never a torn one: a temporary file in the same
    /// directory, synced, renamed over it, and the directory synced.
    pub fn write(&self, path: &Path) -> Result<(), NetConfError> {
        self.check()?;
        let io = |source| NetConfError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io)?;
        let tmp = path.with_extension("conf.new");
        let mut file = File::create(&tmp).map_err(io)?;
        file.write_all(self.to_text().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        Ok(())
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::Dhcp => f.write_str("dhcp"),
            Network::Static(c) => {
                write!(f, "static {}/{}", c.address, c.prefix)?;
                match c.gateway {
                    Some(gateway) => write!(f, " gateway {gateway}"),
                    None => f.write_str(" no gateway"),
                }
            }
        }
    }
}

/// A value as init's reader cleans it: a trailing comment, the spaces
/// around it and one pair of double quotes go.
fn clean_value(value: &str) -> String {
    let value = value.split('#').next().unwrap_or("").trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_owned()
}

/// The four keys as found, with their lines.
#[derive(Default)]
struct RawConf {
    mode: Option<(usize, String)>,
    address: Option<(usize, String)>,
    gateway: Option<(usize, String)>,
    dns: Option<(usize, String)>,
}

impl RawConf {
    fn into_conf(self, kept: Vec<String>) -> Result<NetworkConf, NetConfError> {
        let dns = match &self.dns {
            Some((line, value)) => value
                .split_whitespace()
                .map(|d| parse_ip(*line, "DNS", value, d))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let network = match self.mode.as_ref().map(|(l, v)| (*l, v.as_str())) {
            None | Some((_, "dhcp")) => Network::Dhcp,
            Some((_, "static")) => Network::Static(self.static_network()?),
            Some((line, other)) => {
                return Err(value_error(line, "MODE", other, "dhcp or static"));
            }
        };
        let conf = NetworkConf { network, dns, kept };
        conf.check()?;
        Ok(conf)
    }

    fn static_network(&self) -> Result<StaticNetwork, NetConfError> {
        let Some((line, value)) = &self.address else {
            return Err(value_error(
                0,
                "ADDRESS",
                "",
                "MODE=static needs ADDRESS=a.b.c.d/len",
            ));
        };
        let (address, prefix) = parse_cidr(value)
            .ok_or_else(|| value_error(*line, "ADDRESS", value, "not a.b.c.d/len"))?;
        let gateway = match &self.gateway {
            Some((line, value)) if !value.is_empty() => {
                Some(parse_ip(*line, "GATEWAY", value, value)?)
            }
            _ => None,
        };
        Ok(StaticNetwork {
            address,
            prefix,
            gateway,
        })
    }
}

/// `a.b.c.d/len`, the prefix length as written (checked later).
pub fn parse_cidr(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (address, prefix) = text.split_once('/')?;
    let prefix = prefix.parse::<u8>().ok()?;
    Some((address.parse().ok()?, prefix))
}

fn parse_ip(
    line: usize,
    key: &'static str,
    value: &str,
    word: &str,
) -> Result<Ipv4Addr, NetConfError> {
    word.parse().map_err(|_| {
        value_error(
            line,
            key,
            value,
            &format!("'{word}' is not an IPv4 address"),
        )
    })
}

fn value_error(line: usize, key: &'static str, value: &str, why: &str) -> NetConfError {
    NetConfError::Value {
        line,
        key,
        value: value.to_owned(),
        why: why.to_owned(),
    }
}

#[cfg(test)]
mod tests;
