//! RTMP and RTMPS push: the stream's transport stream, taken apart into
//! its video access units and AAC frames, sent to an RTMP server as FLV
//! tags (H.264 and AAC; HEVC as Enhanced RTMP where the server announces
//! it), with reconnects and backoff.
//!
//! Two halves, joined by a bounded queue:
//!
//! - [`RtmpSender::send`], on the stream's sender thread, demuxes the
//!   packets ([`makara_mpegts::es`]) and offers each unit to the queue,
//!   never waiting. While nothing is being published the units are
//!   dropped; when the queue is full (the network is slower than the
//!   stream) a unit is dropped and counted, and so is everything after it
//!   until the next video key frame, which goes with a mark that makes
//!   the other side send fresh sequence headers.
//! - A thread per output ([`pusher`]) connects, handshakes, publishes and
//!   sends; after a failure it waits 1 s, doubling to `retryDelayMax`,
//!   and tries again, giving up after `retryLimit` failures in a row when
//!   that is not 0. Every wait is bounded (connect, handshake and publish
//!   within [`WAIT`]), and a stop is seen within [`transport::POLL`].
//!
//! The output's [`OutputStatus`] says why it does not deliver while it
//! connects or fails, and nothing while it publishes.

mod feeder;
mod pusher;
mod settings;
mod transport;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use makara_mpegts::es::{AudioFrame, ParameterSets, Program, VideoUnit};

use crate::datagram::TS_PACKET_LEN;
use crate::status::OutputStatus;
use crate::udp::OutputError;
use feeder::Feeder;
use transport::Breaker;

pub use settings::{Marking, RtmpSettings};
pub use transport::CA_FILE_ENV;

/// How long connecting, the handshake, and the wait for the server's
/// word on publish may each take; also the longest a write may block.
pub const WAIT: Duration = Duration::from_secs(10);
/// Units the queue holds (about 10 s of video and audio at 25 fps).
pub const QUEUE_UNITS: usize = 700;
/// Bytes of media the queue holds at most.
pub const QUEUE_BYTES: usize = 16 << 20;
/// How long closing waits for the thread to say goodbye to the server
/// before it breaks the connection.
const CLOSE_GRACE: Duration = Duration::from_millis(100);

/// One unit on its way to the pusher.
#[derive(Debug)]
pub(crate) enum Media {
    /// `resync`: units were dropped before it; the server needs the
    /// sequence headers again.
    Video {
        unit: VideoUnit,
        resync: bool,
    },
    Audio {
        frame: AudioFrame,
        resync: bool,
    },
}

impl Media {
    fn len(&self) -> usize {
        match self {
            Media::Video { unit, .. } => unit.data.len(),
            Media::Audio { frame, .. } => frame.data.len(),
        }
    }
}

/// What both halves share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The latest program and parameter sets the demuxer found.
    program: Mutex<Option<Program>>,
    parameter_sets: Mutex<Option<ParameterSets>>,
    /// The pusher publishes and takes units.
    publishing: AtomicBool,
    stop: AtomicBool,
    queued_bytes: AtomicUsize,
    /// Units dropped because the queue was full, in all.
    dropped: AtomicUsize,
}

impl Shared {
    fn program(&self) -> Option<Program> {
        lock(&self.program).clone()
    }

    fn parameter_sets(&self) -> Option<ParameterSets> {
        lock(&self.parameter_sets).clone()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// An open RTMP output.
pub struct RtmpSender {
    settings: RtmpSettings,
    shared: Arc<Shared>,
    status: Arc<OutputStatus>,
    feeder: Feeder,
    breaker: Breaker,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RtmpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtmpSender")
            .field("output", &self.settings.name)
            .field("destination", &self.settings.destination())
            .finish()
    }
}

impl RtmpSender {
    /// Starts the thread that connects and publishes, and returns at once.
    pub fn open(settings: RtmpSettings) -> Result<RtmpSender, OutputError> {
        let status = Arc::new(OutputStatus::waiting(
            &settings.name,
            format!(
                "{}: waiting for the stream's program",
                settings.destination()
            ),
        ));
        let shared = Arc::new(Shared::default());
        let (queue, units): (SyncSender<Media>, Receiver<Media>) = mpsc::sync_channel(QUEUE_UNITS);
        let breaker = Breaker::default();
        let pusher = pusher::Pusher::new(
            settings.clone(),
            Arc::clone(&shared),
            units,
            Arc::clone(&status),
            breaker.clone(),
        );
        let thread = thread::Builder::new()
            .name("rtmp output".into())
            .spawn(move || pusher.run())
            .map_err(|source| OutputError::Thread {
                output: settings.name.clone(),
                what: "RTMP connection",
                source,
            })?;
        Ok(RtmpSender {
            feeder: Feeder::new(settings.name.clone(), queue, Arc::clone(&shared)),
            settings,
            shared,
            status,
            breaker,
            thread: Some(thread),
        })
    }

    /// Demuxes the packets and offers their units to the pusher; never
    /// waits. Returns the bytes of the packets taken while publishing.
    pub fn send<'p>(&mut self, packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>) -> u64 {
        self.feeder.push(packets)
    }

    pub fn status(&self) -> Arc<OutputStatus> {
        Arc::clone(&self.status)
    }

    pub fn settings(&self) -> &RtmpSettings {
        &self.settings
    }

    /// Units dropped so far because the network was slower than the
    /// stream.
    pub fn dropped(&self) -> usize {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for RtmpSender {
    /// Stops the thread: it unpublishes if it can within
    /// [`CLOSE_GRACE`]; otherwise the connection is broken, and a connect
    /// under way ends on its own within [`WAIT`], unused.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let Some(thread) = self.thread.take() else {
            return;
        };
        let until = Instant::now() + CLOSE_GRACE;
        while !thread.is_finished() && Instant::now() < until {
            thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            if thread.join().is_err() {
                tracing::error!(output = %self.settings.name, "the RTMP thread panicked");
            }
        } else {
            self.breaker.break_connection();
        }
    }
}
