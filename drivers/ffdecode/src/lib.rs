//! Network inputs as live sources: a transport stream (MPEG2TS over UDP,
//! SRT; received through `makara-input`, demuxed by `makara-mpegts`) or
//! an RTSP / MJPEGRAW URL (through libavformat), decoded by libavcodec
//! into frame-ring slots of one fixed size, with the sound decoded to
//! 48 kHz stereo, and a slate picture with silence while the input is lost.
//!
//! Level 3: a driver. The pipeline sees a [`makara_capture::LiveCapture`];
//! the appliance is the one crate that calls [`open`].
//!
//! - **Codecs.** Video: H.264, HEVC, MPEG-2 (and MPEG-1) video; for
//!   MJPEGRAW, Motion JPEG. Sound: AAC (ADTS), MPEG audio layers I–III, and
//!   for RTSP whatever FFmpeg decodes (G.711 …). Another video codec is a
//!   waiting reason naming it; sound that cannot be decoded is silence.
//! - **Pictures.** I420, the first picture's size (rounded down to even)
//!   for the life of the capture; later pictures of another size or layout
//!   are scaled to it (libswscale, bilinear). The frame rate is the one the
//!   stream declares (VUI, sequence header, the container), else the first
//!   two pictures' spacing, else 25 fps.
//! - **Time.** Pictures, sound and KLV share one anchor that ties the
//!   input's timestamps to the monotonic clock: the first picture is
//!   stamped when it is decoded, later ones by their PTS from it, so A/V
//!   keep the input's sync to the tick. A discontinuity (a jump of more
//!   than 1 s, a step back, a picture mapped more than 150 ms late or 1 s
//!   early) or a loss re-anchors: the next picture is one frame after the
//!   last stamp (or now, if later), so stamps are strictly increasing.
//! - **Loss.** No picture for `max(3 frame periods, 300 ms)`: the slate
//!   (dark grey, "NO INPUT" and the input) at the input's frame rate,
//!   stamps continuing the pictures', silence, and [`LiveCapture::report`]
//!   says not receiving, with the reason. The first picture back ends it.
//! - **Threads.** A receiver (packets in) and a decoder thread per capture;
//!   every wait is bounded, so both end within about 100 ms of a drop.
//!   Every queue between them is bounded.
//!
//! - **Files (the bench).** [`open_ts_file`] reads a transport-stream
//!   file where a network input's receiver would be, through the same
//!   demuxer, access-unit splitter, decoder and scaler, in a pace where
//!   nothing is dropped: the decoder waits for room, stamps follow the
//!   file's timestamps, and at the file's end the last pictures come out
//!   and the capture ends.
//!
//! [`LiveCapture::report`]: makara_capture::LiveCapture::report

#![forbid(unsafe_code)]

mod access_unit;
mod capture;
mod decode;
mod feed;
mod file;
mod lavf;
mod program;
mod sound;
mod state;
mod timing;
mod ts;
mod worker;

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use makara_capture::LiveCapture;
use makara_config::{InputConfig, InputKind};
use makara_input::{InputError, TsInput};
use makara_media::MonotonicNs;
use thiserror::Error;

pub use capture::NetworkCapture;

use crate::capture::Threads;
use crate::feed::Feed;
use crate::file::TsFile;
use crate::lavf::{redact, Kind, LavfReceiver};
use crate::state::State;
use crate::ts::{Packets, TsReceiver};
use crate::worker::{Pace, Worker, FRAME_QUEUE};

/// Units waiting between the receiver and the decoder thread. A unit is a
/// coded picture or a PES packet of sound, so this is about a second.
const FEED_QUEUE: usize = 64;
/// How often `open` looks at its stop and reports a changed reason.
const OPEN_POLL: Duration = Duration::from_millis(100);

/// What to open, and for whom.
#[derive(Debug)]
pub struct NetworkOpen {
    /// The input: kinds Mpeg2Ts, Srt, Rtsp, MjpegRaw.
    pub input: InputConfig,
    /// The stream's time origin: nothing is stamped before it.
    pub origin: MonotonicNs,
    /// Passthru: a copy of every received TS packet goes here (`try_send`:
    /// a full channel drops the batch, counted, and never holds up the
    /// decoder). Transport-stream inputs only.
    pub tap: Option<SyncSender<Vec<[u8; 188]>>>,
}

