//! The pipeline as the supervisor's engine: streams on their own threads,
//! the taps on outputs ([`crate::taps`]) and thumbnails of the pictures
//! ([`crate::thumbnail`]).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use makara_capture::DeviceError;
use makara_config::Id;
use makara_engine::{
    Engine, EngineError, StreamPlan, StreamState, StreamStats, TapId, Thumbnail, TsTap,
};
use makara_input::TsInput;
use makara_output::TsOutput;

use crate::codecs::Codecs;
use crate::keeper::{self, Outputs, StageError};
use crate::relay::PassthruOutput;
use crate::setup::{input_name, BypassSetup, Setup, SetupError, Source};
use crate::shared::Shared;
use crate::sink::PacketSink;
use crate::taps::{OutputTaps, Taps};

/// Runs every started stream on its own threads.
#[derive(Debug)]
pub struct Pipeline {
    codecs: Arc<Codecs>,
    streams: HashMap<Id, Running>,
    /// Every output's taps, kept across the streams that send to them.
    taps: Taps,
}

#[derive(Debug)]
struct Running {
    /// The stream's name, as messages say it.
    name: String,
    /// Relays its input's packets: never decodes a picture.
    bypass: bool,
    shared: Arc<Shared>,
    keeper: JoinHandle<()>,
}

impl Pipeline {
    pub fn new(codecs: Codecs) -> Pipeline {
        Pipeline {
            codecs: Arc::new(codecs),
            streams: HashMap::new(),
            taps: Taps::default(),
        }
    }

    /// The taps of the stream's outputs, in the plan's order (the ids of
    /// `stream.outputs` name `outputs`, one for one).
    fn output_taps(&self, plan: &StreamPlan) -> Vec<Arc<OutputTaps>> {
        if plan.stream.outputs.len() != plan.outputs.len() {
            tracing::error!(stream = %plan.stream.name, "the plan's outputs do not match their ids; the stream's outputs cannot be tapped");
            return Vec::new();
        }
        plan.stream
            .outputs
            .iter()
            .map(|id| self.taps.of(id))
            .collect()
    }

    /// A transcoded stream (transcoder or passthru mode): the outputs and,
    /// but for a network input, the capture and encoders are opened here,
    /// so that what they refuse fails the start. A network input is
    /// opened by the keeper, which waits for its first picture.
    fn start_transcoding(&self, plan: &StreamPlan) -> Result<Running, EngineError> {
        let setup = Setup::from_plan(plan).map_err(unavailable)?;
        let network = matches!(setup.source, Source::Network(_));
        if network && self.codecs.network.is_none() {
            let kind = input_name(&plan.input.kind);
            return Err(unavailable(SetupError::NoDecoder(kind)));
        }
        let first = match network {
            true => None,
            false => Some(keeper::Stages::open(&setup, &self.codecs).map_err(stage_error)?),
        };
        let sink = PacketSink::open(&setup)
            .map_err(|e| EngineError::Failed(e.to_string()))?
            .tapped(self.output_taps(plan));
        let passthru = setup
            .passthru
            .clone()
            .map(TsOutput::open)
            .transpose()
            .map_err(|e| EngineError::Failed(e.to_string()))?;
        let mut statuses = sink.statuses();
        statuses.extend(passthru.as_ref().map(TsOutput::status));
        let passthru = passthru.map(|output| PassthruOutput {
            output,
            taps: match &plan.stream.passthru {
                Some(id) => self.taps.of(id),
                None => Arc::default(),
            },
        });
        let shared = Arc::new(Shared::with_outputs(statuses));
        if let Source::Network(input) = &setup.source {
            // Said before the API answers the start, so that a GET never
            // sees `waiting` without a reason; the keeper's wait refines it.
            shared.set_problem(Some(format!(
                "waiting for the first picture from {}",
                keeper::network_label(input)
            )));
        }
        let codecs = Arc::clone(&self.codecs);
        let keeper_shared = Arc::clone(&shared);
        let outputs = Outputs { sink, passthru };
        let keeper = spawn_keeper(&plan.stream.name, move || {
            keeper::keep(setup, codecs, keeper_shared, outputs, first)
        })?;
        Ok(Running {
            name: plan.stream.name.clone(),
            bypass: false,
            shared,
            keeper,
        })
    }

    /// A bypass stream: the input and the outputs open here, the relay in
    /// the keeper's thread.
    fn start_bypass(&self, plan: &StreamPlan) -> Result<Running, EngineError> {
        let setup = BypassSetup::from_plan(plan).map_err(unavailable)?;
        let sink = PacketSink::outputs(&setup.outputs)
            .map_err(|e| EngineError::Failed(e.to_string()))?
            .tapped(self.output_taps(plan));
        let input = TsInput::open(&setup.input).map_err(|e| EngineError::Failed(e.to_string()))?;
        let shared = Arc::new(Shared::with_outputs(sink.statuses()));
        // No signal until packets come: the relay clears the reason when
        // they do (a GET never sees `waiting` without one).
        shared.set_problem(Some(format!(
            "waiting for the first packets from {}",
            keeper::network_label(&setup.input)
        )));
        shared
            .signal
            .store(false, std::sync::atomic::Ordering::Release);
        let keeper_shared = Arc::clone(&shared);
        let keeper = spawn_keeper(&plan.stream.name, move || {
            crate::relay::keep_bypass(setup, input, sink, keeper_shared)
        })?;
        Ok(Running {
            name: plan.stream.name.clone(),
            bypass: true,
            shared,
            keeper,
        })
    }
}

