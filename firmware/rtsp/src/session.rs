//! One client connection's requests and answers (RFC 2326 §10, and its
//! Appendix A state machine): OPTIONS, DESCRIBE, SETUP of each track,
//! PLAY, PAUSE, TEARDOWN, and GET_PARAMETER / SET_PARAMETER as
//! keep-alives. A connection holds at most one session.
//!
//! The caller reads requests ([`crate::interleaved::parse`]), hands each
//! to [`Connection::handle`] with what the server knows now
//! ([`Context`]), writes the response, and acts on the [`Event`] that
//! comes with it (start sending to the client, stop, forget it).

use std::net::IpAddr;

use crate::auth::{self, AuthPolicy, Credentials};
use crate::request::{Method, Request, RequestError};
use crate::response::Response;
use crate::rtp::RtpStart;
use crate::sdp::{Description, Origin};
use crate::transport::{self, Transport};
use crate::uri::{self, Target};

/// The methods answered, for `Public`.
pub const PUBLIC: &str =
    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER";

/// A track of the stream, named in URIs as `trackID=0` and `trackID=1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackId {
    Video,
    Audio,
}

impl TrackId {
    pub fn number(self) -> u8 {
        match self {
            TrackId::Video => 0,
            TrackId::Audio => 1,
        }
    }

    fn from_number(n: u8) -> Option<TrackId> {
        match n {
            0 => Some(TrackId::Video),
            1 => Some(TrackId::Audio),
            _ => None,
        }
    }

    /// The `a=control` value, relative to the stream's URI.
    pub fn control(self) -> String {
        format!("trackID={}", self.number())
    }
}

/// What the server knows when a request arrives.
pub struct Context<'a> {
    /// The stream's path without its leading slash (`live`).
    pub path: &'a str,
    /// The stream's name for the SDP's `s=` line.
    pub title: &'a str,
    /// The tracks, once the first key frame and its parameter sets have
    /// been seen; `None` before.
    pub description: Option<&'a Description>,
    /// Why there is no description, for the 503 that says so.
    pub unavailable: &'a str,
    pub auth: &'a AuthPolicy,
    /// The server's RTP and RTCP ports, for UDP clients.
    pub server_ports: Option<(u16, u16)>,
    /// The media time now on the 90 kHz clock, which `RTP-Info` turns
    /// into each track's `rtptime`.
    pub media_time: u64,
    /// The address the client reached, for the SDP's `o=`.
    pub local_address: IpAddr,
    /// `o=` session id: NTP seconds when the output opened.
    pub sdp_session_id: u64,
    /// Session timeout the client is told, seconds.
    pub timeout_s: u32,
    /// Random numbers: session ids, SSRCs, sequence numbers, offsets.
    pub random: &'a mut dyn FnMut() -> u32,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("path", &self.path).finish()
    }
}

/// One track a client has set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayTrack {
    pub track: TrackId,
    pub transport: Transport,
    pub start: RtpStart,
    pub payload_type: u8,
    pub clock_rate: u32,
}

/// What the caller does after sending the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start sending these tracks (from the next key frame).
    Play { tracks: Vec<PlayTrack> },
    /// Stop sending, keep the session.
    Pause,
    /// Stop sending and forget the session.
    Teardown,
}

/// A request's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub response: Response,
    pub event: Option<Event>,
}

struct Session {
    id: String,
    tracks: Vec<PlayTrack>,
    playing: bool,
}

/// One client connection.
pub struct Connection {
    /// The Digest nonce of this connection.
    nonce: String,
    session: Option<Session>,
    /// The user the last accepted credentials named.
    user: Option<String>,
    /// The last `Authorization: Basic` value accepted, so that a client
    /// repeating it is not checked again (a password hash is slow on
    /// purpose).
    accepted_basic: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("session", &self.session.as_ref().map(|s| &s.id))
            .field("user", &self.user)
            .finish()
    }
}

impl Connection {
    /// A new connection with its Digest `nonce` (random, from the caller).
    pub fn new(nonce: String) -> Connection {
        Connection {
            nonce,
            session: None,
            user: None,
            accepted_basic: None,
        }
    }

