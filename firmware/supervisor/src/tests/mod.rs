//! Black-box tests of the supervisor: everything goes through
//! [`Handle::start`] and [`Handle::call`], as the API does. Dropping the
//! handle and joining the thread is a power-off; starting again on the same
//! directory is a reboot.

mod crud;
mod engine;
mod events;
mod gate;
mod group_commit;
mod groups;
mod persistence;
mod presets;
mod reads;
mod recordings;
mod references;
mod report;
mod sources;
mod storage;
mod summary;
mod ts;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use makara_config::{
    Id, InputConfig, InputRequest, OutputConfig, OutputRequest, StreamConfig, StreamMode,
    TranscoderConfig, TranscoderRequest,
};
use makara_test_support::TestDir;

use makara_engine::{TapId, Thumbnail, TsTap};

use crate::{
    Command, CommandError, Engine, EngineError, Handle, InputView, Kind, LocalRecorder, OutputView,
    PresetView, Reply, StreamPlan, StreamState, StreamStats, StreamView, TranscoderView,
};

// ---------------------------------------------------------------------------
// A scriptable engine

/// One call the supervisor made on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    Start(Id),
    Stop(Id),
}

/// What a [`FakeEngine`] did and will do; shared with the test through a
/// [`Probe`] so it can be inspected after the engine was boxed.
pub(crate) struct FakeState {
    pub calls: Vec<Call>,
    pub plans: Vec<StreamPlan>,
    pub running: HashMap<Id, StreamState>,
    /// The state a successful start leaves the stream in.
    pub start_state: StreamState,
    /// Every start fails with this, when set.
    pub fail_all: Option<Failure>,
    /// Starts of these streams fail.
    pub fail: HashMap<Id, Failure>,
    /// Runs at every start, before it succeeds or fails: lets a test act
    /// in the middle of a command.
    pub on_start: Option<StartHook>,
    /// Taps attached, by id, with their output.
    pub taps: Vec<(TapId, Id, Arc<dyn TsTap>)>,
    pub next_tap: u64,
    /// Every tap is refused, when set.
    pub refuse_taps: bool,
    /// What `stats` reports for a running stream.
    pub stats: HashMap<Id, (StreamStats, Option<String>)>,
    /// The picture `thumbnail` gives a running stream; `None`: no picture
    /// yet (`Failed`).
    pub picture: Option<Thumbnail>,
    /// Every thumbnail asked for: stream and width.
    pub thumbnails: Vec<(Id, u32)>,
    /// What `capture_ports` reports.
    pub capture_ports: Vec<makara_media::CapturePort>,
    /// What `decklink_ports` reports.
    pub decklink_ports: Vec<makara_media::CapturePort>,
}

/// See [`FakeState::on_start`].
pub(crate) type StartHook = Box<dyn FnMut(&Id) + Send>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Unavailable,
    Failed,
}

pub(crate) struct FakeEngine(Probe);

/// The test's view of a [`FakeEngine`].
#[derive(Clone)]
pub(crate) struct Probe(Arc<Mutex<FakeState>>);

impl FakeEngine {
    pub(crate) fn new() -> (FakeEngine, Probe) {
        let probe = Probe(Arc::new(Mutex::new(FakeState {
            calls: Vec::new(),
            plans: Vec::new(),
            running: HashMap::new(),
            start_state: StreamState::Active,
            fail_all: None,
            fail: HashMap::new(),
            on_start: None,
            taps: Vec::new(),
            next_tap: 0,
            refuse_taps: false,
            stats: HashMap::new(),
            picture: None,
            thumbnails: Vec::new(),
            capture_ports: Vec::new(),
            decklink_ports: Vec::new(),
        })));
        (FakeEngine(probe.clone()), probe)
    }
}

