//! The output's thread: connect, publish, send; on failure wait and try
//! again.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use makara_mpegts::es::{AudioCodec, Program};
use makara_rtmp::flv::{
    aac_frame, aac_sequence_header, on_metadata, AacConfig, AudioInfo, FlvError, Metadata,
    VideoCodec, VideoFrame, VideoInfo, VideoTagger,
};
use makara_rtmp::timestamp::{composition_ms, Timeline};
use makara_rtmp::{ClientHandshake, PublishError, Publisher};

use super::transport::{Breaker, Failure, Transport, POLL};
use super::{Media, RtmpSettings, Shared, WAIT};
use crate::status::OutputStatus;

/// How often the server's messages are read while publishing.
const READ_INTERVAL: Duration = Duration::from_millis(100);
/// Units sent between two looks at the server and the stop flag.
const BURST: usize = 64;

/// What the stream carries, as the push will send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    video: Option<VideoCodec>,
    audio: bool,
}

/// How a session ended.
enum Ended {
    Stopped,
    Failed { reason: Failure, delivered: bool },
}

pub(crate) struct Pusher {
    settings: RtmpSettings,
    shared: Arc<Shared>,
    units: Receiver<Media>,
    status: Arc<OutputStatus>,
    breaker: Breaker,
    destination: String,
}

impl Pusher {
    pub fn new(
        settings: RtmpSettings,
        shared: Arc<Shared>,
        units: Receiver<Media>,
        status: Arc<OutputStatus>,
        breaker: Breaker,
    ) -> Pusher {
        let destination = settings.destination();
        Pusher {
            settings,
            shared,
            units,
            status,
            breaker,
            destination,
        }
    }

    pub fn run(self) {
        let name = self.settings.name.clone();
        let mut failures = 0u32;
        while !self.shared.stopped() {
            let Some(program) = self.wait_for_program() else {
                break;
            };
            let ended = match plan(&program) {
                Ok(plan) => self.session(&program, plan),
                Err(reason) => Ended::Failed {
                    reason,
                    delivered: false,
                },
            };
            let Ended::Failed { reason, delivered } = ended else {
                break;
            };
            if delivered {
                failures = 0;
            }
            failures += 1;
            if self.settings.gives_up_after(failures) {
                let why = format!(
                    "{}: gave up after {failures} attempts; the last: {reason}",
                    self.destination
                );
                tracing::error!(output = %name, "{why}");
                self.status.set_last_error(Some(why));
                break;
            }
            let wait = self.settings.backoff(failures);
            let why = format!(
                "{}: {reason}; retrying in {} s (attempt {})",
                self.destination,
                wait.as_secs(),
                failures + 1
            );
            tracing::warn!(output = %name, "{why}");
            self.status.set_last_error(Some(why));
            self.sleep(wait);
        }
        self.breaker.disarm();
    }

    /// Waits until the demuxer has found a program with something to
    /// send; `None` when the output stops first.
    fn wait_for_program(&self) -> Option<Program> {
        let mut said = false;
        while !self.shared.stopped() {
            if let Some(program) = self.shared.program() {
                if program.video.is_some() || program.audio.is_some() {
                    return Some(program);
                }
            }
            if !said {
                self.status.set_last_error(Some(format!(
                    "{}: waiting for video or audio in the stream",
                    self.destination
                )));
                said = true;
            }
            thread::sleep(POLL);
        }
        None
    }

