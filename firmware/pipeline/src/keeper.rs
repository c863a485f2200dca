//! A stream's keeper thread: builds the stages, runs the workers, and when
//! one fails, tears the run down, reports why, and tries again with
//! backoff until the stream is stopped. The outputs are opened once, at
//! start, and live as long as the stream: a retry keeps an SRT output's
//! peers. A network input is opened here, by the keeper, because it
//! waits for its first picture; meanwhile the stream is `waiting` and
//! says why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use makara_capture::{monotonic_now, DeviceError, LiveCapture, RawFile, RawFileError};
use makara_encode::{AudioEncoder, EncodeError, VideoEncoder, VideoSettings, VideoSettingsError};
use makara_media::{MonotonicNs, Pcr27M, VideoFormat};
use makara_mpegts::mux::{
    DvbName, MuxConfig, Muxer, DEFAULT_AUDIO_PID, DEFAULT_KLV_PID, DEFAULT_VIDEO_PID,
};

use crate::captions::Captioner;
use crate::codecs::{Codecs, NetworkOpen, TsPackets};
use crate::ring::ring;
use crate::sender::{Sender, Unit};
use crate::setup::{Setup, Source as Input};
use crate::shared::Shared;
use crate::sink::{PacketSink, SinkError};
use crate::source::Source;
use crate::video::VideoEncode;

pub(crate) const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Encoded units waiting for the sender.
const UNIT_QUEUE: usize = 256;
/// Batches of the input's packets waiting for the passthru output: at a
/// batch per received datagram of seven packets, about 90 ms of a
/// 80 Mbit/s input, more of a slower one. A full queue loses batches at
/// the capture, never holds it up.
const PASSTHRU_QUEUE: usize = 512;

/// What a worker sees of its run: the stream's counters, and whether to stop.
pub struct Worker {
    shared: Arc<Shared>,
    abort: Arc<AtomicBool>,
}

impl Worker {
    pub fn should_stop(&self) -> bool {
        self.shared.stopping() || self.abort.load(Ordering::Relaxed)
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }
}

