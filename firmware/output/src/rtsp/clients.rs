//! What the stream's sender thread and the output's server thread share:
//! the tracks as DESCRIBE tells them, the media clock, and the clients
//! that play. The sender hands each unit to every playing client without
//! waiting: over UDP one non-blocking `send_to` per packet, over TCP into
//! the connection's bounded queue, which the server thread drains. A
//! packet that does not fit is dropped and counted against that client
//! alone.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use makara_rtsp::rtp::RtpStream;
use makara_rtsp::{interleaved, rtcp, Description, PlayTrack, TrackId, Transport};

use super::media::Unit;

/// Bytes of RTP one TCP client may have waiting: about six seconds of a
/// 5 Mbit/s stream. Beyond it packets are dropped for that client.
pub(crate) const QUEUE_BYTES: usize = 4 << 20;
/// How often each track's sender report goes out (RFC 3550 allows 5 s
/// for a small session).
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// A PTS this far from the media clock re-anchors it (a restarted or
/// jumping source).
const REANCHOR_90K: u64 = 5 * 90_000;

/// What the server tells clients: the tracks, or why there are none yet,
/// and the media clock.
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub description: Option<Description>,
    pub unavailable: String,
    /// A media time and the instant it was current: the one mapping from
    /// wall clock to media time that every track's reports use, so that
    /// clients line audio and video up.
    anchor: Option<(u64, Instant)>,
}

impl Published {
    /// Nothing to tell yet, for `why`.
    pub fn waiting(why: String) -> Published {
        Published {
            description: None,
            unavailable: why,
            anchor: None,
        }
    }

    /// The media time (90 kHz) at `now`.
    pub fn media_time(&self, now: Instant) -> u64 {
        match self.anchor {
            Some((time, at)) => {
                let elapsed = now.saturating_duration_since(at);
                time + (elapsed.as_nanos() * 90_000 / 1_000_000_000) as u64
            }
            None => 0,
        }
    }

    fn anchor(&mut self, time: u64, now: Instant) {
        let drifted = self.anchor.is_some() && self.media_time(now).abs_diff(time) > REANCHOR_90K;
        if self.anchor.is_none() || drifted {
            self.anchor = Some((time, now));
        }
    }
}

/// Wakes the server thread when a TCP client has packets to write.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    pending: Mutex<bool>,
    condvar: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        *lock(&self.pending) = true;
        self.condvar.notify_one();
    }

    /// Waits until notified or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let pending = lock(&self.pending);
        let (mut pending, _) = self
            .condvar
            .wait_timeout_while(pending, timeout, |p| !*p)
            .unwrap_or_else(|e| e.into_inner());
        *pending = false;
    }
}

/// The interleaved frames waiting for one TCP client's connection.
#[derive(Debug, Default)]
pub(crate) struct FrameQueue {
    inner: Mutex<QueueInner>,
}

#[derive(Debug, Default)]
struct QueueInner {
    frames: VecDeque<Vec<u8>>,
    bytes: usize,
}

impl FrameQueue {
    /// `false` when there is no room: the frame is dropped.
    fn push(&self, frame: Vec<u8>) -> bool {
        let mut inner = lock(&self.inner);
        if inner.bytes + frame.len() > QUEUE_BYTES {
            return false;
        }
        inner.bytes += frame.len();
        inner.frames.push_back(frame);
        true
    }

    /// Moves whole frames into `out` until it holds about `limit` bytes.
    pub fn drain_into(&self, out: &mut Vec<u8>, limit: usize) {
        let mut inner = lock(&self.inner);
        while out.len() < limit {
            let Some(frame) = inner.frames.pop_front() else {
                break;
            };
            inner.bytes -= frame.len();
            out.extend_from_slice(&frame);
        }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        lock(&self.inner).frames.is_empty()
    }
}

/// How a playing client receives its packets.
#[derive(Debug, Clone)]
pub(crate) enum Delivery {
    Udp { client: IpAddr },
    Tcp(Arc<FrameQueue>),
}

#[derive(Debug)]
struct SubTrack {
    track: TrackId,
    transport: Transport,
    stream: RtpStream,
    reported: Option<Instant>,
}

/// One playing client.
#[derive(Debug)]
pub(crate) struct Subscriber {
    /// Its connection's number.
    pub id: u64,
    delivery: Delivery,
    tracks: Vec<SubTrack>,
    /// It has had its first key frame (clients start at one).
    started: bool,
    /// Packets dropped because it could not take them.
    pub dropped: u64,
}

impl Subscriber {
    pub fn new(id: u64, delivery: Delivery, tracks: &[PlayTrack]) -> Subscriber {
        let tracks = tracks
            .iter()
            .map(|t| SubTrack {
                track: t.track,
                transport: t.transport,
                stream: RtpStream::new(t.start, t.payload_type, t.clock_rate),
                reported: None,
            })
            .collect();
        Subscriber {
            id,
            delivery,
            tracks,
            started: false,
            dropped: 0,
        }
    }