    fn sleep(&self, total: Duration) {
        let until = Instant::now() + total;
        while !self.shared.stopped() && Instant::now() < until {
            thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
    }

    /// One connection: connect, publish, send until it fails or the
    /// output stops.
    fn session(&self, program: &Program, plan: Plan) -> Ended {
        self.status
            .set_last_error(Some(format!("{}: connecting", self.destination)));
        let mut connection = match self.publish(plan) {
            Ok(Some(connection)) => connection,
            Ok(None) => return Ended::Stopped,
            Err(reason) => {
                return Ended::Failed {
                    reason,
                    delivered: false,
                }
            }
        };
        tracing::info!(output = %self.settings.name, "RTMP: publishing to {}", self.destination);
        self.status.set_last_error(None);
        self.shared.publishing.store(true, Ordering::Relaxed);
        let ended = connection.stream(self, program);
        self.shared.publishing.store(false, Ordering::Relaxed);
        // What was queued for this connection is stale for the next one.
        while let Ok(media) = self.units.try_recv() {
            self.shared
                .queued_bytes
                .fetch_sub(media.len(), Ordering::Relaxed);
        }
        if matches!(ended, Ended::Stopped) {
            connection.publisher.unpublish();
            let goodbye = connection.publisher.take_output();
            let _ = connection.transport.send(&goodbye);
        }
        ended
    }

    /// Connects, handshakes and publishes; `Ok(None)` if the output
    /// stopped meanwhile.
    fn publish(&self, plan: Plan) -> Result<Option<Connection>, Failure> {
        let url = &self.settings.url;
        let mut transport = Transport::connect(url, self.settings.marking, WAIT, &self.breaker)?;
        if self.shared.stopped() {
            return Ok(None);
        }
        let leftover = self.handshake(&mut transport)?;
        let mut publisher = Publisher::new(self.settings.target());
        publisher
            .receive(&leftover)
            .map_err(|e| publish_failure(&e))?;
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 4096];
        let mut codecs_checked = false;
        loop {
            // Before anything after connect goes out: a codec the server
            // did not announce is refused before it is offered.
            if !codecs_checked {
                if let Some(server) = publisher.server() {
                    if let Some(codec) = plan.video.filter(|c| c.needs_enhanced_rtmp()) {
                        if !server.accepts_video(codec.fourcc()) {
                            return Err(format!(
                                "the RTMP server does not announce Enhanced RTMP support for \
                                 {}; nginx-rtmp and classic FLV carry H.264 only: transcode \
                                 the stream to H.264, or send {} over SRT",
                                codec.fourcc(),
                                codec.name()
                            ));
                        }
                    }
                    codecs_checked = true;
                }
            }
            transport.send(&publisher.take_output())?;
            if publisher.is_publishing() {
                return Ok(Some(Connection::new(transport, publisher, plan)));
            }
            if self.shared.stopped() {
                return Ok(None);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no answer to connect and publish within {} s ({})",
                    WAIT.as_secs(),
                    waiting_for(&publisher)
                ));
            }
            let n = transport
                .receive(&mut buf, POLL)
                .map_err(|e| closed_while(e, &publisher))?;
            publisher
                .receive(&buf[..n])
                .map_err(|e| publish_failure(&e))?;
        }
    }

    /// The simple handshake; returns the bytes that came after S2.
    fn handshake(&self, transport: &mut Transport) -> Result<Vec<u8>, Failure> {
        let seed = handshake_seed();
        let handshake = ClientHandshake::new(0, &seed);
        transport.send(&handshake.hello())?;
        let deadline = Instant::now() + WAIT;
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match handshake.receive(&received, 0) {
                Ok(Some(done)) => {
                    if !done.s2_echoed {
                        tracing::debug!(output = %self.settings.name,
                            "RTMP: the server's S2 does not echo C1 (a digest handshake?); going on");
                    }
                    transport.send(&done.c2)?;
                    return Ok(received.split_off(done.consumed));
                }
                Ok(None) => {}
                Err(e) => return Err(format!("handshake: {e}")),
            }
            if self.shared.stopped() {
                return Err("stopped".into());
            }
            if Instant::now() >= deadline {
                return Err(format!("no RTMP handshake within {} s", WAIT.as_secs()));
            }
            let n = transport.receive(&mut buf, POLL).map_err(|e| {
                if e.contains("closed") {
                    "the server closed the connection during the RTMP handshake".into()
                } else {
                    e
                }
            })?;
            received.extend_from_slice(&buf[..n]);
        }
    }
}

/// The C1 random bytes: not secret, only unlikely to repeat.
fn handshake_seed() -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = (nanos as u64) ^ 0x9E37_79B9_7F4A_7C15;
    (0..64)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn publish_failure(e: &PublishError) -> Failure {
    e.to_string()
}

fn waiting_for(publisher: &Publisher) -> &'static str {
    use makara_rtmp::PublishState::*;
    match publisher.state() {
        Connecting => "connect was not answered",
        CreatingStream => "createStream was not answered",
        WaitingForPublish => "publish was neither accepted nor refused",
        Publishing => "publishing",
    }
}