/// Why a network input could not be opened.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The input is not one decoded here.
    #[error(
        "input '{name}' is a {kind} input; only MPEG2TS, SRT, RTSP and MJPEGRAW inputs are \
         decoded from the network"
    )]
    NotNetwork {
        /// The input's name.
        name: String,
        /// Its kind.
        kind: String,
    },
    /// The transport-stream receiver cannot work on this machine.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Stopped before the first picture came.
    #[error("stopped while waiting: {waiting}")]
    Stopped {
        /// Why no picture had come.
        waiting: String,
    },
    /// The receiver or decoder ended for good before the first picture.
    #[error("{0}")]
    Failed(String),
    /// A thread could not be started.
    #[error("{label}: cannot start a decoder thread: {source}")]
    Thread {
        /// The input.
        label: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Starts receiving and decoding; returns once the first picture is
/// decoded (its size fixes the frames' format for the life of this
/// capture), or `Err` when `stop()` turns true or for what waiting cannot
/// fix. While waiting it calls `waiting(reason)` whenever the reason
/// changes ("no packets on udp://127.0.0.1:5000 yet", "RTSP
/// rtsp://…: 404 Not Found", "the input's video is …, which this
/// appliance does not decode …").
pub fn open(
    request: NetworkOpen,
    stop: &dyn Fn() -> bool,
    waiting: &mut dyn FnMut(&str),
) -> Result<Box<dyn LiveCapture>, DecodeError> {
    decode::init();
    let NetworkOpen { input, origin, tap } = request;
    let (feed_tx, feed_rx) = sync_channel::<Feed>(FEED_QUEUE);
    let (state, receiver): (Arc<State>, Box<dyn FnOnce() + Send>) = match &input.kind {
        InputKind::Mpeg2Ts { .. } | InputKind::Srt { .. } => {
            let ts = TsInput::open(&input)?;
            let state = Arc::new(State::new(ts.label()));
            let receiver = TsReceiver {
                input: Packets::Network(ts),
                feed: feed_tx,
                state: Arc::clone(&state),
                tap,
            };
            (state, Box::new(move || receiver.run()))
        }
        InputKind::Rtsp { url } | InputKind::MjpegRaw { url } => {
            let kind = match input.kind {
                InputKind::Rtsp { .. } => Kind::Rtsp,
                _ => Kind::Mjpeg,
            };
            let state = Arc::new(State::new(redact(url.as_str())));
            let receiver = LavfReceiver {
                kind,
                url: url.as_str().to_string(),
                feed: feed_tx,
                state: Arc::clone(&state),
            };
            (state, Box::new(move || receiver.run()))
        }
        other => {
            return Err(DecodeError::NotNetwork {
                name: input.name.clone(),
                kind: format!("{:?}", other.input_type()),
            })
        }
    };
    let threads = Receiving {
        state,
        receiver,
        feed: feed_rx,
        origin,
        pace: Pace::Live,
    };
    start(threads, stop, waiting)
}

/// Opens a transport-stream file as [`open`] opens a network transport
/// stream, through the same demuxer, splitter, decoder and scaler, but as
/// fast as the pictures are taken: the decoder thread waits for room
/// instead of dropping a picture, the pictures' stamps follow the file's
/// timestamps (the first at the moment it is decoded), no slate is ever
/// sent, and at the file's end the pictures the decoder still holds come
/// out; then the capture's `next_frame` says the decoder stopped. For
/// `makarad bench transcode`.
pub fn open_ts_file(
    path: &Path,
    origin: MonotonicNs,
    stop: &dyn Fn() -> bool,
    waiting: &mut dyn FnMut(&str),
) -> Result<Box<dyn LiveCapture>, DecodeError> {
    decode::init();
    let file = TsFile::open(path).map_err(DecodeError::Failed)?;
    let state = Arc::new(State::new(file.label().to_string()));
    let (feed_tx, feed_rx) = sync_channel::<Feed>(FEED_QUEUE);
    let receiver = TsReceiver {
        input: Packets::File(file),
        feed: feed_tx,
        state: Arc::clone(&state),
        tap: None,
    };
    let threads = Receiving {
        state,
        receiver: Box::new(move || receiver.run()),
        feed: feed_rx,
        origin,
        pace: Pace::AsFastAsEncoded,
    };
    start(threads, stop, waiting)
}

/// The coded pictures of a transport-stream file's first program, as the
/// access-unit splitter cuts them: the frames [`open_ts_file`] delivers
/// when each decodes.
pub fn ts_file_pictures(path: &Path) -> Result<u64, DecodeError> {
    file::count_pictures(path).map_err(DecodeError::Failed)
}

/// A receiver, ready to run, and what its decoder thread needs.
struct Receiving {
    state: Arc<State>,
    receiver: Box<dyn FnOnce() + Send>,
    feed: Receiver<Feed>,
    origin: MonotonicNs,
    pace: Pace,
}

/// Starts the receiver and decoder threads and waits for the first
/// picture, as [`open`] describes.
fn start(
    receiving: Receiving,
    stop: &dyn Fn() -> bool,
    waiting: &mut dyn FnMut(&str),
) -> Result<Box<dyn LiveCapture>, DecodeError> {
    let Receiving {
        state,
        receiver,
        feed: feed_rx,
        origin,
        pace,
    } = receiving;
    let (frames_tx, frames_rx) = sync_channel(FRAME_QUEUE);
    let (ready_tx, ready_rx) = sync_channel(1);
    let worker_state = Arc::clone(&state);
    // Built on its own thread: libswscale's context is not Send.
    let worker =
        move || Worker::new(feed_rx, worker_state, frames_tx, ready_tx, origin, pace).run();
    let mut threads = Threads {
        state: Arc::clone(&state),
        handles: Vec::new(),
    };
    let spawn = |name: &str, work: Box<dyn FnOnce() + Send>| {
        thread::Builder::new()
            .name(name.into())
            .spawn(work)
            .map_err(|source| DecodeError::Thread {
                label: state.label.clone(),
                source,
            })
    };
    threads.handles.push(spawn("decode", Box::new(worker))?);
    threads.handles.push(spawn("receive", receiver)?);

    let mut reported: Option<String> = None;
    loop {
        match ready_rx.recv_timeout(OPEN_POLL) {
            Ok(ready) => {
                return Ok(Box::new(NetworkCapture {
                    format: ready.format,
                    pool: ready.pool,
                    frames: frames_rx,
                    state: Arc::clone(&state),
                    _threads: threads,
                }))
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                let why = state
                    .failure()
                    .unwrap_or_else(|| format!("{}: the decoder stopped", state.label));
                return Err(DecodeError::Failed(why));
            }
        }
        let reason = state.waiting_reason();
        if stop() {
            return Err(DecodeError::Stopped { waiting: reason });
        }
        if reported.as_deref() != Some(reason.as_str()) {
            waiting(&reason);
            reported = Some(reason);
        }
    }
}

#[cfg(test)]
mod tests;
