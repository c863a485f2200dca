//! An RTSP output's settings, resolved from its configuration, and the
//! box-wide login rule every RTSP output follows.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use makara_config::{OutputConfig, OutputKind};
use makara_rtsp::{AuthPolicy, Verifier};

use super::RtspError;

/// The realm of the Basic and Digest challenges.
pub const REALM: &str = "Makara";

/// Where the box's users come from when RTSP needs a login; `None` while
/// RTSP is open to anyone who reaches the port.
static LOGIN: Mutex<Option<Arc<dyn Verifier>>> = Mutex::new(None);

/// Makes every RTSP output opened from now on require a login checked by
/// `verifier` (the box's users), or none with `None`. The appliance sets
/// it once at start, from its `--rtsp-login` option.
pub fn set_login(verifier: Option<Arc<dyn Verifier>>) {
    *LOGIN.lock().unwrap_or_else(|e| e.into_inner()) = verifier;
}

fn login() -> AuthPolicy {
    match LOGIN.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        Some(verifier) => AuthPolicy::Required {
            realm: REALM.into(),
            verifier,
        },
        None => AuthPolicy::Open,
    }
}

/// An RTSP output as it serves.
#[derive(Debug, Clone)]
pub struct RtspSettings {
    /// The output's name, as logs and errors say it.
    pub name: String,
    pub bind: IpAddr,
    /// 0 lets the system choose (tests).
    pub port: u16,
    /// The stream's path without the leading '/'.
    pub path: String,
    pub auth: AuthPolicy,
    /// The output's `tos`, on every packet it sends.
    pub tos: u8,
    /// The output's `ttl` (IPv4 TTL, IPv6 hop limit), likewise.
    pub ttl: u8,
}

/// Two settings are equal when they serve the same thing the same way;
/// the verifier behind a login is the box's, not the output's.
impl PartialEq for RtspSettings {
    fn eq(&self, other: &RtspSettings) -> bool {
        let login = |s: &RtspSettings| matches!(s.auth, AuthPolicy::Required { .. });
        (
            &self.name,
            self.bind,
            self.port,
            &self.path,
            self.tos,
            self.ttl,
            login(self),
        ) == (
            &other.name,
            other.bind,
            other.port,
            &other.path,
            other.tos,
            other.ttl,
            login(other),
        )
    }
}

impl Eq for RtspSettings {}

impl RtspSettings {
    pub fn from_output(output: &OutputConfig) -> Result<RtspSettings, RtspError> {
        let OutputKind::Rtsp { url } = &output.kind else {
            return Err(RtspError::NotRtsp {
                output: output.name.clone(),
            });
        };
        Ok(RtspSettings {
            name: output.name.clone(),
            bind: url.bind(),
            port: url.port(),
            path: url.path().to_string(),
            auth: login(),
            tos: output.tos,
            ttl: output.ttl,
        })
    }

    /// `rtsp://0.0.0.0:8554/live`, as the configuration wrote it.
    pub fn endpoint(&self) -> String {
        self.endpoint_with_port(self.port)
    }

    pub(crate) fn endpoint_with_port(&self, port: u16) -> String {
        match self.bind {
            IpAddr::V6(v6) => format!("rtsp://[{v6}]:{port}/{}", self.path),
            IpAddr::V4(v4) => format!("rtsp://{v4}:{port}/{}", self.path),
        }
    }
}