/// The capture and encoders of one run. `Engine::start` opens the first
/// set (but a network input's), so that a configuration they refuse fails
/// the start itself; the keeper opens a fresh set for every retry.
pub struct Stages {
    /// Where this run's timestamps count from: the source's frame 0 when it
    /// has its own timeline (the test pattern).
    origin: MonotonicNs,
    /// The input, open and running.
    capture: Box<dyn LiveCapture>,
    /// The encoder's settings for this run's source.
    settings: VideoSettings,
    video: Box<dyn VideoEncoder>,
    audio: Option<Box<dyn AudioEncoder>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("capture: {0}")]
    Capture(#[from] DeviceError),
    #[error(transparent)]
    RawFile(#[from] RawFileError),
    #[error("{0}")]
    Network(String),
    #[error("this build has no decoder for network inputs")]
    NoDecoder,
    #[error("video settings for the captured picture: {0}")]
    Settings(#[from] VideoSettingsError),
    #[error("video encoder: {0}")]
    Video(EncodeError),
    #[error("audio encoder: {0}")]
    Audio(EncodeError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// What opening a network input may ask of the keeper: whether to give
/// up, where to say why it waits, and where to copy the input's packets.
pub struct Watch<'a> {
    pub stop: &'a dyn Fn() -> bool,
    pub waiting: &'a mut dyn FnMut(&str),
    pub tap: Option<SyncSender<TsPackets>>,
}

impl Stages {
    /// Opens every stage; a network input is waited for without end.
    pub fn open(setup: &Setup, codecs: &Codecs) -> Result<Stages, StageError> {
        let watch = Watch {
            stop: &|| false,
            waiting: &mut |_| {},
            tap: None,
        };
        Stages::open_watched(setup, codecs, watch)
    }

    pub fn open_watched(
        setup: &Setup,
        codecs: &Codecs,
        watch: Watch<'_>,
    ) -> Result<Stages, StageError> {
        let origin = monotonic_now();
        let (capture, settings): (Box<dyn LiveCapture>, _) = match &setup.source {
            Input::Pattern => (
                codecs.devices.open_pattern(setup.pattern, origin)?,
                setup.video,
            ),
            Input::Device { port, mode } => {
                let capture = codecs.devices.open(*port, *mode)?;
                let settings = VideoSettings::from_transcoder(&setup.transcoder, capture.format())?;
                (capture, settings)
            }
            Input::DeckLink { port, mode } => {
                let capture = codecs.devices.open_decklink(*port, *mode)?;
                let settings = VideoSettings::from_transcoder(&setup.transcoder, capture.format())?;
                (capture, settings)
            }
            Input::RawFile { path, pixel_format } => {
                let format = VideoFormat {
                    pixel_format: *pixel_format,
                    ..setup.video.input
                };
                (Box::new(RawFile::open(path, format, origin)?), setup.video)
            }
            Input::Network(input) => {
                let factory = codecs.network.as_ref().ok_or(StageError::NoDecoder)?;
                let request = NetworkOpen {
                    input: input.clone(),
                    origin,
                    tap: watch.tap,
                };
                let capture = factory(request, watch.stop, watch.waiting)
                    .map_err(|e| StageError::Network(e.to_string()))?;
                let settings = VideoSettings::from_transcoder(&setup.transcoder, capture.format())?;
                (capture, settings)
            }
        };
        let video = (codecs.video)(&settings).map_err(StageError::Video)?;
        let audio = match &setup.audio {
            Some(a) => Some((codecs.audio)(a).map_err(StageError::Audio)?),
            None => None,
        };
        Ok(Stages {
            origin,
            capture,
            settings,
            video,
            audio,
        })
    }
}

/// What a transcoded stream holds for its whole life: its outputs, and in
/// passthru mode the output the input's own packets go to.
pub struct Outputs {
    pub sink: PacketSink,
    pub passthru: Option<crate::relay::PassthruOutput>,
}

/// Runs the stream until it is stopped, restarting it after failures.
/// `first` is the run `Engine::start` opened, if it opened one.
pub fn keep(
    setup: Setup,
    codecs: Arc<Codecs>,
    shared: Arc<Shared>,
    outputs: Outputs,
    first: Option<Stages>,
) {
    let Outputs { mut sink, passthru } = outputs;
    let (tap, tapped) = match passthru {
        Some(output) => {
            let (tap, tapped) = sync_channel(PASSTHRU_QUEUE);
            (Some(tap), Some((tapped, output)))
        }
        None => (None, None),
    };
    let done = AtomicBool::new(false);
    let name = setup.name.as_str();
    thread::scope(|scope| {
        let stopped = || shared.stopping() || done.load(Ordering::Relaxed);
        let relay = tapped.map(|(tapped, output)| {
            thread::Builder::new()
                .name("passthru".into())
                .spawn_scoped(scope, move || {
                    crate::relay::passthru(&tapped, output, name, &stopped)
                })
        });
        if let Some(Err(error)) = &relay {
            tracing::error!(stream = %name, %error, "no passthru thread: the passthru output gets nothing");
        }
        retry(&setup, &codecs, &shared, &mut sink, tap.as_ref(), first);
        done.store(true, Ordering::Relaxed);
    });
    shared.active.store(false, Ordering::Relaxed);
}

/// Runs and reruns the stream's stages until a stop.
fn retry(
    setup: &Setup,
    codecs: &Codecs,
    shared: &Arc<Shared>,
    sink: &mut PacketSink,
    tap: Option<&SyncSender<TsPackets>>,
    mut stages: Option<Stages>,
) {
    let mut backoff = FIRST_BACKOFF;
    while !shared.stopping() {
        let run = match stages.take() {
            Some(s) => Ok(s),
            None => open_run(setup, codecs, shared, tap.cloned()).map_err(|e| e.to_string()),
        };
        match run.and_then(|s| run_once(setup, s, sink, shared)) {
            Ok(()) => break,
            Err(_) if shared.stopping() => break,
            Err(reason) => {
                shared.active.store(false, Ordering::Relaxed);
                shared.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(stream = %setup.name, %reason, retry_in = ?backoff, "stream failed; retrying");
                shared.set_problem(Some(reason));
                sleep_unless_stopped(shared, backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A fresh set of stages; a network input's wait shows as the stream's
/// problem and as the input's: not receiving, and why.
fn open_run(
    setup: &Setup,
    codecs: &Codecs,
    shared: &Shared,
    tap: Option<SyncSender<TsPackets>>,
) -> Result<Stages, StageError> {
    let mut said = String::new();
    let mut waiting = |why: &str| {
        if why != said {
            tracing::info!(stream = %setup.name, "waiting for the input: {why}");
            said = why.to_string();
        }
        shared.set_problem(Some(why.to_string()));
        shared.input_waits(why);
    };
    let watch = Watch {
        stop: &|| shared.stopping(),
        waiting: &mut waiting,
        tap,
    };
    Stages::open_watched(setup, codecs, watch)
}

pub(crate) fn sleep_unless_stopped(shared: &Shared, total: Duration) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < total && !shared.stopping() {
        thread::sleep(step);
        slept += step;
    }
}

/// One run: every stage built fresh, three workers, until a stop, the
/// first failure, or (with a frame limit) the last packet.
pub(crate) fn run_once(
    setup: &Setup,
    stages: Stages,
    sink: &mut PacketSink,
    shared: &Arc<Shared>,
) -> Result<(), String> {
    let Stages {
        origin,
        capture,
        settings,
        video: video_encoder,
        audio: audio_encoder,
    } = stages;
    let delay_90k = crate::video::presentation_delay_90k(setup.delay_ms, &settings);
    let mux = Muxer::new(mux_config(setup)?, Pcr27M(0));
    let (ring, frames) =
        ring(std::sync::Arc::clone(capture.pool()), setup.pace).map_err(|e| e.to_string())?;
    let (units_tx, units_rx) = sync_channel::<Unit>(UNIT_QUEUE);

    let audio_delay_90k = delay_90k.saturating_add_signed(i64::from(setup.audio_offset_ms) * 90);
    let source = Source {
        capture,
        ring,
        pace: setup.pace,
        audio: audio_encoder,
        units: units_tx.clone(),
        origin,
        video_delay_90k: delay_90k,
        audio_delay_90k,
        metadata: setup.metadata,
        frame_limit: setup.frame_limit,
        label: match &setup.source {
            Input::Pattern => "the test pattern".into(),
            Input::Device { port, .. } => format!("capturePort {port}"),
            Input::DeckLink { port, .. } => format!("decklinkPort {port}"),
            Input::RawFile { path, .. } => path.display().to_string(),
            Input::Network(input) => network_label(input),
        },
    };
    let video = VideoEncode {
        frames,
        encoder: video_encoder,
        settings,
        units: units_tx,
        origin,
        delay_90k,
        next_out_ns: None,
        converted_from: None,
        captions: Captioner::new(settings.codec),
    };
    let sender = Sender {
        mux,
        sink,
        units: units_rx,
        origin,
        pace: setup.pace,
        pacing: setup.pacing,
        tick: Duration::from_millis(u64::from(setup.pacing_tick_ms)),
        delay_27m: delay_90k * 300,
    };
    shared.set_problem(None);
    // Announced while this run lasts; the deletion leaves after its end.
    let _announcements = crate::sap::announce(setup);
    let abort = Arc::new(AtomicBool::new(false));
    let worker = || Worker {
        shared: Arc::clone(shared),
        abort: Arc::clone(&abort),
    };
    let results = thread::scope(|scope| {
        let handles = [
            spawn_worker(scope, "source", worker(), move |w| source.run(w)),
            spawn_worker(scope, "encode", worker(), move |w| video.run(w)),
            spawn_worker(scope, "sender", worker(), move |w| sender.run(w)),
        ];
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err("a stream thread panicked".into())),
                Err(e) => Err(format!("a stream thread could not start: {e}")),
            })
            .collect::<Vec<_>>()
    });
    // The run's capture is closed: its frames go back before the next
    // run opens the device again.
    shared.picture.clear();
    results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
}

/// "input 'Camera 3' (srt://…)", as signal-loss messages name a network
/// input.
pub(crate) fn network_label(input: &makara_config::InputConfig) -> String {
    match input.kind.url() {
        Some(url) => format!("input '{}' ({})", input.name, url.as_str()),
        None => format!("input '{}'", input.name),
    }
}

/// Starts one stage; its failure ends the run for all of them.
fn spawn_worker<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    name: &str,
    worker: Worker,
    work: impl FnOnce(&Worker) -> Result<(), String> + Send + 'scope,
) -> std::io::Result<thread::ScopedJoinHandle<'scope, Result<(), String>>> {
    thread::Builder::new()
        .name(name.into())
        .spawn_scoped(scope, move || {
            let result = work(&worker);
            if result.is_err() {
                worker.abort.store(true, Ordering::Relaxed);
            }
            result
        })
}

/// PCR spacing of a variable-rate stream (a constant-rate one keeps the
/// muxer's 40 ms).
const VARIABLE_RATE_PCR_INTERVAL_MS: u32 = 20;

/// The stream's transport: H.264, the audio codec if audio is on, KLV if
/// metadata is on, each on the muxer's default PID; variable-rate when the
/// video is; the SDT names the stream and the box.
pub(crate) fn mux_config(setup: &Setup) -> Result<makara_mpegts::mux::ValidMuxConfig, String> {
    let mut config = MuxConfig::new(setup.mux_rate_bps);
    config.video = Some((DEFAULT_VIDEO_PID, setup.video.codec));
    config.audio = setup.audio.map(|a| (DEFAULT_AUDIO_PID, a.codec));
    config.klv_pid = setup.metadata.then_some(DEFAULT_KLV_PID);
    // vbr leaves the link idle when the encoder is; cbr pads to its rate.
    config.variable_rate = setup.video.rate_control == makara_encode::RateControl::Vbr;
    config.service_name = DvbName::new(&setup.name);
    // Every run may follow an earlier one a receiver saw (a retry, a stop
    // and start, a reboot), and its counters and PCR start again: its
    // first packets say so. Marking a first-ever run costs nothing.
    config.restart = true;
    // The receiver's video buffer: x264 signals a level whose CPB holds
    // at least the VBV, so sent but undecoded video is kept within it.
    let vbv_bytes =
        u64::from(setup.video.max_bitrate_kbps) * u64::from(setup.video.vbv_buffer_ms) / 8;
    config.video_buffer_bytes = Some(vbv_bytes.min(u64::from(u32::MAX)) as u32);
    if config.variable_rate {
        // Between PCRs a receiver spreads a variable-rate stream's bytes
        // evenly; 20 ms keeps that error small enough for the audio buffer.
        // A slow stream has too few packet slots in 20 ms: it gets the
        // shortest interval its rate allows.
        config.pcr_interval_ms = VARIABLE_RATE_PCR_INTERVAL_MS.max(config.min_interval_ms());
    }
    config.service_provider = DvbName::new(&setup.provider);
    config.validate().map_err(|e| e.to_string())
}
