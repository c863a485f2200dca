//! The command vocabulary between the API and the supervisor.

use std::net::IpAddr;
use std::path::PathBuf;

use makara_config::{Id, InputConfig, OutputConfig, StreamConfig, TranscoderConfig};
use makara_engine::Thumbnail;
use makara_recorder::{Asset, AssetEdit};

use crate::events::EventView;
use crate::groups::{GroupEdit, GroupRequest};
use crate::views::{
    GroupView, InputView, OutputView, PresetView, ServerView, SourceView, StreamView, SystemView,
    TranscoderView,
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

/// Everything the API can ask of the supervisor. Changes to the
/// configuration (groups included) are carried out in order, and each is
/// on disk before its reply; reads (`List`, `Get`, `System`, `Server`,
/// groups, sources, thumbnails, events) are answered at once from the
/// state as last saved. Recordings and assets are the recorder's, which
/// keeps them on disk itself: commands on them (but a start, which runs
/// in order with the changes to groups) never wait for the configuration
/// to be saved.
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

    /// Every group, in creation order.
    ListGroups,
    GetGroup(Id),
    /// Creates a group without outputs; replies with it.
    CreateGroup(GroupRequest),
    /// Changes the fields the edit names; replies with the group.
    UpdateGroup(Id, GroupEdit),
    /// Refused while a recording of the group is live.
    DeleteGroup(Id),
    /// Appends an output to a group; refused while the group records.
    AddGroupOutput {
        group: Id,
        output: Id,
    },
    /// Refused while the group records.
    RemoveGroupOutput {
        group: Id,
        output: Id,
    },
    /// Every output as a source, in creation order.
    ListSources,
    GetSource(Id),
    /// A picture of what an output sends, at most `max_width` wide.
    Thumbnail {
        output: Id,
        max_width: u32,
    },

    /// Records a group's outputs (all, or those of `outputs` that are in
    /// the group, in that order), one track each, for user `creator`.
    StartRecording {
        group: Id,
        outputs: Option<Vec<Id>>,
        creator: String,
    },
    /// Live recordings (recording or paused), oldest first.
    ListRecordings,
    /// A live recording; a finished one is an asset.
    GetRecording(Id),
    /// Pausing a paused recording does nothing.
    PauseRecording(Id),
    /// Resuming a recording that is not paused does nothing.
    ResumeRecording(Id),
    /// Finishes a live recording into an asset.
    StopRecording(Id),
    /// Every recording, live or finished, oldest first.
    ListAssets,
    GetAsset(Id),
    /// Changes title and/or description (live recordings too).
    UpdateAsset(Id, AssetEdit),
    /// Removes a finished recording and its files.
    DeleteAsset(Id),
    /// The file of one track of a finished recording, to download.
    AssetTrackFile {
        asset: Id,
        track: usize,
    },

    /// The event log, oldest first.
    ListEvents,
    /// The API locked logins out after too many failures: an event.
    RecordLockout {
        username: Option<String>,
        address: Option<IpAddr>,
    },

    /// Answered by the supervisor thread itself, never from the last saved
    /// state: proof that the thread still takes commands (the watchdog).
    Ping,
    /// A fault on purpose, for the watchdog's test: the supervisor thread
    /// takes no command for this long. Only `makarad serve
    /// --debug-commands` offers it.
    Hang(std::time::Duration),
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
    Groups(Vec<GroupView>),
    Group(GroupView),
    /// An output was added to a group, at this index of its outputs.
    GroupOutput {
        output: Id,
        index: usize,
    },
    Sources(Vec<SourceView>),
    Source(SourceView),
    Thumbnail(Thumbnail),
    /// Live recordings.
    Recordings(Vec<Asset>),
    /// A live recording (after a start, pause or resume: as it is now).
    Recording(Asset),
    Assets(Vec<Asset>),
    /// An asset (after a stop: the finished recording).
    Asset(Asset),
    TrackFile(PathBuf),
    Events(Vec<EventView>),
    /// The event just recorded.
    Event(EventView),
    /// The answer to [`Command::Ping`] (and to a [`Command::Hang`] once it
    /// is over).
    Pong,
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
            }
            | Command::CreateGroup(_)
            | Command::UpdateGroup(..)
            | Command::DeleteGroup(_)
            | Command::AddGroupOutput { .. }
            | Command::RemoveGroupOutput { .. } => true,
            Command::CreateStream { start: true, .. }
            | Command::StartStream(_)
            | Command::StopStream(_)
            | Command::UpdatePreset { activate: true, .. }
            | Command::List(_)
            | Command::Get(..)
            | Command::System
            | Command::Server
            | Command::StartRecording { .. }
            | Command::ListGroups
            | Command::GetGroup(_)
            | Command::ListSources
            | Command::GetSource(_)
            | Command::Thumbnail { .. }
            | Command::ListRecordings
            | Command::GetRecording(_)
            | Command::PauseRecording(_)
            | Command::ResumeRecording(_)
            | Command::StopRecording(_)
            | Command::ListAssets
            | Command::GetAsset(_)
            | Command::UpdateAsset(..)
            | Command::DeleteAsset(_)
            | Command::AssetTrackFile { .. }
            | Command::ListEvents
            | Command::RecordLockout { .. }
            | Command::Ping
            | Command::Hang(_) => false,
        }
    }
}
