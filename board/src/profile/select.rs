//! Which profile is the running board's, and why.

use std::fmt;
use std::path::Path;

use super::{builtin, Arch, BoardProfile, Machine, ProfileError, Recognise};

/// A chosen profile and the reason it was chosen, for the log and the
/// console's `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The profile.
    pub profile: BoardProfile,
    /// Why this one.
    pub reason: Reason,
}

/// Why a profile was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The operator named it.
    Named,
    /// The machine's DMI strings matched its patterns.
    Dmi {
        /// `sys_vendor` as the machine has it.
        sys_vendor: String,
        /// `product_name`, when the profile looks at it.
        product_name: Option<String>,
    },
    /// One of the machine's device-tree `compatible` strings is the
    /// profile's.
    DeviceTree(String),
    /// Nothing recognised the machine: its architecture's fallback.
    Fallback {
        /// What the machine said, for the log: nothing matched it.
        machine: Machine,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Named => write!(f, "named by the operator"),
            Reason::Dmi {
                sys_vendor,
                product_name: None,
            } => write!(f, "recognised by DMI sys_vendor '{sys_vendor}'"),
            Reason::Dmi {
                sys_vendor,
                product_name: Some(product),
            } => write!(
                f,
                "recognised by DMI sys_vendor '{sys_vendor}' and product_name '{product}'"
            ),
            Reason::DeviceTree(compatible) => {
                write!(f, "recognised by device-tree compatible '{compatible}'")
            }
            Reason::Fallback { machine } => {
                let shown = |value: &Option<String>| match value {
                    Some(v) => format!("'{v}'"),
                    None => "none".to_owned(),
                };
                let dt = match machine.dt_compatible.as_slice() {
                    [] => "none".to_owned(),
                    list => format!("'{}'", list.join("', '")),
                };
                write!(
                    f,
                    "the {arch} fallback: no profile recognises this machine \
                     (DMI sys_vendor {vendor}, product_name {product}; device-tree compatible {dt})",
                    arch = machine.arch,
                    vendor = shown(&machine.dmi_sys_vendor),
                    product = shown(&machine.dmi_product_name),
                )
            }
        }
    }
}

/// The profile of the machine whose `/sys` and `/proc` are under `root`
/// (`/` on the appliance), among the [`builtin`] ones: see [`select_from`].
///
/// # Errors
///
/// As [`select_from`], and any built-in profile that does not validate.
pub fn select(explicit: Option<&str>, root: &Path) -> Result<BoardProfile, ProfileError> {
    choose(explicit, root).map(|s| s.profile)
}

/// [`select`], with the reason for the choice.
///
/// # Errors
///
/// As [`select`].
pub fn choose(explicit: Option<&str>, root: &Path) -> Result<Selection, ProfileError> {
    let profiles = builtin()?;
    choose_from(
        &profiles,
        explicit,
        &Machine::read(root, std::env::consts::ARCH),
    )
}

/// Chooses among `profiles`: the one named `explicit` (the operator's flag,
/// whatever its architecture); else the first of `machine`'s architecture
/// that recognises it; else that architecture's fallback.
///
/// # Errors
///
/// [`ProfileError::Unknown`] when no profile has the explicit name,
/// [`ProfileError::NoMatch`] when nothing matches and the architecture has
/// no fallback. Both list the known names.
pub fn select_from(
    profiles: &[BoardProfile],
    explicit: Option<&str>,
    machine: &Machine,
) -> Result<BoardProfile, ProfileError> {
    choose_from(profiles, explicit, machine).map(|s| s.profile)
}

/// [`select_from`], with the reason for the choice.
///
/// # Errors
///
/// As [`select_from`].
pub fn choose_from(
    profiles: &[BoardProfile],
    explicit: Option<&str>,
    machine: &Machine,
) -> Result<Selection, ProfileError> {
    let known = || profiles.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let selected = |profile: &BoardProfile, reason| Selection {
        profile: profile.clone(),
        reason,
    };
    if let Some(name) = explicit {
        return profiles
            .iter()
            .find(|p| p.name == name)
            .map(|p| selected(p, Reason::Named))
            .ok_or_else(|| ProfileError::Unknown {
                name: name.to_owned(),
                known: known(),
            });
    }
    let arch = Arch::from_name(&machine.arch);
    let ours = || profiles.iter().filter(|p| Some(p.arch) == arch);
    if let Some((profile, reason)) = ours().find_map(|p| Some((p, p.recognition(machine)?))) {
        return Ok(selected(profile, reason));
    }
    ours()
        .find(|p| p.recognise == Recognise::Fallback)
        .map(|p| {
            let machine = machine.clone();
            selected(p, Reason::Fallback { machine })
        })
        .ok_or_else(|| ProfileError::NoMatch {
            arch: machine.arch.clone(),
            known: known(),
        })
}

impl BoardProfile {
    /// Whether the machine's DMI strings or device tree match this profile's
    /// patterns (a fallback recognises nothing; the architecture is not
    /// looked at here).
    pub fn recognises(&self, machine: &Machine) -> bool {
        self.recognition(machine).is_some()
    }

    /// What of the machine matched this profile's patterns, if anything.
    fn recognition(&self, machine: &Machine) -> Option<Reason> {
        let Recognise::By {
            dmi_sys_vendor,
            dmi_product_name,
            dt_compatible,
        } = &self.recognise
        else {
            return None;
        };
        let matching = |patterns: &[super::Pattern], value: &Option<String>| {
            value
                .as_ref()
                .filter(|v| patterns.iter().any(|p| p.matches(v)))
                .cloned()
        };
        let vendor = matching(dmi_sys_vendor, &machine.dmi_sys_vendor);
        let product = matching(dmi_product_name, &machine.dmi_product_name);
        match (vendor, dmi_product_name.is_empty()) {
            (Some(sys_vendor), true) => {
                return Some(Reason::Dmi {
                    sys_vendor,
                    product_name: None,
                })
            }
            (Some(sys_vendor), false) if product.is_some() => {
                return Some(Reason::Dmi {
                    sys_vendor,
                    product_name: product,
                })
            }
            _ => {}
        }
        dt_compatible
            .iter()
            .find(|c| machine.dt_compatible.contains(c))
            .map(|c| Reason::DeviceTree(c.clone()))
    }
}