    fn wants(&mut self, unit: &Unit) -> bool {
        if !self.started {
            let has_video = self.tracks.iter().any(|t| t.track == TrackId::Video);
            self.started = match unit.track {
                TrackId::Video => unit.key,
                TrackId::Audio => !has_video,
            };
        }
        self.started
    }
}

/// The sockets UDP clients are served from.
#[derive(Debug)]
pub(crate) struct UdpPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
}

impl UdpPair {
    pub fn ports(&self) -> Option<(u16, u16)> {
        let rtp = self.rtp.local_addr().ok()?.port();
        let rtcp = self.rtcp.local_addr().ok()?.port();
        Some((rtp, rtcp))
    }
}

/// Everything the two threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub name: String,
    pub published: Mutex<Published>,
    pub subscribers: Mutex<Vec<Subscriber>>,
    pub udp: UdpPair,
    pub wake: Wake,
    /// The CNAME of every sender report.
    pub cname: String,
}

impl Shared {
    /// Hands `unit` to every playing client that wants it.
    pub fn deliver(&self, unit: &Unit) {
        let now = Instant::now();
        let (media_time, ntp) = {
            let mut published = lock(&self.published);
            published.anchor(unit.time, now);
            (published.media_time(now), rtcp::ntp(wall_clock()))
        };
        let mut queued = false;
        let mut subscribers = lock(&self.subscribers);
        for subscriber in subscribers.iter_mut() {
            if !subscriber.wants(unit) {
                continue;
            }
            let delivery = subscriber.delivery.clone();
            let Some(track) = subscriber.tracks.iter_mut().find(|t| t.track == unit.track) else {
                continue;
            };
            let mut dropped = 0;
            let due = track
                .reported
                .is_none_or(|at| now.duration_since(at) >= REPORT_INTERVAL);
            if due {
                track.reported = Some(now);
                let report = track.stream.sender_report(ntp, media_time, &self.cname);
                dropped += u64::from(!self.send(&delivery, track.transport, true, &report));
            }
            let mut packet = Vec::with_capacity(1500);
            for payload in &unit.payloads {
                packet.clear();
                track.stream.packet(unit.time, payload, &mut packet);
                dropped += u64::from(!self.send(&delivery, track.transport, false, &packet));
            }
            subscriber.dropped += dropped;
            queued |= matches!(delivery, Delivery::Tcp(_));
        }
        drop(subscribers);
        if queued {
            self.wake.notify();
        }
    }

    /// Sends one RTP (or, with `control`, RTCP) packet; `false` if it was
    /// dropped.
    fn send(
        &self,
        delivery: &Delivery,
        transport: Transport,
        control: bool,
        packet: &[u8],
    ) -> bool {
        match (delivery, transport) {
            (
                Delivery::Udp { client },
                Transport::Udp {
                    rtp_port,
                    rtcp_port,
                },
            ) => {
                let (socket, port) = match control {
                    true => (&self.udp.rtcp, rtcp_port),
                    false => (&self.udp.rtp, rtp_port),
                };
                socket
                    .send_to(packet, SocketAddr::new(*client, port))
                    .is_ok()
            }
            (
                Delivery::Tcp(queue),
                Transport::Interleaved {
                    rtp_channel,
                    rtcp_channel,
                },
            ) => {
                let channel = if control { rtcp_channel } else { rtp_channel };
                let mut frame = Vec::with_capacity(packet.len() + 4);
                interleaved::frame(channel, packet, &mut frame);
                queue.push(frame)
            }
            // A client's tracks share one kind of transport (the server
            // refuses a mix).
            _ => false,
        }
    }

    pub fn add(&self, subscriber: Subscriber) {
        let mut subscribers = lock(&self.subscribers);
        subscribers.retain(|s| s.id != subscriber.id);
        subscribers.push(subscriber);
    }

    /// Removes a client's subscription; its dropped packets.
    pub fn remove(&self, id: u64) -> Option<u64> {
        let mut subscribers = lock(&self.subscribers);
        let at = subscribers.iter().position(|s| s.id == id)?;
        Some(subscribers.swap_remove(at).dropped)
    }

    #[cfg(test)]
    pub fn dropped(&self, id: u64) -> u64 {
        lock(&self.subscribers)
            .iter()
            .find(|s| s.id == id)
            .map_or(0, |s| s.dropped)
    }
}