impl Engine for FakeEngine {
    fn start(&mut self, plan: &StreamPlan) -> Result<(), EngineError> {
        let mut s = self.0.lock();
        s.calls.push(Call::Start(plan.id.clone()));
        s.plans.push(plan.clone());
        if let Some(hook) = s.on_start.as_mut() {
            hook(&plan.id);
        }
        let failure = s.fail_all.or_else(|| s.fail.get(&plan.id).copied());
        match failure {
            Some(Failure::Unavailable) => {
                Err(EngineError::Unavailable("fake: no engine here".into()))
            }
            Some(Failure::Failed) => Err(EngineError::Failed("fake: the input is silent".into())),
            None => {
                let state = s.start_state;
                s.running.insert(plan.id.clone(), state);
                Ok(())
            }
        }
    }

    fn stop(&mut self, id: &Id) {
        let mut s = self.0.lock();
        s.calls.push(Call::Stop(id.clone()));
        s.running.remove(id);
    }

    fn state(&self, id: &Id) -> Option<StreamState> {
        self.0.lock().running.get(id).copied()
    }

    fn stats(&self, id: &Id) -> Option<(StreamStats, Option<String>)> {
        let s = self.0.lock();
        s.running.get(id)?;
        s.stats.get(id).cloned()
    }

    fn capture_ports(&self) -> Vec<makara_media::CapturePort> {
        self.0.lock().capture_ports.clone()
    }

    fn decklink_ports(&self) -> Vec<makara_media::CapturePort> {
        self.0.lock().decklink_ports.clone()
    }

    fn tap(&mut self, output: &Id, tap: Arc<dyn TsTap>) -> Result<TapId, EngineError> {
        let mut s = self.0.lock();
        if s.refuse_taps {
            return Err(EngineError::Unavailable("fake: no taps here".into()));
        }
        s.next_tap += 1;
        let id = TapId(s.next_tap);
        s.taps.push((id, output.clone(), tap));
        Ok(id)
    }

    fn untap(&mut self, tap: TapId) {
        self.0.lock().taps.retain(|(id, _, _)| *id != tap);
    }

    fn thumbnail(&self, id: &Id, max_width: u32) -> Result<Thumbnail, EngineError> {
        let mut s = self.0.lock();
        s.thumbnails.push((id.clone(), max_width));
        s.picture
            .clone()
            .ok_or_else(|| EngineError::Failed("fake: no frame captured yet".into()))
    }
}

impl Probe {
    pub(crate) fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub(crate) fn starts(&self) -> Vec<Id> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Start(id) => Some(id),
                Call::Stop(_) => None,
            })
            .collect()
    }

    pub(crate) fn stops(&self) -> Vec<Id> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Stop(id) => Some(id),
                Call::Start(_) => None,
            })
            .collect()
    }

    pub(crate) fn is_running(&self, id: &Id) -> bool {
        self.lock().running.contains_key(id)
    }

    pub(crate) fn clear_calls(&self) {
        let mut s = self.lock();
        s.calls.clear();
        s.plans.clear();
    }

    pub(crate) fn fail_all(&self, failure: Option<Failure>) {
        self.lock().fail_all = failure;
    }

    pub(crate) fn fail(&self, id: &Id, failure: Failure) {
        self.lock().fail.insert(id.clone(), failure);
    }

    pub(crate) fn set_start_state(&self, state: StreamState) {
        self.lock().start_state = state;
    }

    /// Sets a running stream's state, as the engine would on its own.
    pub(crate) fn set_state(&self, id: &Id, state: StreamState) {
        self.lock().running.insert(id.clone(), state);
    }

    pub(crate) fn set_stats(&self, id: &Id, stats: StreamStats, problem: Option<&str>) {
        let problem = problem.map(str::to_string);
        self.lock().stats.insert(id.clone(), (stats, problem));
    }

    /// The outputs tapped now, one entry per tap.
    pub(crate) fn tapped(&self) -> Vec<Id> {
        self.lock().taps.iter().map(|(_, o, _)| o.clone()).collect()
    }

    /// Hands `ts` to every tap on `output`, as a stream sending to it does.
    pub(crate) fn feed(&self, output: &Id, ts: &[u8]) {
        let taps: Vec<Arc<dyn TsTap>> = self
            .lock()
            .taps
            .iter()
            .filter(|(_, o, _)| o == output)
            .map(|(_, _, t)| t.clone())
            .collect();
        for tap in taps {
            tap.packets(ts);
        }
    }
}

