//! `makarad serve --rtsp-login`: every RTSP output asks for a login of the
//! box's users. Basic takes a user's password (checked against its hash);
//! Digest, which needs the password itself, takes the users who have a
//! device login (`makarad user add --device-login`). Any role may watch.

use std::sync::Arc;

use makara_access::users::UserWatch;
use makara_rtsp::auth::ha1;
use makara_rtsp::Verifier;

/// The users as the RTSP servers' verifier; reads the current users on
/// every check, so a change is seen at the next login.
struct BoxUsers(Arc<UserWatch>);

impl Verifier for BoxUsers {
    fn check_password(&self, user: &str, password: &str) -> bool {
        self.0.current().verify(user, password).is_ok()
    }

    fn digest_ha1(&self, user: &str, realm: &str) -> Option<[u8; 16]> {
        match self.0.current().device_password(user) {
            Ok(Some(password)) => Some(ha1(user, realm, &password)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("RTSP login of {user}: the device login cannot be read: {e}");
                None
            }
        }
    }
}

/// Makes the RTSP outputs opened from now on require a login, when asked.
pub fn install(required: bool, users: &Arc<UserWatch>) {
    if required {
        makara_output::rtsp::set_login(Some(Arc::new(BoxUsers(Arc::clone(users)))));
        tracing::info!("RTSP outputs require a login of the box's users");
    }
}
