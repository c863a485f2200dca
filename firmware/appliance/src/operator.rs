//! What an operator at the box does to the running supervisor, by name:
//! the serial console (through the control socket) and the front panel
//! both come here. Streams and presets are found by their names, as the
//! operator typed or picked them; everything else goes through the
//! supervisor's own commands, so its rules (a preset load stops every
//! stream first; a start that fails says why) hold here too.

use makara_config::Id;
use makara_supervisor::StreamState;
use makara_supervisor::{Command, CommandError, Handle, Kind, PresetView, Reply, StreamView};

/// Why an operator's action did not happen, in words for a console line.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("no stream is named '{0}'")]
    NoStream(String),
    #[error("no preset is named '{0}'")]
    NoPreset(String),
    #[error("{0}")]
    Refused(#[from] CommandError),
    #[error("the supervisor answered {0} where it should have listed them")]
    Unexpected(&'static str),
}

/// One stream as the operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamLine {
    pub name: String,
    pub state: StreamState,
    /// Why it waits or why its last start failed.
    pub problem: Option<String>,
    /// For a network input: whether it receives.
    pub input_receiving: Option<bool>,
    /// Average output rate since the stream started, while it runs.
    pub output_kbps: Option<f64>,
}

impl StreamLine {
    fn of(view: &StreamView) -> StreamLine {
        let stats = view.stats.as_ref();
        StreamLine {
            name: view.config.name.clone(),
            state: view.state,
            problem: view.last_error.clone(),
            input_receiving: stats.and_then(|s| s.input.as_ref()).map(|i| i.receiving),
            output_kbps: stats.map(|s| s.output_kbps),
        }
    }

    /// "Demo: active, 2480 kbit/s" or "Demo: waiting (no signal on ...)".
    pub fn describe(&self) -> String {
        let state = match self.state {
            StreamState::Active => "active",
            StreamState::Waiting => "waiting",
            StreamState::Stopped => "stopped",
        };
        let mut line = format!("{}: {state}", self.name);
        if let (StreamState::Active, Some(kbps)) = (self.state, self.output_kbps) {
            line.push_str(&format!(", {kbps:.0} kbit/s"));
        }
        match self.input_receiving {
            Some(true) => line.push_str(", input receiving"),
            Some(false) => line.push_str(", input not receiving"),
            None => {}
        }
        if let (StreamState::Waiting | StreamState::Stopped, Some(why)) =
            (self.state, &self.problem)
        {
            line.push_str(&format!(" ({why})"));
        }
        line
    }
}

pub fn streams(supervisor: &Handle) -> Result<Vec<StreamLine>, OperatorError> {
    Ok(stream_views(supervisor)?
        .iter()
        .map(StreamLine::of)
        .collect())
}

pub fn presets(supervisor: &Handle) -> Result<Vec<PresetView>, OperatorError> {
    match supervisor.call(Command::List(Kind::Preset))? {
        Reply::Presets(presets) => Ok(presets),
        _ => Err(OperatorError::Unexpected("something else")),
    }
}

pub fn start_stream(supervisor: &Handle, name: &str) -> Result<(), OperatorError> {
    let id = stream_id(supervisor, name)?;
    supervisor.call(Command::StartStream(id))?;
    Ok(())
}

pub fn stop_stream(supervisor: &Handle, name: &str) -> Result<(), OperatorError> {
    let id = stream_id(supervisor, name)?;
    supervisor.call(Command::StopStream(id))?;
    Ok(())
}

/// Loads a preset: every stream stops, the preset's configuration becomes
/// current and its auto-start streams start.
pub fn load_preset(supervisor: &Handle, name: &str) -> Result<(), OperatorError> {
    let id = preset_id(supervisor, name)?;
    supervisor.call(Command::UpdatePreset {
        id,
        activate: true,
        make_default: None,
    })?;
    Ok(())
}

/// Makes a preset the one loaded at boot.
pub fn default_preset(supervisor: &Handle, name: &str) -> Result<(), OperatorError> {
    let id = preset_id(supervisor, name)?;
    supervisor.call(Command::UpdatePreset {
        id,
        activate: false,
        make_default: Some(true),
    })?;
    Ok(())
}

fn stream_views(supervisor: &Handle) -> Result<Vec<StreamView>, OperatorError> {
    match supervisor.call(Command::List(Kind::Stream))? {
        Reply::Streams(streams) => Ok(streams),
        _ => Err(OperatorError::Unexpected("something else")),
    }
}

fn stream_id(supervisor: &Handle, name: &str) -> Result<Id, OperatorError> {
    stream_views(supervisor)?
        .into_iter()
        .find(|s| s.config.name == name)
        .map(|s| s.id)
        .ok_or_else(|| OperatorError::NoStream(name.to_owned()))
}

fn preset_id(supervisor: &Handle, name: &str) -> Result<Id, OperatorError> {
    presets(supervisor)?
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.id)
        .ok_or_else(|| OperatorError::NoPreset(name.to_owned()))
}
