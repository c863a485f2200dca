//! The network editor: the mode (DHCP or static), then for a static
//! configuration the address, the prefix length and the gateway, each
//! checked before the next step. Digits are edited one at a time: up and
//! down change the one under the caret (9 wraps to 0), left and right move
//! the caret, left from the first digit goes back a step, enter goes on.

use std::net::Ipv4Addr;

use makara_board::netconf::{check_host_address, check_subnet};

use super::text::{carets, row};
use crate::protocol::Key;
use crate::view::{Network, PanelView, StaticNetwork};

/// The least a prefix length can be (a /0 subnet is every address).
pub const MIN_PREFIX: u8 = 1;
/// The most a prefix length can be.
pub const MAX_PREFIX: u8 = 32;
/// The prefix length offered when the box has no static one yet.
pub const DEFAULT_PREFIX: u8 = 24;

/// Why the editor refuses a step: each fits on a row.
pub(crate) mod refusal {
    use makara_board::netconf::Refusal;

    pub const OCTET: &str = "Octet over 255";
    pub const NOT_HOST: &str = "Not a host address";
    pub const SUBNET: &str = "Subnet's own address";
    pub const BROADCAST: &str = "Broadcast address";
    pub const OFF_SUBNET: &str = "Gateway off subnet";
    pub const SAME: &str = "Gateway is the box";
    pub const PREFIX: &str = "Prefix is 1-32";

    /// The board's refusal, in words that fit on a row.
    pub fn of(refusal: Refusal) -> &'static str {
        match refusal {
            Refusal::NotHost(_) => NOT_HOST,
            Refusal::Prefix(_) => PREFIX,
            Refusal::SubnetAddress(..) => SUBNET,
            Refusal::Broadcast(..) => BROADCAST,
            Refusal::GatewayOffSubnet(_) => OFF_SUBNET,
            Refusal::GatewayIsTheBox(_) => SAME,
        }
    }
}

/// Where the editor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Mode(Choice),
    /// The caret on digit 0-11 of the address.
    Address(usize),
    Prefix,
    Gateway(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Dhcp,
    Static,
    Back,
}

const CHOICES: [Choice; 3] = [Choice::Dhcp, Choice::Static, Choice::Back];
/// Digits of an address: four octets of three.
const DIGITS: usize = 12;
/// Where an address starts on its row, after `Addr ` or `Gw   `.
const ADDRESS_COLUMN: usize = 5;

/// What a key did to the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edited {
    Stay,
    Cancel,
    Done(Network),
}

/// A network configuration being edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Editor {
    step: Step,
    address: Digits,
    prefix: u8,
    gateway: Digits,
    /// A refusal, shown on the second row until the next key.
    refused: Option<&'static str>,
}

impl Editor {
    /// Starts at the mode, filled in from the box's configuration: its
    /// static one, or else the address it has now.
    pub(crate) fn new(view: &PanelView) -> Editor {
        let (choice, fill) = match view.network {
            Network::Dhcp => (Choice::Dhcp, None),
            Network::Static(config) => (Choice::Static, Some(config)),
        };
        let address = fill
            .map(|c| c.address)
            .or(view.address)
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        Editor {
            step: Step::Mode(choice),
            address: Digits::of(address),
            prefix: fill.map_or(DEFAULT_PREFIX, |c| c.prefix.clamp(MIN_PREFIX, MAX_PREFIX)),
            gateway: Digits::of(
                fill.and_then(|c| c.gateway)
                    .unwrap_or(Ipv4Addr::UNSPECIFIED),
            ),
            refused: None,
        }
    }

    pub(crate) fn key(&mut self, key: Key) -> Edited {
        if self.refused.take().is_some() {
            return Edited::Stay;
        }
        match (self.step, key) {
            (Step::Mode(choice), Key::Enter) => match choice {
                Choice::Dhcp => return Edited::Done(Network::Dhcp),
                Choice::Static => self.step = Step::Address(0),
                Choice::Back => return Edited::Cancel,
            },
            (Step::Mode(choice), Key::Left | Key::Up) => self.step = Step::Mode(next(choice, -1)),
            (Step::Mode(choice), Key::Right | Key::Down) => self.step = Step::Mode(next(choice, 1)),
            (Step::Address(0), Key::Left) => self.step = Step::Mode(Choice::Static),
            (Step::Address(_), Key::Enter) => match check_address(&self.address) {
                Ok(_) => self.step = Step::Prefix,
                Err(refusal) => self.refused = Some(refusal),
            },
            (Step::Address(at), _) => self.step = Step::Address(self.address.key(at, key)),
            (Step::Prefix, Key::Up) => self.prefix = (self.prefix + 1).min(MAX_PREFIX),
            (Step::Prefix, Key::Down) => self.prefix = (self.prefix - 1).max(MIN_PREFIX),
            (Step::Prefix, Key::Left) => self.step = Step::Address(DIGITS - 1),
            (Step::Prefix, Key::Right) => {}
            (Step::Prefix, Key::Enter) => match self.subnet() {
                Ok(_) => self.step = Step::Gateway(0),
                Err(refusal) => self.refused = Some(refusal),
            },
            (Step::Gateway(0), Key::Left) => self.step = Step::Prefix,
            (Step::Gateway(_), Key::Enter) => match self.config() {
                Ok(config) => return Edited::Done(Network::Static(config)),
                Err(refusal) => self.refused = Some(refusal),
            },
            (Step::Gateway(at), _) => self.step = Step::Gateway(self.gateway.key(at, key)),
        }
        Edited::Stay
    }

