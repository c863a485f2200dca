//! A minimal ONVIF Profile S device over plain HTTP, so that a video
//! management system finds the box's streams the way it finds a camera's:
//! the device service (`/onvif/device_service`) and the media service
//! (`/onvif/media_service`), SOAP 1.2, each request authenticated by a
//! WS-Security UsernameToken of one of the box's users ([`auth`]).
//!
//! The profiles are the configuration's RTSP outputs ([`profiles`]); a
//! profile's stream URI is its RTSP output's. Answers are built from the
//! supervisor's published snapshot, like every other read of the API.
//!
//! A request's life: path and method, the body (bounded in size, time and
//! the API's shared body budget), the envelope ([`soap`]), then, for all
//! but GetSystemDateAndTime, the token, then the operation. Every problem
//! is a SOAP 1.2 fault with ONVIF's subcodes ([`fault`]).

mod auth;
mod device;
mod fault;
mod media;
mod profiles;
pub(crate) mod soap;
mod time;
mod token;
pub(crate) mod write;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use makara_supervisor::{Command, Kind, Reply};

pub use device::{scopes, DeviceFacts, MANUFACTURER, MODEL};
pub use fault::Fault;

use crate::body::BodyLimits;
use crate::handler::{App, Authenticated};
use crate::oauth::NonceCache;
use crate::server::LocalAddr;

/// The device service's namespace (ONVIF Device Management ver10).
pub const DEVICE_NS: &str = "http://www.onvif.org/ver10/device/wsdl";
/// The media service's (ONVIF Media ver10).
pub const MEDIA_NS: &str = "http://www.onvif.org/ver10/media/wsdl";
/// The paths the services answer at.
pub const DEVICE_PATH: &str = "/onvif/device_service";
pub const MEDIA_PATH: &str = "/onvif/media_service";

/// The largest request taken: a token and an operation are under 2 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const LIMITS: BodyLimits = BodyLimits {
    max_bytes: MAX_BODY_BYTES,
    budget_wait: crate::body::BUDGET_WAIT,
    timeout: crate::body::BODY_TIMEOUT,
};
/// Nonces remembered per user: far more than a VMS polling a few
/// requests a second sends in a token's lifetime (10 minutes).
const NONCES_PER_USER: usize = 20_000;
/// How long a token's Created is accepted either way, and so how long its
/// nonce is remembered.
const NONCE_WINDOW_SECS: u64 = token::MAX_AGE_SECS as u64;

/// What the ONVIF service keeps between requests.
#[derive(Debug)]
pub struct Onvif {
    app: Arc<App>,
    nonces: NonceCache,
}

impl Onvif {
    pub fn new(app: Arc<App>) -> Onvif {
        Onvif {
            app,
            nonces: NonceCache::with_capacity_per_key(NONCE_WINDOW_SECS, NONCES_PER_USER),
        }
    }

    /// What the device says about itself now: firmware version and host
    /// name from the supervisor, the server id as serial number.
    pub async fn facts(&self) -> Result<DeviceFacts, Fault> {
        let system = match call(&self.app, Command::System).await? {
            Reply::System(s) => s,
            _ => return Err(unexpected()),
        };
        Ok(DeviceFacts {
            firmware: system.version,
            hostname: system.hostname,
            serial: self.app.server_id.clone(),
            hardware: std::env::consts::ARCH.to_owned(),
        })
    }
}

/// The axum router of the ONVIF listener.
pub fn router(onvif: Arc<Onvif>) -> Router {
    Router::new().fallback(handle).with_state(onvif)
}