// ---------------------------------------------------------------------------
// The appliance under test

/// A supervisor on its own data directory, with power switch.
pub(crate) struct Rig {
    handle: Option<Handle>,
    thread: Option<JoinHandle<()>>,
    /// The engine of the current boot.
    pub probe: Probe,
    dir: TestDir,
    /// The limits of its recorder (on `<dir>/recordings`), opened again at
    /// every boot; `None`: it runs without one.
    recorder_limits: Option<makara_recorder::Limits>,
    /// The recorder of this boot: the same one the supervisor holds.
    pub recorder: Option<makara_recorder::Recorder>,
}

/// A recorder's limits for a scratch disk: no free-space floor.
pub(crate) fn test_recorder_limits() -> makara_recorder::Limits {
    makara_recorder::Limits {
        min_free_bytes: 0,
        keep_free_bytes: 0,
        ..makara_recorder::Limits::default()
    }
}

impl Rig {
    /// A fresh appliance running a [`FakeEngine`] and a recorder with
    /// these limits.
    pub(crate) fn recording(label: &str, limits: makara_recorder::Limits) -> Rig {
        let dir = TestDir::new(&format!("supervisor-{label}"));
        let (engine, probe) = FakeEngine::new();
        let mut rig = Rig {
            handle: None,
            thread: None,
            probe,
            dir,
            recorder_limits: Some(limits),
            recorder: None,
        };
        rig.power_on(Box::new(engine));
        rig
    }

    /// The recorder of this boot, opened here: a second handle on the
    /// same recordings (as the recorder's clones are).
    fn open_recorder(&mut self) -> LocalRecorder {
        match self.recorder_limits {
            None => LocalRecorder::Unavailable("none in this test".into()),
            Some(limits) => {
                let root = self.dir.path().join("recordings");
                let (recorder, recovery) =
                    makara_recorder::Recorder::open(&root, limits).expect("open the recorder");
                self.recorder = Some(recorder.clone());
                LocalRecorder::Open(recorder, recovery)
            }
        }
    }

    fn power_on(&mut self, engine: Box<dyn Engine>) {
        let recorder = self.open_recorder();
        let (handle, thread) =
            Handle::start_with_recorder(self.dir.path(), engine, recorder).expect("start");
        self.handle = Some(handle);
        self.thread = Some(thread);
        self.wait_for_boot();
    }

    /// A fresh appliance running a [`FakeEngine`].
    pub(crate) fn new(label: &str) -> Rig {
        let dir = TestDir::new(&format!("supervisor-{label}"));
        let (engine, probe) = FakeEngine::new();
        let (handle, thread) = Handle::start(dir.path(), Box::new(engine)).expect("start");
        let rig = Rig {
            handle: Some(handle),
            thread: Some(thread),
            probe,
            dir,
            recorder_limits: None,
            recorder: None,
        };
        rig.wait_for_boot();
        rig
    }

    /// A fresh appliance running `engine`; `probe` is then a dummy.
    pub(crate) fn with_engine(label: &str, engine: Box<dyn Engine>) -> Rig {
        let dir = TestDir::new(&format!("supervisor-{label}"));
        let (handle, thread) = Handle::start(dir.path(), engine).expect("start");
        let rig = Rig {
            handle: Some(handle),
            thread: Some(thread),
            probe: FakeEngine::new().1,
            dir,
            recorder_limits: None,
            recorder: None,
        };
        rig.wait_for_boot();
        rig
    }