fn wall_clock() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Plain data behind each lock: a thread that panicked holding one left
/// it whole.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use makara_rtsp::packetize::Payload;
    use makara_rtsp::rtp::RtpStart;

    use super::*;

    fn play(track: TrackId, transport: Transport) -> PlayTrack {
        PlayTrack {
            track,
            transport,
            start: RtpStart {
                ssrc: 7,
                sequence: 100,
                timestamp_offset: 0,
            },
            payload_type: 96,
            clock_rate: 90_000,
        }
    }

    fn unit(track: TrackId, time: u64, key: bool) -> Unit {
        Unit {
            track,
            time,
            key,
            payloads: vec![Payload {
                data: vec![0x65, 1, 2],
                marker: true,
            }],
        }
    }

    fn shared() -> Shared {
        let bind = || UdpSocket::bind("127.0.0.1:0").unwrap();
        Shared {
            name: "out".into(),
            published: Mutex::new(Published::default()),
            subscribers: Mutex::new(Vec::new()),
            udp: UdpPair {
                rtp: bind(),
                rtcp: bind(),
            },
            wake: Wake::default(),
            cname: "makara".into(),
        }
    }

    fn frames(queue: &FrameQueue) -> Vec<(u8, Vec<u8>)> {
        let mut bytes = Vec::new();
        queue.drain_into(&mut bytes, usize::MAX);
        let mut out = Vec::new();
        let mut rest = bytes.as_slice();
        while let Ok(Some((interleaved::Incoming::Frame { channel, data }, used))) =
            interleaved::parse(rest)
        {
            out.push((channel, data));
            rest = &rest[used..];
        }
        out
    }

    #[test]
    fn a_tcp_client_starts_at_a_key_frame_after_a_sender_report() {
        let shared = shared();
        let queue = Arc::new(FrameQueue::default());
        let transport = Transport::Interleaved {
            rtp_channel: 0,
            rtcp_channel: 1,
        };
        shared.add(Subscriber::new(
            1,
            Delivery::Tcp(Arc::clone(&queue)),
            &[play(TrackId::Video, transport)],
        ));
        shared.deliver(&unit(TrackId::Video, 1000, false));
        assert!(queue.is_empty(), "nothing before the first key frame");
        shared.deliver(&unit(TrackId::Video, 4000, true));
        shared.deliver(&unit(TrackId::Video, 7000, false));
        let sent = frames(&queue);
        assert_eq!(sent.iter().map(|(c, _)| *c).collect::<Vec<_>>(), [1, 0, 0]);
        assert!(rtcp::parse_sender_info(&sent[0].1).is_some());
        // Sequence numbers from 100, timestamps the PTS.
        assert_eq!(&sent[1].1[2..8], [0, 100, 0, 0, 0x0f, 0xa0]);
        assert_eq!(&sent[2].1[2..4], [0, 101]);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let shared = shared();
        let queue = Arc::new(FrameQueue::default());
        let transport = Transport::Interleaved {
            rtp_channel: 0,
            rtcp_channel: 1,
        };
        shared.add(Subscriber::new(
            3,
            Delivery::Tcp(Arc::clone(&queue)),
            &[play(TrackId::Audio, transport)],
        ));
        let big = Unit {
            payloads: vec![
                Payload {
                    data: vec![0; 1400],
                    marker: false
                };
                1000
            ],
            ..unit(TrackId::Audio, 0, true)
        };
        for _ in 0..4 {
            shared.deliver(&big);
        }
        assert!(shared.dropped(3) > 0);
        assert_eq!(shared.remove(3), Some(shared_dropped_guess(&queue)));
    }

    /// Whatever was queued plus dropped is everything sent.
    fn shared_dropped_guess(queue: &FrameQueue) -> u64 {
        let queued = frames(queue).len() as u64;
        4 * 1000 + 1 - queued
    }

    #[test]
    fn udp_clients_get_datagrams_on_their_ports() {
        let shared = shared();
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&rtp, &rtcp] {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        }
        let transport = Transport::Udp {
            rtp_port: rtp.local_addr().unwrap().port(),
            rtcp_port: rtcp.local_addr().unwrap().port(),
        };
        let client = Delivery::Udp {
            client: IpAddr::from([127, 0, 0, 1]),
        };
        shared.add(Subscriber::new(
            2,
            client,
            &[play(TrackId::Video, transport)],
        ));
        shared.deliver(&unit(TrackId::Video, 90_000, true));
        let mut buf = [0u8; 1500];
        let (n, from) = rtp.recv_from(&mut buf).unwrap();
        assert_eq!((n, from.port()), (15, shared.udp.ports().unwrap().0));
        let (n, _) = rtcp.recv_from(&mut buf).unwrap();
        assert!(rtcp::parse_sender_info(&buf[..n]).is_some());
    }

    #[test]
    fn the_media_clock_follows_the_first_unit_and_reanchors_on_a_jump() {
        let mut published = Published::default();
        let t0 = Instant::now();
        published.anchor(1_000_000, t0);
        assert_eq!(published.media_time(t0 + Duration::from_secs(1)), 1_090_000);
        published.anchor(1_000_500, t0);
        assert_eq!(
            published.media_time(t0),
            1_000_000,
            "small differences keep the anchor"
        );
        published.anchor(9_000_000, t0);
        assert_eq!(published.media_time(t0), 9_000_000);
    }
}
