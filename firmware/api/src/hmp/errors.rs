//! The one mapping from supervisor errors to HMP errors (hmp.md DEC-2:
//! the seed's code for its own case; ours where the seed has none). The
//! message is the supervisor's own words where they say more than the
//! seed's fixed text would.

use makara_supervisor::{
    AddGroupOutputError as AddOut, CommandError as E, CreateGroupError as CreateGroup,
    DeleteAssetError as DeleteAsset, DeleteGroupError as DeleteGroup, RecordingError as Recording,
    RemoveGroupOutputError as RemoveOut, StartRecordingError as Start, StopRecordingError as Stop,
    ThumbnailError as Thumb, TrackFileError as TrackFile, UpdateAssetError as UpdateAsset,
    UpdateGroupError as UpdateGroup,
};

use super::error::HmpError;

impl From<E> for HmpError {
    fn from(e: E) -> HmpError {
        let text = e.to_string();
        match e {
            E::GroupLookup(_) => HmpError::session_not_found(),
            E::SourceLookup(_) => HmpError::source_not_found(),
            E::AssetLookup(_) => HmpError::asset_not_found(),
            E::CreateGroup(e) => create_group(e, text),
            E::UpdateGroup(e) => update_group(e, text),
            E::DeleteGroup(e) => delete_group(e, text),
            E::AddGroupOutput(e) => add_output(e, text),
            E::RemoveGroupOutput(e) => remove_output(e, text),
            E::StartRecording(e) => start(e, text),
            E::Recording(e) => recording(e, text),
            E::StopRecording(e) => stop(e, text),
            E::UpdateAsset(e) => update_asset(e, text),
            E::DeleteAsset(e) => delete_asset(e, text),
            E::TrackFile(e) => track_file(e),
            E::Thumbnail(e) => thumbnail(e, text),
            E::RecorderUnavailable(_) | E::Gone => HmpError::unavailable(capital(&text)),
            _ => HmpError::internal(capital(&text)),
        }
    }
}

fn create_group(e: CreateGroup, text: String) -> HmpError {
    match e {
        CreateGroup::Invalid(_) => HmpError::input(text),
        CreateGroup::TooMany { .. } | CreateGroup::TooLarge { .. } => {
            HmpError::conflict(capital(&text))
        }
        CreateGroup::Storage(_) => HmpError::create_session(capital(&text)),
    }
}

fn update_group(e: UpdateGroup, text: String) -> HmpError {
    match e {
        UpdateGroup::NotFound(_) => HmpError::session_not_found(),
        UpdateGroup::Invalid(_) => HmpError::input(text),
        UpdateGroup::TooLarge { .. } => HmpError::conflict(capital(&text)),
        UpdateGroup::Storage(_) => HmpError::internal(capital(&text)),
    }
}

fn delete_group(e: DeleteGroup, text: String) -> HmpError {
    match e {
        DeleteGroup::NotFound(_) => HmpError::session_not_found(),
        DeleteGroup::Recording { .. } => HmpError::recording_in_progress(),
        DeleteGroup::Storage(_) => HmpError::internal(capital(&text)),
    }
}

fn add_output(e: AddOut, text: String) -> HmpError {
    match e {
        AddOut::GroupNotFound(_) => HmpError::session_not_found(),
        AddOut::OutputNotFound(_) => HmpError::source_not_found(),
        AddOut::AlreadyInGroup { .. } => HmpError::session_source_exists(),
        AddOut::Recording { .. } => HmpError::recording_in_progress(),
        AddOut::TooManyOutputs { .. } | AddOut::TooLarge { .. } => {
            HmpError::conflict(capital(&text))
        }
        AddOut::Storage(_) => HmpError::internal(capital(&text)),
    }
}

fn remove_output(e: RemoveOut, text: String) -> HmpError {
    match e {
        RemoveOut::GroupNotFound(_) => HmpError::session_not_found(),
        // The seed's answer for a source that is not one of the session's
        // tracks.
        RemoveOut::NotInGroup { .. } => HmpError::track_not_found(),
        RemoveOut::Recording { .. } => HmpError::recording_in_progress(),
        RemoveOut::Storage(_) => HmpError::internal(capital(&text)),
    }
}

fn start(e: Start, text: String) -> HmpError {
    match e {
        Start::GroupNotFound(_) => HmpError::session_not_found(),
        Start::NoOutputs(_) | Start::NoneInGroup(_) => HmpError::session_has_no_source(),
        Start::TooMany { .. } => HmpError::conflict(capital(&text)),
        Start::NoSpace(_) => HmpError::insufficient_space(capital(&text)),
        Start::Tap(_) | Start::Failed(_) => HmpError::internal(capital(&text)),
    }
}

fn recording(e: Recording, text: String) -> HmpError {
    match e {
        Recording::NotFound(_) | Recording::Finished { .. } => HmpError::recording_not_found(),
        Recording::Save(_) => HmpError::internal(capital(&text)),
    }
}

fn stop(e: Stop, text: String) -> HmpError {
    match e {
        Stop::NotFound(_) | Stop::Finished { .. } => HmpError::recording_not_found(),
        Stop::Slow(_) => HmpError::internal(capital(&text)),
    }
}

fn update_asset(e: UpdateAsset, text: String) -> HmpError {
    match e {
        UpdateAsset::NotFound(_) => HmpError::asset_not_found(),
        UpdateAsset::Invalid(_) => HmpError::input(text),
        UpdateAsset::Save(_) => HmpError::update_asset(capital(&text)),
    }
}

fn delete_asset(e: DeleteAsset, text: String) -> HmpError {
    match e {
        DeleteAsset::NotFound(_) => HmpError::asset_not_found(),
        DeleteAsset::Live(_) => HmpError::recording_in_progress(),
        DeleteAsset::Remove(_) => HmpError::internal(capital(&text)),
    }
}

fn track_file(e: TrackFile) -> HmpError {
    match e {
        TrackFile::NotFound(_) => HmpError::asset_not_found(),
        TrackFile::NoTrack { .. } => HmpError::track_not_found(),
        TrackFile::Live(_) => HmpError::being_recorded(),
    }
}

fn thumbnail(e: Thumb, text: String) -> HmpError {
    match e {
        Thumb::OutputNotFound(_) => HmpError::source_not_found(),
        Thumb::NoStream(_) | Thumb::NotRunning { .. } | Thumb::NoPicture(_) => {
            HmpError::thumbnail_not_found(text)
        }
        Thumb::Unavailable(_) => HmpError::unavailable(capital(&text)),
    }
}

/// The supervisor's words begin in lower case (they are also log text);
/// a message begins with a capital.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