/// Answers one request. Never fails: every problem is a fault (or a 404
/// or 405 outside the services).
pub async fn handle(State(onvif): State<Arc<Onvif>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    if path != DEVICE_PATH && path != MEDIA_PATH {
        crate::body::drain(body);
        return plain(
            StatusCode::NOT_FOUND,
            "ONVIF services are at /onvif/device_service and /onvif/media_service\n",
        );
    }
    if parts.method != axum::http::Method::POST {
        crate::body::drain(body);
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "ONVIF requests are SOAP POSTs\n",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let mut proven = false;
    let answer = answer(&onvif, &parts, body, &mut proven).await;
    let mut response = match answer {
        Ok(xml) => soap_response(StatusCode::OK, xml),
        Err(fault) => {
            let status =
                StatusCode::from_u16(fault.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            soap_response(status, fault.to_xml())
        }
    };
    if proven {
        response.extensions_mut().insert(Authenticated);
    }
    response
}

async fn answer(
    onvif: &Onvif,
    parts: &Parts,
    body: Body,
    proven: &mut bool,
) -> Result<String, Fault> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(is_soap) {
        crate::body::drain(body);
        return Err(Fault::Malformed(
            "a request must be SOAP 1.2: Content-Type application/soap+xml".into(),
        ));
    }
    let body = onvif
        .app
        .bodies
        .read(body, &LIMITS)
        .await
        .map_err(|e| match e {
            crate::body::BodyError::Busy => Fault::Receiver(e.to_string()),
            e => Fault::Malformed(e.to_string()),
        })?;
    let envelope = soap::envelope(&body.bytes).map_err(|e| match e {
        soap::SoapError::NotEnvelope { ref ns, .. } if ns == soap::ENV_1_1 => {
            Fault::VersionMismatch
        }
        e => Fault::Malformed(format!("the request is not a SOAP 1.2 message: {e}")),
    })?;
    let op = &envelope.operation;
    if op.is(DEVICE_NS, "GetSystemDateAndTime") {
        return Ok(device::system_date_and_time(time::now_unix()));
    }
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    auth::authorize(onvif, envelope.header.as_ref(), ip).await?;
    *proven = true;
    let reached = Reached::of(parts);
    match op.ns.as_str() {
        DEVICE_NS => device_operation(onvif, op, &reached).await,
        MEDIA_NS => media_operation(onvif, op, &reached).await,
        _ => Err(not_supported(op)),
    }
}

async fn device_operation(
    onvif: &Onvif,
    op: &soap::Node,
    reached: &Reached,
) -> Result<String, Fault> {
    match op.name.as_str() {
        "GetDeviceInformation" => Ok(device::device_information(&onvif.facts().await?)),
        "GetHostname" => Ok(device::hostname(&onvif.facts().await?)),
        "GetScopes" => Ok(device::get_scopes(&onvif.facts().await?)),
        "GetCapabilities" => device::capabilities(op, &reached.base),
        "GetServices" => {
            let count = current_profiles(&onvif.app).await?.len();
            Ok(device::services(op, &reached.base, count))
        }
        "GetServiceCapabilities" => Ok(device::service_capabilities()),
        _ => Err(not_supported(op)),
    }
}

async fn media_operation(
    onvif: &Onvif,
    op: &soap::Node,
    reached: &Reached,
) -> Result<String, Fault> {
    let known = [
        "GetProfiles",
        "GetProfile",
        "GetStreamUri",
        "GetVideoSources",
        "GetVideoEncoderConfigurations",
        "GetAudioEncoderConfigurations",
        "GetServiceCapabilities",
    ];
    if !known.contains(&op.name.as_str()) {
        return Err(not_supported(op));
    }
    let profiles = current_profiles(&onvif.app).await?;
    match op.name.as_str() {
        "GetProfiles" => Ok(media::get_profiles(&profiles)),
        "GetProfile" => media::get_profile(&profiles, op),
        "GetStreamUri" => media::stream_uri(&profiles, op, &reached.host),
        "GetVideoSources" => Ok(media::video_sources(&profiles)),
        "GetVideoEncoderConfigurations" => Ok(media::video_encoder_configurations(&profiles)),
        "GetAudioEncoderConfigurations" => Ok(media::audio_encoder_configurations(&profiles)),
        _ => Ok(media::service_capabilities(profiles.len())),
    }
}

fn not_supported(op: &soap::Node) -> Fault {
    let name: String = op.name.chars().take(64).collect();
    Fault::ActionNotSupported(format!(
        "{name} is not served: this device implements ONVIF Profile S's device and media basics only"
    ))
}

/// The profiles as the configuration has them now.
async fn current_profiles(app: &App) -> Result<Vec<profiles::Profile>, Fault> {
    let outputs = match call(app, Command::List(Kind::Output)).await? {
        Reply::Outputs(o) => o,
        _ => return Err(unexpected()),
    };
    let streams = match call(app, Command::List(Kind::Stream)).await? {
        Reply::Streams(s) => s,
        _ => return Err(unexpected()),
    };
    let transcoders = match call(app, Command::List(Kind::Transcoder)).await? {
        Reply::Transcoders(t) => t,
        _ => return Err(unexpected()),
    };
    Ok(profiles::profiles(&outputs, &streams, &transcoders))
}

async fn call(app: &App, command: Command) -> Result<Reply, Fault> {
    let supervisor = app.supervisor.clone();
    match tokio::task::spawn_blocking(move || supervisor.call(command)).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(Fault::Receiver(format!("the device could not answer: {e}"))),
        Err(_) => Err(Fault::Receiver("the device could not answer".into())),
    }
}