    /// A fresh appliance running a [`FakeEngine`], saving through a
    /// [`gate::GatedStore`] (open until the test closes it).
    pub(crate) fn gated(label: &str) -> (Rig, gate::Gate) {
        let dir = TestDir::new(&format!("supervisor-{label}"));
        let (engine, probe) = FakeEngine::new();
        let (store, document) = crate::document::Store::open(dir.path()).expect("open");
        let (store, gate) = gate::GatedStore::new(store);
        let (handle, thread) = Handle::start_with(
            dir.path(),
            Box::new(store),
            document,
            Box::new(engine),
            crate::LocalRecorder::Unavailable("none in this test".into()),
            crate::BoardLimits::UPPER,
        )
        .expect("start");
        let rig = Rig {
            handle: Some(handle),
            thread: Some(thread),
            probe,
            dir,
            recorder_limits: None,
            recorder: None,
        };
        rig.wait_for_boot();
        (rig, gate)
    }

    /// Boot runs on the supervisor thread before the first command, and
    /// reads are answered from a snapshot only once boot published one
    /// (earlier ones go to the thread), so any answer means boot is over.
    fn wait_for_boot(&self) {
        self.call(Command::List(Kind::Preset)).expect("booted");
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where a test may move the data directory; removed with it.
    pub(crate) fn aside(&self) -> PathBuf {
        self.dir.aside()
    }

    pub(crate) fn handle(&self) -> &Handle {
        self.handle.as_ref().expect("powered on")
    }

    pub(crate) fn call(&self, command: Command) -> Result<Reply, CommandError> {
        self.handle().call(command)
    }

    /// Drops the handle and waits for the supervisor thread to end.
    pub(crate) fn power_off(&mut self) {
        // The recorder's lock goes with its last clone.
        self.recorder = None;
        self.handle = None;
        if let Some(thread) = self.thread.take() {
            thread.join().expect("supervisor thread panicked");
        }
    }

    /// Powers off and on again with a fresh [`FakeEngine`], whose probe
    /// replaces `self.probe`. Returns the probe of the engine that ran
    /// before.
    pub(crate) fn reboot(&mut self) -> Probe {
        let (engine, probe) = FakeEngine::new();
        self.reboot_with_engine(Box::new(engine));
        std::mem::replace(&mut self.probe, probe)
    }

    /// Powers off and on again with `engine`; the probe is left as it was.
    pub(crate) fn reboot_with_engine(&mut self, engine: Box<dyn Engine>) {
        self.power_off();
        self.power_on(engine);
    }

    /// Powers on again with a fresh engine whose starts fail as given
    /// before boot runs.
    pub(crate) fn reboot_failing(&mut self, failure: Failure) -> Probe {
        let (engine, probe) = FakeEngine::new();
        probe.fail_all(Some(failure));
        self.reboot_with_engine(Box::new(engine));
        std::mem::replace(&mut self.probe, probe)
    }

    // -- shorthands ---------------------------------------------------------

    pub(crate) fn add_input(&self, name: &str) -> Id {
        created(self.call(Command::CreateInput(input(name))))
    }

    pub(crate) fn add_output(&self, name: &str) -> Id {
        created(self.call(Command::CreateOutput(output(name))))
    }

    pub(crate) fn add_transcoder(&self, name: &str) -> Id {
        created(self.call(Command::CreateTranscoder(transcoder(name))))
    }

    pub(crate) fn add_stream(&self, config: StreamConfig) -> Id {
        created(self.call(Command::CreateStream {
            config,
            start: false,
        }))
    }

    /// An input, a transcoder, an output and a stream wiring them.
    pub(crate) fn add_chain(&self, name: &str) -> Chain {
        let input = self.add_input(&format!("{name} in"));
        let transcoder = self.add_transcoder(&format!("{name} tx"));
        let output = self.add_output(&format!("{name} out"));
        let stream = self.add_stream(stream(name, &input, Some(&transcoder), &[&output]));
        Chain {
            input,
            transcoder,
            output,
            stream,
        }
    }

    pub(crate) fn start(&self, id: &Id) {
        updated(self.call(Command::StartStream(id.clone())), id);
    }

    pub(crate) fn stop(&self, id: &Id) {
        updated(self.call(Command::StopStream(id.clone())), id);
    }

    pub(crate) fn inputs(&self) -> Vec<InputView> {
        match self.call(Command::List(Kind::Input)) {
            Ok(Reply::Inputs(v)) => v,
            other => panic!("expected inputs, got {other:?}"),
        }
    }

    pub(crate) fn outputs(&self) -> Vec<OutputView> {
        match self.call(Command::List(Kind::Output)) {
            Ok(Reply::Outputs(v)) => v,
            other => panic!("expected outputs, got {other:?}"),
        }
    }

    pub(crate) fn transcoders(&self) -> Vec<TranscoderView> {
        match self.call(Command::List(Kind::Transcoder)) {
            Ok(Reply::Transcoders(v)) => v,
            other => panic!("expected transcoders, got {other:?}"),
        }
    }

    pub(crate) fn streams(&self) -> Vec<StreamView> {
        match self.call(Command::List(Kind::Stream)) {
            Ok(Reply::Streams(v)) => v,
            other => panic!("expected streams, got {other:?}"),
        }
    }

    pub(crate) fn presets(&self) -> Vec<PresetView> {
        match self.call(Command::List(Kind::Preset)) {
            Ok(Reply::Presets(v)) => v,
            other => panic!("expected presets, got {other:?}"),
        }
    }

    pub(crate) fn get_input(&self, id: &Id) -> InputView {
        match self.call(Command::Get(Kind::Input, id.clone())) {
            Ok(Reply::Input(v)) => v,
            other => panic!("expected an input, got {other:?}"),
        }
    }

    pub(crate) fn get_output(&self, id: &Id) -> OutputView {
        match self.call(Command::Get(Kind::Output, id.clone())) {
            Ok(Reply::Output(v)) => v,
            other => panic!("expected an output, got {other:?}"),
        }
    }

    pub(crate) fn get_transcoder(&self, id: &Id) -> TranscoderView {
        match self.call(Command::Get(Kind::Transcoder, id.clone())) {
            Ok(Reply::Transcoder(v)) => v,
            other => panic!("expected a transcoder, got {other:?}"),
        }
    }

    pub(crate) fn get_stream(&self, id: &Id) -> StreamView {
        match self.call(Command::Get(Kind::Stream, id.clone())) {
            Ok(Reply::Stream(v)) => v,
            other => panic!("expected a stream, got {other:?}"),
        }
    }

    pub(crate) fn get_preset(&self, id: &Id) -> PresetView {
        match self.call(Command::Get(Kind::Preset, id.clone())) {
            Ok(Reply::Preset(v)) => v,
            other => panic!("expected a preset, got {other:?}"),
        }
    }

    pub(crate) fn state(&self, id: &Id) -> StreamState {
        self.get_stream(id).state
    }

    pub(crate) fn save_preset(&self, name: &str) -> Id {
        created(self.call(Command::SavePreset { name: name.into() }))
    }

    pub(crate) fn update_preset(&self, id: &Id, activate: bool, make_default: Option<bool>) {
        let reply = self.call(Command::UpdatePreset {
            id: id.clone(),
            activate,
            make_default,
        });
        updated(reply, id);
    }

    /// Everything the configuration holds, for before/after comparisons.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            inputs: self
                .inputs()
                .into_iter()
                .map(|v| (v.id, v.config))
                .collect(),
            outputs: self
                .outputs()
                .into_iter()
                .map(|v| (v.id, v.config))
                .collect(),
            transcoders: self
                .transcoders()
                .into_iter()
                .map(|v| (v.id, v.config))
                .collect(),
            streams: self
                .streams()
                .into_iter()
                .map(|v| (v.id, v.config, v.state))
                .collect(),
            presets: self
                .presets()
                .into_iter()
                .map(|p| {
                    (
                        p.id,
                        p.name,
                        p.is_default,
                        p.created_unix,
                        [p.inputs, p.outputs, p.transcoders, p.streams],
                    )
                })
                .collect(),
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.recorder = None;
        self.handle = None;
        if let Some(thread) = self.thread.take() {
            // Do not panic while a failed test is already unwinding.
            let _ = thread.join();
        }
    }
}

