//! Password hashes: argon2id in PHC strings.
//!
//! The parameters are OWASP's first choice for argon2id (Password Storage
//! Cheat Sheet): 19 MiB of memory, 2 passes, 1 lane, with a 16-byte random
//! salt and a 32-byte output. On the appliance's cores a hash costs about
//! 20 ms. Each stored string carries its own parameters, so hashes made
//! with other parameters (by an older or newer firmware) still verify.

use argon2::password_hash::{self, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::RngCore;
use thiserror::Error;

use super::gate;

/// Memory per hash in KiB (19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Lanes (degree of parallelism).
pub const ARGON2_LANES: u32 = 1;

/// The most a stored hash may ask for, so that a hand-edited users file
/// cannot make each login take gigabytes or seconds.
const MAX_MEMORY_KIB: u32 = 64 * 1024;
const MAX_ITERATIONS: u32 = 10;
const MAX_LANES: u32 = 4;

/// Why a password could not be hashed or checked.
#[derive(Debug, Error)]
pub enum HashError {
    #[error(
        "too many password checks at once (more than {} waited {} s); try again",
        gate::AT_ONCE,
        gate::MAX_WAIT.as_secs()
    )]
    Busy,
    #[error("cannot generate a random salt")]
    Random(#[source] rand::Error),
    // Its error type is `std::error::Error` only with argon2's `std`
    // feature, which nothing else needs: shown in the message instead.
    #[error("cannot compute the argon2id hash: {0}")]
    Argon2(password_hash::Error),
}

/// Why a stored hash is refused when the users file is read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StoredHashError {
    #[error("the password hash is not a PHC string: {0}")]
    Format(password_hash::Error),
    #[error("the password hash uses {0}, not argon2id")]
    Algorithm(String),
    #[error(
        "the password hash asks for m={memory} KiB, t={iterations}, p={lanes}; \
         at most m={MAX_MEMORY_KIB}, t={MAX_ITERATIONS}, p={MAX_LANES} are accepted"
    )]
    Cost {
        memory: u32,
        iterations: u32,
        lanes: u32,
    },
}

/// A hash of 32 random bytes, thrown away, made with the parameters above:
/// logging in as an unknown user checks it, so that costs what a wrong
/// password costs and the time taken does not tell whether a user exists.
/// (`dummy_hash_has_the_current_parameters` keeps it in step.)
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$BxrfjVYdl0dO/2pPUtpZng$EiAKcEir8i0LavsF7a3u180q9lfoPZIhW2HWQVqBE5w";

/// The PHC string of `password` with a fresh random salt.
pub(crate) fn hash(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    OsRng.try_fill_bytes(&mut salt).map_err(HashError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(HashError::Argon2)?;
    let _turn = gate::enter().ok_or(HashError::Busy)?;
    let hash = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(HashError::Argon2)?;
    Ok(hash.to_string())
}

/// Whether `password` is the one `phc` was made from. `phc` has passed
/// [`check_stored`]; its own parameters are used.
pub(crate) fn matches(password: &str, phc: &str) -> Result<bool, HashError> {
    #[cfg(test)]
    checks_here::count();
    let parsed = PasswordHash::new(phc).map_err(HashError::Argon2)?;
    let _turn = gate::enter().ok_or(HashError::Busy)?;
    match hasher()?.verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(e) => Err(HashError::Argon2(e)),
    }
}

/// Checks a hash read from the users file: an argon2id PHC string whose
/// parameters stay within bounds.
pub(crate) fn check_stored(phc: &str) -> Result<(), StoredHashError> {
    let parsed = PasswordHash::new(phc).map_err(StoredHashError::Format)?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(StoredHashError::Algorithm(parsed.algorithm.to_string()));
    }
    let params = Params::try_from(&parsed).map_err(StoredHashError::Format)?;
    let (memory, iterations, lanes) = (params.m_cost(), params.t_cost(), params.p_cost());
    if memory > MAX_MEMORY_KIB || iterations > MAX_ITERATIONS || lanes > MAX_LANES {
        return Err(StoredHashError::Cost {
            memory,
            iterations,
            lanes,
        });
    }
    Ok(())
}

fn hasher() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .map_err(|e| HashError::Argon2(e.into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// How many password checks this thread has run: lets tests see that a
/// refusal cost a check without timing it.
#[cfg(test)]
pub(crate) mod checks_here {
    use std::cell::Cell;

    thread_local!(static CHECKS: Cell<u64> = const { Cell::new(0) });

    pub(super) fn count() {
        CHECKS.with(|c| c.set(c.get() + 1));
    }

    pub(crate) fn so_far() -> u64 {
        CHECKS.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_with_the_owasp_parameters_and_a_fresh_salt() {
        let first = hash("correct horse").expect("hash");
        let second = hash("correct horse").expect("hash");
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "the salt must differ");
        assert!(!first.contains("correct horse"));
        check_stored(&first).expect("a hash of ours is accepted");
    }

    #[test]
    fn only_the_right_password_matches() {
        let phc = hash("correct horse").expect("hash");
        assert!(matches("correct horse", &phc).expect("verify"));
        assert!(!matches("correct horse ", &phc).expect("verify"));
        assert!(!matches("Correct horse", &phc).expect("verify"));
        assert!(!matches("", &phc).expect("verify"));
    }

    #[test]
    fn dummy_hash_has_the_current_parameters() {
        check_stored(DUMMY_HASH).expect("valid");
        let prefix =
            format!("$argon2id$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_ITERATIONS},p={ARGON2_LANES}$");
        assert!(DUMMY_HASH.starts_with(&prefix), "{DUMMY_HASH}");
        assert!(!matches("", DUMMY_HASH).expect("verify"));
    }

    #[test]
    fn stored_hashes_must_be_argon2id_within_bounds() {
        assert!(matches!(
            check_stored("not a hash"),
            Err(StoredHashError::Format(_))
        ));
        // The same digest labelled argon2i.
        let argon2i = DUMMY_HASH.replacen("argon2id", "argon2i", 1);
        assert_eq!(
            check_stored(&argon2i),
            Err(StoredHashError::Algorithm("argon2i".into()))
        );
        let greedy = DUMMY_HASH.replacen("m=19456", "m=4194304", 1);
        let err = check_stored(&greedy).expect_err("4 GiB");
        assert_eq!(
            err,
            StoredHashError::Cost {
                memory: 4_194_304,
                iterations: 2,
                lanes: 1
            }
        );
        assert!(err.to_string().contains("m=65536"), "{err}");
        let slow = DUMMY_HASH.replacen("t=2", "t=11", 1);
        assert!(matches!(
            check_stored(&slow),
            Err(StoredHashError::Cost { .. })
        ));
    }
}