fn unexpected() -> Fault {
    Fault::Receiver("the device could not answer: unexpected reply".into())
}

/// How the client reached the device: the host for stream URIs and the
/// base of service addresses, from the `Host` header when it is a plain
/// host[:port], else from the connection's own address.
struct Reached {
    /// Host name or address, IPv6 without brackets.
    host: String,
    /// `http://host[:port]`.
    base: String,
}

impl Reached {
    fn of(parts: &Parts) -> Reached {
        let local = parts.extensions.get::<LocalAddr>().map(|l| l.0);
        let header = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(host_of);
        match (header, local) {
            (Some((host, authority)), _) => Reached {
                host,
                base: format!("http://{authority}"),
            },
            (None, Some(local)) => Reached {
                host: local.ip().to_string(),
                base: format!("http://{local}"),
            },
            (None, None) => Reached {
                host: "127.0.0.1".into(),
                base: "http://127.0.0.1".into(),
            },
        }
    }
}

/// The host of a `Host` header and the header itself, if it is a host
/// name or address with an optional port and nothing else.
fn host_of(header: &str) -> Option<(String, String)> {
    let header = header.trim();
    if header.is_empty() || header.len() > 255 {
        return None;
    }
    let (host, port) = match header.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            v6.parse::<std::net::Ipv6Addr>().ok()?;
            (v6, after.strip_prefix(':'))
        }
        None => match header.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (header, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return None;
    }
    let name_ok = !host.is_empty()
        && (host.parse::<IpAddr>().is_ok()
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    name_ok.then(|| (host.to_owned(), header.to_owned()))
}

/// `application/soap+xml` (SOAP 1.2), or the XML types some clients send.
fn is_soap(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    ["application/soap+xml", "text/xml", "application/xml"]
        .iter()
        .any(|t| media.eq_ignore_ascii_case(t))
}

fn soap_response(status: StatusCode, xml: String) -> Response {
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/soap+xml; charset=utf-8"),
    );
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_gives_the_host_reached_when_it_is_plain() {
        assert_eq!(
            host_of("192.0.2.1:8080"),
            Some(("192.0.2.1".into(), "192.0.2.1:8080".into()))
        );
        assert_eq!(
            host_of("[2001:db8::1]:80"),
            Some(("2001:db8::1".into(), "[2001:db8::1]:80".into()))
        );
        assert_eq!(
            host_of("box.local"),
            Some(("box.local".into(), "box.local".into()))
        );
        for bad in ["", "a b", "h:port", "h/x", "[zz]:1", "evil\"><x", "h:1:2"] {
            assert_eq!(host_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn soap_content_types_are_accepted_with_parameters() {
        assert!(is_soap("application/soap+xml; charset=utf-8; action=\"x\""));
        assert!(is_soap("text/xml"));
        assert!(!is_soap("application/json"));
    }
}
