//! The profiles built into the binary, one per file of `board/profiles/`.

use super::{parse, BoardProfile, ProfileError, Recognise};

/// Every profile file, in the order [`super::select`] tries them: specific
/// boards first (the fallbacks are only taken when none matches).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "qemu-x86_64.toml",
        include_str!("../../profiles/qemu-x86_64.toml"),
    ),
    (
        "qemu-aarch64.toml",
        include_str!("../../profiles/qemu-aarch64.toml"),
    ),
    (
        "raspberrypi-5.toml",
        include_str!("../../profiles/raspberrypi-5.toml"),
    ),
    (
        "generic-x86_64.toml",
        include_str!("../../profiles/generic-x86_64.toml"),
    ),
    (
        "generic-aarch64.toml",
        include_str!("../../profiles/generic-aarch64.toml"),
    ),
];

/// Every built-in profile, validated.
///
/// # Errors
///
/// The first profile that does not validate, or a second fallback for an
/// architecture (reported on the later file's `recognise`).
pub fn builtin() -> Result<Vec<BoardProfile>, ProfileError> {
    let mut profiles: Vec<BoardProfile> = Vec::with_capacity(BUILTIN.len());
    for (file, text) in BUILTIN {
        let file = format!("board/profiles/{file}");
        let profile = parse(&file, text)?;
        let fallback =
            |p: &BoardProfile| p.recognise == Recognise::Fallback && p.arch == profile.arch;
        if let Some(other) = profiles.iter().find(|p| fallback(p) && fallback(&profile)) {
            return Err(ProfileError::Invalid {
                file,
                field: "recognise.fallback".to_owned(),
                rule: format!(
                    "{} already has a fallback profile: {}",
                    profile.arch.name(),
                    other.name
                ),
            });
        }
        profiles.push(profile);
    }
    Ok(profiles)
}