/// A connection closed before publishing started says when.
fn closed_while(e: Failure, publisher: &Publisher) -> Failure {
    if !e.contains("closed") {
        return e;
    }
    use makara_rtmp::PublishState::*;
    match publisher.state() {
        Connecting => "the server closed the connection after connect (a wrong app?)".into(),
        CreatingStream => "the server closed the connection after createStream".into(),
        WaitingForPublish => {
            "the server closed the connection after publish (a refused stream key?)".into()
        }
        Publishing => e,
    }
}

/// What the push sends for this program, or why it cannot: the codecs
/// the transport stream carries, judged as a transcoder's would be
/// ([`crate::rtmp_refusal`]), and audio no encoder here makes.
fn plan(program: &Program) -> Result<Plan, Failure> {
    use makara_media::{AudioCodec as Audio, VideoCodec as Video};
    let video = program.video.map(|v| crate::carriage::ts_video(v.codec));
    let audio = match program.audio.map(|a| a.codec) {
        None => None,
        Some(AudioCodec::AacAdts) => Some(Audio::AacAdts),
        Some(AudioCodec::MpegAudio) => Some(Audio::Mp2),
        Some(other) => {
            let name = match other {
                AudioCodec::AacLatm => "AAC in LATM",
                AudioCodec::Ac3 => "AC-3",
                _ => "E-AC-3",
            };
            return Err(format!(
                "{name} audio cannot be pushed over RTMP: FLV carries AAC in ADTS only: \
                 transcode the audio to AAC"
            ));
        }
    };
    if let Some(refusal) = crate::rtmp_refusal(video, audio) {
        return Err(refusal);
    }
    let video = match video {
        None => None,
        Some(Video::H264) => Some(VideoCodec::H264),
        Some(Video::Hevc) => Some(VideoCodec::Hevc),
        // Refused above; named again so that a new codec cannot slip through.
        Some(other) => return Err(format!("{other:?} video cannot be pushed over RTMP")),
    };
    Ok(Plan {
        video,
        audio: audio.is_some(),
    })
}

/// A connection that publishes.
struct Connection {
    transport: Transport,
    publisher: Publisher,
    plan: Plan,
    timeline: Timeline,
    video: Option<VideoTagger>,
    /// The AAC configuration the server has.
    audio_config: Option<AacConfig>,
    /// The last one seen in the stream (for onMetaData).
    seen_audio_config: Option<AacConfig>,
    /// Media has begun (at a video key frame, or the first audio frame
    /// of a stream without video).
    started: bool,
    metadata_sent: bool,
}

impl Connection {
    fn new(transport: Transport, publisher: Publisher, plan: Plan) -> Connection {
        Connection {
            transport,
            publisher,
            plan,
            timeline: Timeline::new(),
            video: plan.video.map(VideoTagger::new),
            audio_config: None,
            seen_audio_config: None,
            started: false,
            metadata_sent: false,
        }
    }

