//! The command vocabulary between the API and the supervisor.

use makara_config::{Id, InputConfig, OutputConfig, StreamConfig, TranscoderConfig};

use crate::views::{
    InputView, OutputView, PresetView, ServerView, StreamView, SystemView, TranscoderView,
};

/// The kinds of resource the supervisor keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Input,
    Output,
    Transcoder,
    Stream,
    Preset,
}

impl std::fmt::Display for Kind {
    /// The supervisor's noun for one resource of this kind, as its error
    /// messages use it. The API has its own (Kraken) names.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Input => "input",
            Kind::Output => "output",
            Kind::Transcoder => "transcoder",
            Kind::Stream => "stream",
            Kind::Preset => "preset",
        })
    }
}

/// Everything the API can ask of the supervisor. Changes are carried out in
/// order, and each is on disk before its reply; reads (`List`, `Get`,
/// `System`, `Server`) are answered at once from the state as last saved.
#[derive(Debug, Clone)]
pub enum Command {
    /// All resources of a kind, in creation order. Always allowed.
    List(Kind),
    /// One resource. Always allowed.
    Get(Kind, Id),
    CreateInput(InputConfig),
    CreateOutput(OutputConfig),
    CreateTranscoder(TranscoderConfig),
    /// Creates a stream; with `start` it then tries to start it, and a failed
    /// start is recorded on the stream, not returned.
    CreateStream {
        config: StreamConfig,
        start: bool,
    },
    /// Replaces an input. Refused while an active stream uses it.
    ReplaceInput(Id, InputConfig),
    /// Replaces an output. Refused while an active stream uses it.
    ReplaceOutput(Id, OutputConfig),
    /// Replaces a transcoder. Refused while an active stream uses it.
    ReplaceTranscoder(Id, TranscoderConfig),
    /// Replaces a stream. Refused while the stream runs.
    ReplaceStream(Id, StreamConfig),
    /// Deletes a resource. Refused while a stream uses it, or for a stream
    /// while it runs. Deleting the default preset clears the default.
    Delete(Kind, Id),
    /// Starts a stream; a no-op for a stream already running.
    StartStream(Id),
    /// Stops a stream; a no-op for a stream already stopped.
    StopStream(Id),
    /// Saves the current configuration as a new named preset.
    SavePreset {
        name: String,
    },
    /// Loads a preset (stopping every stream first) and/or sets or clears it
    /// as the boot preset.
    UpdatePreset {
        id: Id,
        activate: bool,
        make_default: Option<bool>,
    },
    /// Firmware version and capture hardware.
    System,
    /// This machine and its network interfaces.
    Server,
}

/// What a successful command returns.
#[derive(Debug, Clone)]
pub enum Reply {
    Inputs(Vec<InputView>),
    Input(InputView),
    Outputs(Vec<OutputView>),
    Output(OutputView),
    Transcoders(Vec<TranscoderView>),
    Transcoder(TranscoderView),
    Streams(Vec<StreamView>),
    Stream(StreamView),
    Presets(Vec<PresetView>),
    Preset(PresetView),
    /// A resource was created with this id.
    Created(Id),
    /// The resource with this id was changed, started or stopped.
    Updated(Id),
    Deleted,
    System(SystemView),
    Server(ServerView),
}

impl Command {
    /// Whether the command only edits the document, so that it can join a
    /// group whose changes are saved once, together (group commit). Those
    /// that also start or stop streams run alone: each of them orders its
    /// save and its engine calls with care (a stop is saved before the
    /// stream stops; a start that cannot be saved is undone). Reads are
    /// answered from the last saved state and are never grouped.
    pub(crate) fn may_group(&self) -> bool {
        match self {
            Command::CreateInput(_)
            | Command::CreateOutput(_)
            | Command::CreateTranscoder(_)
            | Command::CreateStream { start: false, .. }
            | Command::ReplaceInput(..)
            | Command::ReplaceOutput(..)
            | Command::ReplaceTranscoder(..)
            | Command::ReplaceStream(..)
            | Command::Delete(..)
            | Command::SavePreset { .. }
            | Command::UpdatePreset {
                activate: false, ..
            } => true,
            Command::CreateStream { start: true, .. }
            | Command::StartStream(_)
            | Command::StopStream(_)
            | Command::UpdatePreset { activate: true, .. }
            | Command::List(_)
            | Command::Get(..)
            | Command::System
            | Command::Server => false,
        }
    }
}