/// The ids of a stream and what it uses.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub input: Id,
    pub transcoder: Id,
    pub output: Id,
    pub stream: Id,
}

type PresetRow = (Id, String, bool, u64, [usize; 4]);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub inputs: Vec<(Id, InputConfig)>,
    pub outputs: Vec<(Id, OutputConfig)>,
    pub transcoders: Vec<(Id, TranscoderConfig)>,
    pub streams: Vec<(Id, StreamConfig, StreamState)>,
    pub presets: Vec<PresetRow>,
}

// ---------------------------------------------------------------------------
// Configurations

pub(crate) fn input(name: &str) -> InputConfig {
    input_at(name, "udp://239.1.1.1:5000")
}

pub(crate) fn input_at(name: &str, url: &str) -> InputConfig {
    InputRequest {
        name: Some(name.into()),
        url: Some(url.into()),
        ..InputRequest::default()
    }
    .validate()
    .expect("valid input")
}

pub(crate) fn output(name: &str) -> OutputConfig {
    output_at(name, "udp://239.2.2.2:4900")
}

pub(crate) fn output_at(name: &str, url: &str) -> OutputConfig {
    OutputRequest {
        name: Some(name.into()),
        url: Some(url.into()),
        ..OutputRequest::default()
    }
    .validate()
    .expect("valid output")
}