    fn stream(&mut self, pusher: &Pusher, program: &Program) -> Ended {
        let mut last_read = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            if pusher.shared.stopped() {
                return Ended::Stopped;
            }
            if pusher.shared.program().as_ref() != Some(program) {
                return self.failed("the stream's program changed; publishing again".into());
            }
            match pusher.units.recv_timeout(POLL) {
                Ok(media) => {
                    let mut next = Some(media);
                    for _ in 0..BURST {
                        let Some(media) = next.take() else { break };
                        pusher
                            .shared
                            .queued_bytes
                            .fetch_sub(media.len(), Ordering::Relaxed);
                        if let Err(reason) = self.media(media, pusher) {
                            return self.failed(reason);
                        }
                        next = pusher.units.try_recv().ok();
                    }
                    if let Some(media) = next {
                        pusher
                            .shared
                            .queued_bytes
                            .fetch_sub(media.len(), Ordering::Relaxed);
                        if let Err(reason) = self.media(media, pusher) {
                            return self.failed(reason);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ended::Stopped,
            }
            if last_read.elapsed() >= READ_INTERVAL {
                last_read = Instant::now();
                if let Err(reason) = self.read_server(&mut buf) {
                    return self.failed(reason);
                }
            }
            if let Err(reason) = self.transport.send(&self.publisher.take_output()) {
                return self.failed(reason);
            }
        }
    }

    fn failed(&self, reason: Failure) -> Ended {
        Ended::Failed {
            reason,
            delivered: true,
        }
    }

    /// Whatever the server said meanwhile (pings, acknowledgement
    /// windows, a stop), without waiting for more.
    fn read_server(&mut self, buf: &mut [u8]) -> Result<(), Failure> {
        loop {
            let n = self.transport.receive(buf, Duration::from_millis(1))?;
            if n == 0 {
                return Ok(());
            }
            self.publisher
                .receive(&buf[..n])
                .map_err(|e| publish_failure(&e))?;
        }
    }

    fn media(&mut self, media: Media, pusher: &Pusher) -> Result<(), Failure> {
        match media {
            Media::Video { unit, resync } => {
                let Some(tagger) = self.video.as_mut() else {
                    return Ok(());
                };
                if resync {
                    tagger.reset();
                    self.audio_config = None;
                }
                if !self.started && !unit.key {
                    return Ok(());
                }
                let frame = VideoFrame {
                    annex_b: &unit.data,
                    key: unit.key,
                    composition_ms: composition_ms(unit.pts.wire(), unit.dts.wire()),
                };
                let tags = match tagger.tags(&frame) {
                    Ok(tags) => tags,
                    Err(FlvError::NoParameterSets(_)) => {
                        // The demuxer's latest, for a key frame that does
                        // not repeat them.
                        if let Some(sets) = pusher.shared.parameter_sets() {
                            let units: Vec<&[u8]> = sets.iter().collect();
                            tagger.learn(&units).map_err(|e| e.to_string())?;
                        }
                        match tagger.tags(&frame) {
                            Ok(tags) => tags,
                            // Still none: wait for a key frame that has them.
                            Err(FlvError::NoParameterSets(_)) => return Ok(()),
                            Err(e) => return Err(e.to_string()),
                        }
                    }
                    Err(e) => return Err(e.to_string()),
                };
                self.started = true;
                self.send_metadata_once()?;
                let timestamp = self.timeline.ms(unit.dts.wire());
                for tag in tags {
                    self.publisher
                        .send_video(timestamp, &tag)
                        .map_err(|e| publish_failure(&e))?;
                }
            }
            Media::Audio { frame, resync } => {
                let config = AacConfig {
                    object_type: frame.config.object_type,
                    sampling_index: frame.config.sampling_index,
                    channel_config: frame.config.channel_config,
                };
                self.seen_audio_config = Some(config);
                if !self.plan.audio {
                    return Ok(());
                }
                if resync {
                    self.audio_config = None;
                }
                if !self.started {
                    if self.plan.video.is_some() {
                        return Ok(());
                    }
                    self.started = true;
                }
                self.send_metadata_once()?;
                let timestamp = self.timeline.ms(frame.pts.wire());
                if self.audio_config != Some(config) {
                    self.publisher
                        .send_audio(timestamp, &aac_sequence_header(&config))
                        .map_err(|e| publish_failure(&e))?;
                    self.audio_config = Some(config);
                }
                self.publisher
                    .send_audio(timestamp, &aac_frame(&frame.data))
                    .map_err(|e| publish_failure(&e))?;
            }
        }
        Ok(())
    }

    fn send_metadata_once(&mut self) -> Result<(), Failure> {
        if self.metadata_sent {
            return Ok(());
        }
        let size = self.video.as_ref().and_then(VideoTagger::picture_size);
        let metadata = Metadata {
            video: self.plan.video.map(|codec| VideoInfo {
                codec,
                width: size.map(|s| s.width),
                height: size.map(|s| s.height),
            }),
            audio: self.plan.audio.then(|| AudioInfo {
                sample_rate: self.seen_audio_config.and_then(|c| c.sample_rate()),
                channels: self.seen_audio_config.map_or(2, |c| c.channel_config),
            }),
        };
        self.publisher
            .send_data(&on_metadata(&metadata))
            .map_err(|e| publish_failure(&e))?;
        self.metadata_sent = true;
        Ok(())
    }
}
