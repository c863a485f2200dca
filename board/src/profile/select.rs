//! Which profile is the running board's.

use std::path::Path;

use super::{builtin, Arch, BoardProfile, Machine, ProfileError, Recognise};

/// The profile of the machine whose `/sys` and `/proc` are under `root`
/// (`/` on the appliance), among the [`builtin`] ones: see [`select_from`].
///
/// # Errors
///
/// As [`select_from`], and any built-in profile that does not validate.
pub fn select(explicit: Option<&str>, root: &Path) -> Result<BoardProfile, ProfileError> {
    let profiles = builtin()?;
    select_from(
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
    let known = || profiles.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    if let Some(name) = explicit {
        return profiles
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| ProfileError::Unknown {
                name: name.to_owned(),
                known: known(),
            });
    }
    let arch = Arch::from_name(&machine.arch);
    let ours = || profiles.iter().filter(|p| Some(p.arch) == arch);
    ours()
        .find(|p| p.recognises(machine))
        .or_else(|| ours().find(|p| p.recognise == Recognise::Fallback))
        .cloned()
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
        let Recognise::By {
            dmi_sys_vendor,
            dmi_product_name,
            dt_compatible,
        } = &self.recognise
        else {
            return false;
        };
        let any = |patterns: &[super::Pattern], value: &Option<String>| {
            value
                .as_deref()
                .is_some_and(|v| patterns.iter().any(|p| p.matches(v)))
        };
        let dmi = any(dmi_sys_vendor, &machine.dmi_sys_vendor)
            && (dmi_product_name.is_empty() || any(dmi_product_name, &machine.dmi_product_name));
        let dt = dt_compatible
            .iter()
            .any(|c| machine.dt_compatible.contains(c));
        dmi || dt
    }
}