pub(crate) fn transcoder(name: &str) -> TranscoderConfig {
    TranscoderRequest {
        name: Some(name.into()),
        ..TranscoderRequest::default()
    }
    .validate()
    .expect("valid transcoder")
}

/// A transcoder-mode stream (bypass when `transcoder` is `None`).
pub(crate) fn stream(
    name: &str,
    input: &Id,
    transcoder: Option<&Id>,
    outputs: &[&Id],
) -> StreamConfig {
    StreamConfig {
        name: name.into(),
        description: None,
        auto_start: false,
        mode: if transcoder.is_some() {
            StreamMode::Transcoder
        } else {
            StreamMode::Bypass
        },
        input: input.clone(),
        transcoder: transcoder.cloned(),
        outputs: outputs.iter().map(|&o| o.clone()).collect(),
        passthru: None,
    }
}

pub(crate) fn auto_start(mut config: StreamConfig) -> StreamConfig {
    config.auto_start = true;
    config
}

// ---------------------------------------------------------------------------
// Replies

#[track_caller]
pub(crate) fn created(reply: Result<Reply, CommandError>) -> Id {
    match reply {
        Ok(Reply::Created(id)) => id,
        other => panic!("expected Created, got {other:?}"),
    }
}

#[track_caller]
pub(crate) fn updated(reply: Result<Reply, CommandError>, id: &Id) {
    match reply {
        Ok(Reply::Updated(got)) => assert_eq!(&got, id),
        other => panic!("expected Updated({id}), got {other:?}"),
    }
}

#[track_caller]
pub(crate) fn deleted(reply: Result<Reply, CommandError>) {
    match reply {
        Ok(Reply::Deleted) => {}
        other => panic!("expected Deleted, got {other:?}"),
    }
}

pub(crate) fn ids<T>(views: &[T], id: impl Fn(&T) -> &Id) -> Vec<Id> {
    views.iter().map(|v| id(v).clone()).collect()
}
