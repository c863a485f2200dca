//! The output's server thread: accepts RTSP connections, answers their
//! requests through `makara_rtsp`'s state machine, writes what TCP
//! clients have queued, reads what UDP clients report, and lets go of
//! clients that leave, go quiet or cannot keep up. All sockets are
//! non-blocking; the thread sleeps at most [`TICK`] between rounds, so a
//! stop is seen promptly.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use makara_rtsp::interleaved::{self, Incoming};
use makara_rtsp::session::malformed;
use makara_rtsp::{
    rtcp, AuthPolicy, Connection, Context, Event, Method, Request, Response, Transport,
};

use super::clients::{lock, Delivery, FrameQueue, Shared, Subscriber};

/// The longest sleep between two rounds.
const TICK: Duration = Duration::from_millis(10);
/// Clients one output serves at once; more are answered 503.
pub const MAX_CLIENTS: usize = 16;
/// Connections beyond [`MAX_CLIENTS`] kept just long enough to be told
/// why; more than this are closed at once.
const MAX_REFUSING: usize = 4;
/// A session (or a connection without one) that sends nothing, neither a
/// request nor RTCP, for this long is closed; clients are told it.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long DESCRIBE, SETUP or PLAY wait for the stream's first key frame
/// before they are answered 503.
pub const DESCRIBE_WAIT: Duration = Duration::from_secs(2);
/// A TCP client that takes none of its waiting bytes for this long is
/// closed.
const STALL_LIMIT: Duration = Duration::from_secs(10);
/// Wrong credentials one connection may send before it is closed (each
/// Basic check costs a password hash).
const MAX_FAILED_LOGINS: u32 = 5;
/// Bytes moved from a client's queue to its socket per round.
const WRITE_CHUNK: usize = 256 * 1024;
/// The most a client's unanswered bytes may hold (a request being
/// written, or several pipelined).
const READ_LIMIT: usize = 32 * 1024;

/// What the server needs besides the shared state.
pub(crate) struct Server {
    pub listener: TcpListener,
    pub shared: Arc<Shared>,
    pub path: String,
    pub auth: AuthPolicy,
    pub stop: Arc<AtomicBool>,
    pub sdp_session_id: u64,
    /// The output's `tos` and `ttl`, set on every connection.
    pub tos: u8,
    pub ttl: u8,
    pub connections: Vec<Client>,
    pub next_id: u64,
}

/// One connection.
pub(crate) struct Client {
    id: u64,
    stream: TcpStream,
    peer: SocketAddr,
    local: IpAddr,
    rtsp: Connection,
    read: Vec<u8>,
    write: Vec<u8>,
    /// When the client last sent a request or RTCP.
    heard: Instant,
    /// Since when a request waits for the stream's first key frame.
    waiting_since: Option<Instant>,
    /// Its RTP over TCP, while it plays interleaved.
    queue: Option<Arc<FrameQueue>>,
    /// The client's RTCP ports, while it plays over UDP.
    rtcp_ports: Vec<u16>,
    playing: Option<&'static str>,
    /// Over capacity: every request is answered 503.
    refused: bool,
    /// Why it is closing, once it is; it closes when its bytes are out.
    closing: Option<String>,
    /// Since when its waiting bytes have not moved.
    stalled: Option<Instant>,
    /// Requests whose credentials were refused.
    failed_logins: u32,
}

impl Server {
    pub fn run(mut self) {
        while !self.stop.load(Ordering::Relaxed) {
            self.accept();
            let now = Instant::now();
            let mut connections = std::mem::take(&mut self.connections);
            for client in &mut connections {
                self.serve(client, now);
            }
            self.connections = connections;
            self.read_rtcp(now);
            self.reap(now);
            self.shared.wake.wait(TICK);
        }
        for client in std::mem::take(&mut self.connections) {
            self.shared.remove(client.id);
        }
    }