    /// The user whose credentials were accepted, if any were asked.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The session id, once SETUP made one.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.id.as_str())
    }

    pub fn is_playing(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.playing)
    }

    /// Answers one request.
    pub fn handle(&mut self, request: &Request, ctx: &mut Context<'_>) -> Handled {
        let Some(cseq) = request.cseq().map(str::to_string) else {
            return answer(Response::new(400).because("the request has no CSeq header"));
        };
        let mut handled = self.dispatch(request, ctx);
        handled.response.headers.insert(0, ("CSeq".into(), cseq));
        handled.response.headers.push((
            "Server".into(),
            format!("Makara/{}", env!("CARGO_PKG_VERSION")),
        ));
        handled
    }

    fn dispatch(&mut self, request: &Request, ctx: &mut Context<'_>) -> Handled {
        match &request.method {
            Method::Options => return answer(Response::new(200).header("Public", PUBLIC)),
            Method::NotAllowed(_) => {
                return answer(Response::new(405).header("Allow", PUBLIC));
            }
            Method::Other(_) => return answer(Response::new(501).header("Public", PUBLIC)),
            _ => {}
        }
        if let Some(refused) = self.authenticate(request, ctx.auth) {
            return answer(refused);
        }
        let target = match uri::split(&request.uri) {
            Some((_, path)) => uri::target(path, ctx.path),
            None => Target::Elsewhere,
        };
        if target == Target::Elsewhere {
            return answer(Response::new(404).because(&format!(
                "no stream at {}; this server serves /{}",
                request.uri,
                ctx.path.trim_matches('/')
            )));
        }
        match request.method {
            Method::Describe => describe(request, ctx),
            Method::Setup => self.setup(request, target, ctx),
            Method::Play => self.play(request, ctx),
            Method::Pause => self.pause(request),
            Method::Teardown => self.teardown(request),
            Method::GetParameter | Method::SetParameter => self.keep_alive(request),
            _ => answer(Response::new(501)),
        }
    }

    /// Whether the request's credentials, when a login is required, are
    /// accepted: a caller that holds requests back (waiting for the
    /// stream) need not hold one that will be refused.
    pub fn admits(&mut self, request: &Request, auth: &AuthPolicy) -> bool {
        request.method == Method::Options || self.authenticate(request, auth).is_none()
    }

    /// `None` when the request may go on; else the 401 to send.
    fn authenticate(&mut self, request: &Request, auth: &AuthPolicy) -> Option<Response> {
        let AuthPolicy::Required { realm, verifier } = auth else {
            return None;
        };
        let header = request.header("Authorization");
        if header.is_some() && header == self.accepted_basic.as_deref() {
            return None;
        }
        let credentials = header.and_then(Credentials::parse);
        let accepted = credentials.as_ref().is_some_and(|c| {
            auth::verify(
                c,
                request.method.as_str(),
                realm,
                &self.nonce,
                verifier.as_ref(),
            )
        });
        match (accepted, credentials) {
            (true, Some(credentials)) => {
                if matches!(credentials, Credentials::Basic { .. }) {
                    self.accepted_basic = header.map(str::to_string);
                }
                self.user = Some(credentials.user().to_string());
                None
            }
            _ => {
                let [digest, basic] = auth::challenges(realm, &self.nonce);
                let why = match header {
                    None => "this stream needs a user name and password",
                    Some(_) => "the user name or password is not accepted",
                };
                Some(
                    Response::new(401)
                        .header("WWW-Authenticate", digest)
                        .header("WWW-Authenticate", basic)
                        .because(why),
                )
            }
        }
    }

    fn setup(&mut self, request: &Request, target: Target, ctx: &mut Context<'_>) -> Handled {
        let Some(description) = ctx.description else {
            return unavailable(ctx);
        };
        let track = match target {
            Target::Track(n) => TrackId::from_number(n).filter(|t| description.has(*t)),
            // A stream of one track may be set up by its own URI.
            _ => match description.tracks().as_slice() {
                [only] => Some(*only),
                _ => None,
            },
        };
        let Some(track) = track else {
            return answer(Response::new(404).because(&format!("no track at {}", request.uri)));
        };
        if let Err(refused) = self.check_session(request, false) {
            return answer(refused);
        }
        if self.is_playing() {
            return answer(
                Response::new(455).because("SETUP while playing: PAUSE or TEARDOWN first"),
            );
        }
        let header = request.header("Transport").unwrap_or_default();
        let Some(transport) = transport::choose(header, track.number() * 2) else {
            return answer(
                Response::new(461)
                    .because("only unicast RTP/AVP over UDP (client_port) or RTP/AVP/TCP (interleaved) is served"),
            );
        };
        let (clock_rate, payload_type) = description.clock(track).unwrap_or((90_000, 96));
        let random = &mut *ctx.random;
        let start = RtpStart {
            ssrc: random(),
            sequence: random() as u16,
            timestamp_offset: random(),
        };
        let session = self.session.get_or_insert_with(|| Session {
            id: format!("{:08X}{:08X}", random(), random()),
            tracks: Vec::new(),
            playing: false,
        });
        session.tracks.retain(|t| t.track != track);
        session.tracks.push(PlayTrack {
            track,
            transport,
            start,
            payload_type,
            clock_rate,
        });
        let reply = transport::reply(transport, ctx.server_ports, start.ssrc);
        let session_header = format!("{};timeout={}", session.id, ctx.timeout_s);
        answer(
            Response::new(200)
                .header("Transport", reply)
                .header("Session", session_header),
        )
    }

    fn play(&mut self, request: &Request, ctx: &mut Context<'_>) -> Handled {
        if let Err(refused) = self.check_session(request, true) {
            return answer(refused);
        }
        if ctx.description.is_none() {
            return unavailable(ctx);
        }
        let base = track_base(&request.uri, ctx.path);
        let Some(session) = self.session.as_mut() else {
            return answer(Response::new(455));
        };
        let rtp_info: Vec<String> = session
            .tracks
            .iter()
            .map(|t| {
                let stream = crate::rtp::RtpStream::new(t.start, t.payload_type, t.clock_rate);
                format!(
                    "url={base}{};seq={};rtptime={}",
                    t.track.control(),
                    t.start.sequence,
                    stream.timestamp(ctx.media_time)
                )
            })
            .collect();
        let response = Response::new(200)
            .header("Range", "npt=now-")
            .header("RTP-Info", rtp_info.join(","))
            .header(
                "Session",
                format!("{};timeout={}", session.id, ctx.timeout_s),
            );
        let event = (!session.playing).then(|| Event::Play {
            tracks: session.tracks.clone(),
        });
        session.playing = true;
        Handled { response, event }
    }

    fn pause(&mut self, request: &Request) -> Handled {
        if let Err(refused) = self.check_session(request, true) {
            return answer(refused);
        }
        let Some(session) = self.session.as_mut() else {
            return answer(Response::new(455));
        };
        let event = session.playing.then_some(Event::Pause);
        session.playing = false;
        let response = Response::new(200).header("Session", session.id.clone());
        Handled { response, event }
    }

    fn teardown(&mut self, request: &Request) -> Handled {
        if let Err(refused) = self.check_session(request, true) {
            return answer(refused);
        }
        self.session = None;
        Handled {
            response: Response::new(200),
            event: Some(Event::Teardown),
        }
    }

    fn keep_alive(&mut self, request: &Request) -> Handled {
        if let Err(refused) = self.check_session(request, false) {
            return answer(refused);
        }
        if request.method == Method::SetParameter && !request.body.is_empty() {
            return answer(Response::new(451).because("no parameter can be set"));
        }
        let mut response = Response::new(200);
        if let Some(session) = &self.session {
            response = response.header("Session", session.id.clone());
        }
        answer(response)
    }

    /// The request's `Session` must name this connection's session: a
    /// request that needs one when there is none is out of order (455);
    /// one naming another session, or none when one is needed, is 454.
    fn check_session(&self, request: &Request, needed: bool) -> Result<(), Response> {
        let named = request
            .header("Session")
            .map(|s| s.split(';').next().unwrap_or_default().trim());
        match (&self.session, named) {
            (None, _) if needed => {
                Err(Response::new(455)
                    .because(&format!("{} before SETUP", request.method.as_str())))
            }
            (None, Some(id)) => Err(not_found(id)),
            (Some(session), Some(id)) if id != session.id => Err(not_found(id)),
            (Some(_), None) if needed => {
                Err(Response::new(454).because("the request names no session"))
            }
            _ => Ok(()),
        }
    }
}

