//! Who sent a request: its WS-UsernameToken checked against the box's
//! users, under the HMP login lockout's limits.
//!
//! A PasswordDigest is checked against the user's device-login password
//! (`makarad user add --device-login`); a PasswordText against the
//! password's argon2id hash, as an HMP login is. A `Created` more than
//! five minutes old or ahead is refused, and so is a nonce seen before
//! with the same user and `Created` (the Kraken replay record, one per
//! user, bounded).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use makara_access::users::{User, VerifyError};
use makara_supervisor::Command;

use super::fault::Fault;
use super::soap::Node;
use super::time;
use super::token::{self, Password, TokenError, UsernameToken};
use super::Onvif;
use crate::guard::Peer;
use crate::hmp::lockout::NewLocks;

/// What every refusal of credentials says: which part failed is logged,
/// not told.
const REFUSED: &str = "the WS-UsernameToken is not valid for this device";

/// The user whose token `header` carries.
pub async fn authorize(
    onvif: &Onvif,
    header: Option<&Node>,
    ip: Option<IpAddr>,
) -> Result<User, Fault> {
    let peer = ip.map(Peer::of);
    let token = token::read(header).map_err(|e| refuse_unchecked(&e, peer))?;
    let now = time::now_unix();
    check_shape(&token, now).map_err(|e| refuse_unchecked(&e, peer))?;
    let lockout = &onvif.app.hmp.lockout;
    if let Err(left) = lockout.check(&token.username, peer, Instant::now()) {
        tracing::warn!(user = %token.username, peer = %show(peer), "ONVIF request refused: locked after repeated failures");
        return Err(Fault::NotAuthorized(format!(
            "too many failed logins; try again in {} s",
            left.as_secs().max(1)
        )));
    }
    let verified = verify(onvif, &token).await;
    let user = match verified {
        Ok(user) => user,
        Err(VerifyError::InvalidCredentials) => {
            let users = onvif.app.hmp.users.current();
            let known = users.get(&token.username).map(|u| u.username.clone());
            failed(
                onvif,
                known.as_deref(),
                ip,
                "wrong credentials",
                &token.username,
            )
            .await;
            return Err(Fault::NotAuthorized(REFUSED.into()));
        }
        Err(VerifyError::Busy(_)) => {
            return Err(Fault::Receiver(
                "too many password checks at once; try again in a moment".into(),
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, user = %token.username, "an ONVIF login could not be checked");
            return Err(Fault::Receiver(
                "the credentials could not be checked; the device's log says why".into(),
            ));
        }
    };
    if let Some(nonce) = &token.nonce {
        // The digest covers the nonce and Created, so a replay carries both
        // unchanged. A text token without Created is recorded at now.
        let stamp = token.created.as_ref().map_or(now, |c| c.unix);
        let recorded = onvif.nonces.record(
            &user.username,
            &STANDARD.encode(nonce),
            u64::try_from(stamp).unwrap_or(0),
            u64::try_from(now).unwrap_or(0),
        );
        if let Err(e) = recorded {
            failed(onvif, None, ip, &e.to_string(), &user.username).await;
            return Err(Fault::NotAuthorized(format!("{REFUSED}: {e}")));
        }
    }
    lockout.succeeded(&user.username);
    Ok(user)
}

/// A digest needs its nonce and Created; any Created must be fresh.
fn check_shape(token: &UsernameToken, now: i64) -> Result<(), TokenError> {
    if matches!(token.password, Password::Digest(_)) {
        if token.nonce.is_none() {
            return Err(TokenError::Lacks("Nonce"));
        }
        if token.created.is_none() {
            return Err(TokenError::Lacks("Created"));
        }
    }
    match &token.created {
        Some(created) => token::check_fresh(created, now),
        None => Ok(()),
    }
}

async fn verify(onvif: &Onvif, token: &UsernameToken) -> Result<User, VerifyError> {
    match &token.password {
        Password::Digest(given) => {
            let nonce = token.nonce.as_deref().unwrap_or_default();
            let created = token.created.as_ref().map_or("", |c| c.text.as_str());
            onvif
                .app
                .hmp
                .users
                .current()
                .verify_digest(&token.username, |password| {
                    token::digest_matches(given, nonce, created, password)
                })
        }
        Password::Text(password) => {
            // argon2id takes ~20 ms: off the async workers.
            let users = Arc::clone(&onvif.app.hmp.users);
            let username = token.username.clone();
            let password = password.clone();
            tokio::task::spawn_blocking(move || users.verify(&username, &password))
                .await
                .unwrap_or(Err(VerifyError::InvalidCredentials))
        }
    }
}

/// A token refused for its shape: no password was checked, nothing is
/// counted against the user.
fn refuse_unchecked(e: &TokenError, peer: Option<Peer>) -> Fault {
    tracing::info!(error = %e, peer = %show(peer), "ONVIF request not authorised");
    match e {
        TokenError::Missing => Fault::NotAuthorized(
            "this operation needs a WS-Security UsernameToken (PasswordDigest, or PasswordText)"
                .into(),
        ),
        TokenError::TooOld(_) | TokenError::InFuture(_) => Fault::NotAuthorized(e.to_string()),
        _ => Fault::NotAuthorized(format!("{REFUSED}: {e}")),
    }
}

/// Counts a failure against the user (if one of that name exists) and the
/// address, and puts a lockout it causes on the event list.
async fn failed(onvif: &Onvif, known: Option<&str>, ip: Option<IpAddr>, why: &str, username: &str) {
    let peer = ip.map(Peer::of);
    let locks = onvif.app.hmp.lockout.failed(known, peer, Instant::now());
    tracing::info!(user = %username, peer = %show(peer), why, "ONVIF login failed");
    if locks.any() {
        log_lock(&locks);
        let command = Command::RecordLockout {
            username: locks.user.clone(),
            address: locks.address.and(ip),
        };
        let supervisor = onvif.app.supervisor.clone();
        let recorded = tokio::task::spawn_blocking(move || supervisor.call(command)).await;
        if !matches!(recorded, Ok(Ok(_))) {
            tracing::warn!("the lockout could not be put on the event list");
        }
    }
}

fn log_lock(locks: &NewLocks) {
    tracing::warn!(
        user = locks.user.as_deref().unwrap_or("-"),
        peer = %locks.address.map_or_else(|| "-".to_owned(), |p| p.to_string()),
        minutes = crate::hmp::lockout::LOCK.as_secs() / 60,
        "logins locked after repeated failures (ONVIF)"
    );
}

fn show(peer: Option<Peer>) -> String {
    peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
}