fn spawn_keeper(
    stream: &str,
    keep: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, EngineError> {
    thread::Builder::new()
        .name(format!("stream {stream}"))
        .spawn(keep)
        .map_err(|e| EngineError::Failed(format!("the stream thread could not start: {e}")))
}

/// What this engine can never run.
fn unavailable(e: SetupError) -> EngineError {
    EngineError::Unavailable(e.to_string())
}

fn stage_error(e: StageError) -> EngineError {
    match e {
        // Retrying cannot make a port, a driver or a mode appear.
        StageError::Capture(
            DeviceError::NoPort { .. }
            | DeviceError::NoMode { .. }
            | DeviceError::NoDeckLink { .. }
            | DeviceError::NoDeckLinkMode { .. },
        ) => EngineError::Unavailable(e.to_string()),
        _ => EngineError::Failed(e.to_string()),
    }
}

impl Engine for Pipeline {
    /// Refuses what this engine cannot do, opens the outputs (and what
    /// else can be opened now) so that configuration errors fail the
    /// start, then hands the stream to its keeper thread.
    fn start(&mut self, plan: &StreamPlan) -> Result<(), EngineError> {
        if self.streams.contains_key(&plan.id) {
            return Ok(());
        }
        let running = match plan.stream.mode {
            makara_config::StreamMode::Bypass => self.start_bypass(plan)?,
            _ => self.start_transcoding(plan)?,
        };
        self.streams.insert(plan.id.clone(), running);
        Ok(())
    }

    /// Every thread of the stream checks the stop flag at least every 50 ms,
    /// so this returns well within a second.
    fn stop(&mut self, id: &Id) {
        if let Some(running) = self.streams.remove(id) {
            running.shared.stop.store(true, Ordering::Relaxed);
            if running.keeper.join().is_err() {
                tracing::error!(stream = %id, "the stream's keeper panicked");
            }
            self.taps.forget_unused();
        }
    }

    fn state(&self, id: &Id) -> Option<StreamState> {
        self.streams.get(id).map(|r| r.shared.state())
    }

    fn stats(&self, id: &Id) -> Option<(StreamStats, Option<String>)> {
        self.streams
            .get(id)
            .map(|r| (r.shared.stats(), r.shared.problem()))
    }

    fn encoder_available(&self, encoder: makara_config::EncoderType) -> Result<(), String> {
        use makara_config::EncoderType;
        use makara_encode::Hardware;
        match encoder {
            EncoderType::Unset => Ok(()),
            EncoderType::Qsv => (self.codecs.hardware)(Hardware::Qsv),
            EncoderType::Vaapi => (self.codecs.hardware)(Hardware::Vaapi),
        }
    }

    fn capture_ports(&self) -> Vec<makara_media::CapturePort> {
        self.codecs.devices.ports()
    }

    fn decklink_ports(&self) -> Vec<makara_media::CapturePort> {
        self.codecs.devices.decklink_ports()
    }

    /// The tap is called on the sender thread of the stream that sends to
    /// `output` (the passthru thread for a passthru output), after the
    /// output took each batch.
    fn tap(&mut self, output: &Id, tap: Arc<dyn TsTap>) -> Result<TapId, EngineError> {
        self.taps
            .attach(output, tap)
            .map_err(|e| EngineError::Failed(e.to_string()))
    }

    /// Once this returns, the tap is not called again (a delivery in
    /// progress is waited for: one batch at most).
    fn untap(&mut self, tap: TapId) {
        self.taps.detach(tap);
    }

    /// Made on the caller's thread from the frame the encoder last took;
    /// the stream's threads never wait for it.
    fn thumbnail(&self, id: &Id, max_width: u32) -> Result<Thumbnail, EngineError> {
        let running = self.streams.get(id).ok_or_else(|| {
            EngineError::Failed(format!("stream {id} is not running, so it has no picture"))
        })?;
        let name = &running.name;
        if running.bypass {
            return Err(EngineError::Unavailable(format!(
                "stream '{name}' is in bypass mode: its input is relayed without being decoded, so there is no picture to show"
            )));
        }
        let frame = running.shared.picture.get().ok_or_else(|| {
            EngineError::Failed(format!(
                "stream '{name}' has no picture yet: its source has delivered no frame since it (re)started"
            ))
        })?;
        crate::thumbnail::thumbnail(frame, max_width)
            .map_err(|e| EngineError::Failed(format!("stream '{name}': {e}")))
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let ids: Vec<Id> = self.streams.keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
    }
}