    fn accept(&mut self) {
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    tracing::warn!(output = %self.shared.name, "RTSP connection not accepted: {e}");
                    return;
                }
            };
            let serving = self.connections.iter().filter(|c| !c.refused).count();
            let refused = serving >= MAX_CLIENTS;
            if refused {
                tracing::warn!(output = %self.shared.name,
                    "RTSP client {peer} refused: {MAX_CLIENTS} clients are connected already");
                let refusing = self.connections.len() - serving;
                if refusing >= MAX_REFUSING {
                    continue; // dropping it closes it
                }
            } else {
                tracing::info!(output = %self.shared.name, "RTSP client {peer} connected");
            }
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let sock = socket2::SockRef::from(&stream);
            if peer.is_ipv4() {
                let _ = sock.set_tos_v4(u32::from(self.tos));
                let _ = sock.set_ttl_v4(u32::from(self.ttl));
            } else {
                let _ = sock.set_unicast_hops_v6(u32::from(self.ttl));
            }
            let local = stream
                .local_addr()
                .map(|a| a.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            self.next_id += 1;
            self.connections.push(Client {
                id: self.next_id,
                stream,
                peer,
                local,
                rtsp: Connection::new(format!(
                    "{:08x}{:08x}",
                    rand::random::<u32>(),
                    rand::random::<u32>()
                )),
                read: Vec::new(),
                write: Vec::new(),
                heard: Instant::now(),
                waiting_since: None,
                queue: None,
                rtcp_ports: Vec::new(),
                playing: None,
                refused,
                closing: None,
                stalled: None,
                failed_logins: 0,
            });
        }
    }

    fn serve(&self, client: &mut Client, now: Instant) {
        if client.closing.is_none() {
            client.receive();
            self.answer(client, now);
        }
        client.send(now);
    }

    /// Answers every whole request the client has sent, in order; a
    /// request that must wait for the stream's first key frame holds the
    /// ones behind it.
    fn answer(&self, client: &mut Client, now: Instant) {
        while client.closing.is_none() {
            let (incoming, used) = match interleaved::parse(&client.read) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => return,
                Err(error) => {
                    malformed(&error).write(&mut client.write);
                    client.close(format!("sent a malformed request ({error})"));
                    return;
                }
            };
            let request = match incoming {
                Incoming::Frame { .. } => {
                    // RTCP from an interleaved client: it is alive.
                    client.heard = now;
                    client.read.drain(..used);
                    continue;
                }
                Incoming::Request(request) => request,
            };
            if self.must_wait(client, &request, now) {
                return;
            }
            client.read.drain(..used);
            client.heard = now;
            client.waiting_since = None;
            self.handle(client, &request, now);
        }
    }

    fn must_wait(&self, client: &mut Client, request: &Request, now: Instant) -> bool {
        let needs_tracks = matches!(
            request.method,
            Method::Describe | Method::Setup | Method::Play
        );
        if !needs_tracks || client.refused || lock(&self.shared.published).description.is_some() {
            return false;
        }
        // A request that will be refused is answered at once.
        if !client.rtsp.admits(request, &self.auth) {
            return false;
        }
        let since = *client.waiting_since.get_or_insert(now);
        now.duration_since(since) < DESCRIBE_WAIT
    }

    fn handle(&self, client: &mut Client, request: &Request, now: Instant) {
        if client.refused {
            let refusal = Response::new(503)
                .header("CSeq", request.cseq().unwrap_or("0"))
                .because(&format!(
                    "this stream serves {MAX_CLIENTS} clients at once; try again later"
                ));
            refusal.write(&mut client.write);
            client.close("refused: too many clients".into());
            return;
        }
        let (description, unavailable, media_time) = {
            let published = lock(&self.shared.published);
            (
                published.description.clone(),
                published.unavailable.clone(),
                published.media_time(now),
            )
        };
        let mut random = rand::random::<u32>;
        let mut ctx = Context {
            path: &self.path,
            title: &self.shared.name,
            description: description.as_ref(),
            unavailable: &unavailable,
            auth: &self.auth,
            server_ports: self.shared.udp.ports(),
            media_time,
            local_address: client.local,
            sdp_session_id: self.sdp_session_id,
            timeout_s: SESSION_TIMEOUT.as_secs() as u32,
            random: &mut random,
        };
        let handled = client.rtsp.handle(request, &mut ctx);
        if handled.response.status >= 400 {
            tracing::info!(output = %self.shared.name, "RTSP client {}: {} {} answered {}",
                client.peer, request.method.as_str(), request.uri, handled.response.status);
        }
        handled.response.write(&mut client.write);
        if handled.response.status == 401 && request.header("Authorization").is_some() {
            client.failed_logins += 1;
            tracing::warn!(output = %self.shared.name,
                "RTSP client {}: login refused ({} of {MAX_FAILED_LOGINS})", client.peer, client.failed_logins);
            if client.failed_logins >= MAX_FAILED_LOGINS {
                client.close(format!("closed after {MAX_FAILED_LOGINS} refused logins"));
            }
        }
        match handled.event {
            Some(Event::Play { tracks }) => self.play(client, &tracks),
            Some(Event::Pause) => self.stop_playing(client, "paused"),
            Some(Event::Teardown) => self.stop_playing(client, "tore the session down"),
            None => {}
        }
    }

    fn play(&self, client: &mut Client, tracks: &[makara_rtsp::PlayTrack]) {
        let interleaved = tracks
            .iter()
            .any(|t| matches!(t.transport, Transport::Interleaved { .. }));
        let delivery = match interleaved {
            true => {
                let queue = Arc::clone(client.queue.get_or_insert_with(Default::default));
                Delivery::Tcp(queue)
            }
            false => Delivery::Udp {
                client: client.peer.ip(),
            },
        };
        client.rtcp_ports = tracks
            .iter()
            .filter_map(|t| match t.transport {
                Transport::Udp { rtcp_port, .. } => Some(rtcp_port),
                Transport::Interleaved { .. } => None,
            })
            .collect();
        let how = if interleaved {
            "RTP over TCP (interleaved)"
        } else {
            "RTP over UDP"
        };
        client.playing = Some(how);
        self.shared
            .add(Subscriber::new(client.id, delivery, tracks));
        let user = client
            .rtsp
            .user()
            .map(|u| format!(" as {u}"))
            .unwrap_or_default();
        tracing::info!(output = %self.shared.name,
            "RTSP client {}{user} playing {} track(s) over {how}", client.peer, tracks.len());
    }

    fn stop_playing(&self, client: &mut Client, why: &str) {
        if client.playing.take().is_some() {
            let dropped = self.shared.remove(client.id).unwrap_or(0);
            tracing::info!(output = %self.shared.name,
                "RTSP client {} {why}; {dropped} packets were dropped for it", client.peer);
        }
        client.rtcp_ports.clear();
    }

    /// Receiver reports from UDP clients keep their sessions alive; a BYE
    /// ends one. Anything else on the two sockets (NAT probes) is read
    /// and dropped.
    fn read_rtcp(&mut self, now: Instant) {
        let mut buf = [0u8; 2048];
        for _ in 0..64 {
            let Ok((n, from)) = self.shared.udp.rtcp.recv_from(&mut buf) else {
                break;
            };
            let Some(report) = rtcp::parse_client(&buf[..n]) else {
                continue;
            };
            let sender = self
                .connections
                .iter_mut()
                .find(|c| c.peer.ip() == from.ip() && c.rtcp_ports.contains(&from.port()));
            if let Some(client) = sender {
                client.heard = now;
                if report.bye {
                    client.close("sent RTCP BYE".into());
                }
            }
        }
        for _ in 0..64 {
            if self.shared.udp.rtp.recv_from(&mut buf).is_err() {
                break;
            }
        }
    }

    /// Closes quiet clients and forgets closed ones.
    fn reap(&mut self, now: Instant) {
        for client in &mut self.connections {
            let interleaved = client.queue.is_some() && client.playing.is_some();
            // An interleaved client is as alive as its connection.
            if !interleaved
                && client.closing.is_none()
                && now.duration_since(client.heard) >= SESSION_TIMEOUT
            {
                client.close(format!(
                    "timed out: no request or RTCP for {} s",
                    SESSION_TIMEOUT.as_secs()
                ));
            }
        }
        let shared = Arc::clone(&self.shared);
        self.connections.retain(|client| {
            let Some(why) = &client.closing else {
                return true;
            };
            if !client.write.is_empty() && client.stalled.is_none_or(|s| now.duration_since(s) < Duration::from_secs(1)) {
                return true; // the last answer is still going out
            }
            let dropped = shared.remove(client.id);
            if !client.refused {
                let dropped = dropped.map(|d| format!("; {d} packets were dropped for it")).unwrap_or_default();
                tracing::info!(output = %shared.name, "RTSP client {} left: {why}{dropped}", client.peer);
            }
            false
        });
    }
}