fn not_found(id: &str) -> Response {
    Response::new(454).because(&format!("no session {id} on this connection"))
}

fn describe(request: &Request, ctx: &Context<'_>) -> Handled {
    let Some(description) = ctx.description else {
        return unavailable(ctx);
    };
    let sdp = description.sdp(&Origin {
        address: ctx.local_address,
        session_id: ctx.sdp_session_id,
        name: ctx.title,
    });
    answer(
        Response::new(200)
            .header("Content-Base", track_base(&request.uri, ctx.path))
            .body("application/sdp", sdp),
    )
}

fn unavailable(ctx: &Context<'_>) -> Handled {
    answer(Response::new(503).because(ctx.unavailable))
}

/// `rtsp://host:port/path/`: what a track's control is relative to.
fn track_base(request_uri: &str, path: &str) -> String {
    let base = uri::split(request_uri).map(|(b, _)| b).unwrap_or_default();
    format!("{base}/{}/", path.trim_matches('/'))
}

fn answer(response: Response) -> Handled {
    Handled {
        response,
        event: None,
    }
}

/// The answer to bytes that are not a request; the connection closes
/// after it.
pub fn malformed(error: &RequestError) -> Response {
    Response::new(error.status()).because(&error.to_string())
}

#[cfg(test)]
mod tests;