    pub(crate) fn rows(&self) -> [String; 2] {
        let (top, caret) = match self.step {
            Step::Mode(choice) => {
                let options: Vec<String> = CHOICES
                    .iter()
                    .map(|&c| format!("{}{}", if c == choice { '>' } else { ' ' }, word(c)))
                    .collect();
                return [row("Network mode"), row(&options.join(" "))];
            }
            Step::Address(at) => (
                format!("Addr {}", self.address.text()),
                carets(digit_column(at)..digit_column(at) + 1),
            ),
            Step::Prefix => {
                let width = self.prefix.to_string().len();
                (format!("Prefix /{}", self.prefix), carets(8..8 + width))
            }
            Step::Gateway(at) => (
                format!("Gw   {}", self.gateway.text()),
                carets(digit_column(at)..digit_column(at) + 1),
            ),
        };
        [row(&top), self.refused.map_or(caret, row)]
    }

    /// The address and prefix, if the address is a host of its subnet.
    fn subnet(&self) -> Result<(Ipv4Addr, u8), &'static str> {
        let address = self.address.address()?;
        check_subnet(address, self.prefix).map_err(refusal::of)?;
        Ok((address, self.prefix))
    }

    /// The whole configuration, held to the board's rules.
    fn config(&self) -> Result<StaticNetwork, &'static str> {
        let (address, prefix) = self.subnet()?;
        let gateway = match self.gateway.address()? {
            Ipv4Addr::UNSPECIFIED => None,
            gateway => Some(gateway),
        };
        let config = StaticNetwork {
            address,
            prefix,
            gateway,
        };
        config.check().map_err(refusal::of)?;
        Ok(config)
    }
}

fn word(choice: Choice) -> &'static str {
    match choice {
        Choice::Dhcp => "DHCP",
        Choice::Static => "static",
        Choice::Back => "back",
    }
}

fn next(choice: Choice, by: isize) -> Choice {
    let at = CHOICES.iter().position(|&c| c == choice).unwrap_or(0);
    CHOICES[(at as isize + by).rem_euclid(CHOICES.len() as isize) as usize]
}

/// The row column of digit `at`: three digits, then a dot.
fn digit_column(at: usize) -> usize {
    ADDRESS_COLUMN + at + at / 3
}

/// An address as twelve decimal digits, which may spell octets above 255
/// while being edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digits([u8; DIGITS]);

impl Digits {
    fn of(address: Ipv4Addr) -> Digits {
        let mut digits = [0; DIGITS];
        for (i, octet) in address.octets().into_iter().enumerate() {
            digits[i * 3] = octet / 100;
            digits[i * 3 + 1] = octet / 10 % 10;
            digits[i * 3 + 2] = octet % 10;
        }
        Digits(digits)
    }

    /// Applies a key other than enter to the digit at `at`; returns where
    /// the caret is then.
    fn key(&mut self, at: usize, key: Key) -> usize {
        let digit = &mut self.0[at];
        match key {
            Key::Up => *digit = (*digit + 1) % 10,
            Key::Down => *digit = (*digit + 9) % 10,
            Key::Left => return at.saturating_sub(1),
            Key::Right => return (at + 1).min(DIGITS - 1),
            Key::Enter => {}
        }
        at
    }

    fn text(&self) -> String {
        let d: Vec<char> = self.0.iter().map(|&d| char::from(b'0' + d)).collect();
        d.chunks(3)
            .map(|octet| octet.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(".")
    }

    fn address(&self) -> Result<Ipv4Addr, &'static str> {
        let mut octets = [0u8; 4];
        for (octet, digits) in octets.iter_mut().zip(self.0.chunks(3)) {
            let value = digits.iter().fold(0u16, |v, &d| v * 10 + u16::from(d));
            *octet = u8::try_from(value).map_err(|_| refusal::OCTET)?;
        }
        Ok(Ipv4Addr::from(octets))
    }
}

/// The digits as an address a box can have (the board's rule).
fn check_address(digits: &Digits) -> Result<Ipv4Addr, &'static str> {
    let address = digits.address()?;
    check_host_address(address).map_err(refusal::of)?;
    Ok(address)
}