impl Client {
    fn close(&mut self, why: String) {
        if self.closing.is_none() {
            self.closing = Some(why);
            self.queue = None;
        }
    }

    fn receive(&mut self) {
        let mut buf = [0u8; 4096];
        while self.read.len() < READ_LIMIT {
            match self.stream.read(&mut buf) {
                Ok(0) => return self.close("closed the connection".into()),
                Ok(n) => self.read.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return self.close(format!("connection failed: {e}")),
            }
        }
    }

    /// Writes answers and queued packets until the socket takes no more.
    fn send(&mut self, now: Instant) {
        loop {
            if self.write.is_empty() {
                if let Some(queue) = &self.queue {
                    queue.drain_into(&mut self.write, WRITE_CHUNK);
                }
            }
            if self.write.is_empty() {
                self.stalled = None;
                return;
            }
            match self.stream.write(&self.write) {
                Ok(0) => return self.close("closed the connection".into()),
                Ok(n) => {
                    self.write.drain(..n);
                    self.stalled = None;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let since = *self.stalled.get_or_insert(now);
                    if now.duration_since(since) >= STALL_LIMIT && self.closing.is_none() {
                        self.close(format!(
                            "too slow: took nothing for {} s",
                            STALL_LIMIT.as_secs()
                        ));
                    }
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.write.clear();
                    return self.close(format!("connection failed: {e}"));
                }
            }
        }
    }
}
