//! Creating, editing and deleting groups, adding and removing their
//! outputs, and starting their recordings: on the supervisor thread, so
//! that a recording starts only from a group as saved, and a group is
//! never changed under a recording that is starting.

use std::time::{SystemTime, UNIX_EPOCH};

use makara_config::Id;
use makara_recorder::NewRecording;

use super::{Group, GroupEdit, GroupRequest};
use crate::command::Reply;
use crate::document::Document;
use crate::error::{
    AddGroupOutputError, CommandError, CreateGroupError, DeleteGroupError, GroupSaveError,
    RemoveGroupOutputError, UpdateGroupError,
};
use crate::limits::{self, MAX_GROUPS, MAX_GROUP_OUTPUTS};
use crate::recording_error::StartRecordingError;
use crate::supervisor::Supervisor;

impl Supervisor {
    pub(crate) fn create_group(&mut self, request: GroupRequest) -> Result<Reply, CommandError> {
        let settings = request.validate().map_err(CreateGroupError::from)?;
        if self.doc.groups.len() >= MAX_GROUPS {
            return Err(CreateGroupError::TooMany { max: MAX_GROUPS }.into());
        }
        let now = now_unix();
        let mut group = Group {
            id: Id::new_random(),
            title: String::new(),
            description: String::new(),
            active: false,
            sync_record: false,
            created_unix: now,
            modified_unix: now,
            outputs: Vec::new(),
        };
        group.set(settings);
        let id = group.id.clone();
        self.commit_groups(|d| d.groups.push(group))
            .map_err(CreateGroupError::from)?;
        Ok(self.group_reply(&id))
    }

    pub(crate) fn update_group(&mut self, id: &Id, edit: GroupEdit) -> Result<Reply, CommandError> {
        let group = self
            .group(id)
            .ok_or_else(|| UpdateGroupError::NotFound(id.clone()))?;
        let settings = edit.apply(group).map_err(UpdateGroupError::from)?;
        self.commit_groups(|d| {
            if let Some(g) = find(d, id) {
                g.set(settings);
                g.modified_unix = now_unix();
            }
        })
        .map_err(UpdateGroupError::from)?;
        Ok(self.group_reply(id))
    }

    pub(crate) fn delete_group(&mut self, id: &Id) -> Result<Reply, DeleteGroupError> {
        let group = self
            .group(id)
            .ok_or_else(|| DeleteGroupError::NotFound(id.clone()))?;
        if let Some(recording) = self.shared.recordings.live_of_group(id) {
            return Err(DeleteGroupError::Recording {
                group: group.title.clone(),
                recording,
            });
        }
        self.commit(|d| d.groups.retain(|g| &g.id != id))
            .map_err(DeleteGroupError::Storage)?;
        Ok(Reply::Deleted)
    }

    pub(crate) fn add_group_output(
        &mut self,
        id: &Id,
        output: &Id,
    ) -> Result<Reply, AddGroupOutputError> {
        let group = self
            .group(id)
            .ok_or_else(|| AddGroupOutputError::GroupNotFound(id.clone()))?;
        let title = group.title.clone();
        if !self.resources().outputs.contains(output) {
            return Err(AddGroupOutputError::OutputNotFound(output.clone()));
        }
        if group.outputs.contains(output) {
            return Err(AddGroupOutputError::AlreadyInGroup {
                group: title,
                output: output.clone(),
            });
        }
        let index = group.outputs.len();
        if index >= MAX_GROUP_OUTPUTS {
            return Err(AddGroupOutputError::TooManyOutputs {
                group: title,
                max: MAX_GROUP_OUTPUTS,
            });
        }
        if let Some(recording) = self.shared.recordings.live_of_group(id) {
            return Err(AddGroupOutputError::Recording {
                group: title,
                recording,
            });
        }
        self.commit_groups(|d| {
            if let Some(g) = find(d, id) {
                g.outputs.push(output.clone());
                g.modified_unix = now_unix();
            }
        })?;
        Ok(Reply::GroupOutput {
            output: output.clone(),
            index,
        })
    }

    pub(crate) fn remove_group_output(
        &mut self,
        id: &Id,
        output: &Id,
    ) -> Result<Reply, RemoveGroupOutputError> {
        let group = self
            .group(id)
            .ok_or_else(|| RemoveGroupOutputError::GroupNotFound(id.clone()))?;
        let title = group.title.clone();
        if !group.outputs.contains(output) {
            return Err(RemoveGroupOutputError::NotInGroup {
                group: title,
                output: output.clone(),
            });
        }
        if let Some(recording) = self.shared.recordings.live_of_group(id) {
            return Err(RemoveGroupOutputError::Recording {
                group: title,
                recording,
            });
        }
        self.commit(|d| {
            if let Some(g) = find(d, id) {
                g.outputs.retain(|o| o != output);
                g.modified_unix = now_unix();
            }
        })
        .map_err(RemoveGroupOutputError::Storage)?;
        Ok(Reply::Deleted)
    }

    /// Records the group's outputs, or those of `outputs` that are in the
    /// group (in the order given; the others are ignored), one track each.
    /// The recording takes the group's title and description.
    pub(crate) fn start_recording(
        &mut self,
        id: &Id,
        outputs: Option<Vec<Id>>,
        creator: String,
    ) -> Result<Reply, CommandError> {
        let recordings = &self.shared.recordings;
        recordings.recorder()?;
        let group = self
            .group(id)
            .ok_or_else(|| StartRecordingError::GroupNotFound(id.clone()))?;
        if group.outputs.is_empty() {
            return Err(StartRecordingError::NoOutputs(group.title.clone()).into());
        }
        let sources = match outputs {
            None => group.outputs.clone(),
            Some(asked) => {
                let mut chosen: Vec<Id> = Vec::new();
                for output in asked {
                    if group.outputs.contains(&output) && !chosen.contains(&output) {
                        chosen.push(output);
                    }
                }
                chosen
            }
        };
        if sources.is_empty() {
            return Err(StartRecordingError::NoneInGroup(group.title.clone()).into());
        }
        let new = NewRecording {
            title: group.title.clone(),
            description: group.description.clone(),
            group: id.clone(),
            creator,
            sources,
        };
        let asset = recordings.start(&self.engine, &self.shared.events, new)?;
        Ok(Reply::Recording(asset))
    }

    fn group(&self, id: &Id) -> Option<&Group> {
        self.doc.groups.iter().find(|g| &g.id == id)
    }

    fn group_reply(&self, id: &Id) -> Reply {
        let view = self.read(|r| r.group_view(id));
        // The group was just saved, so it is there.
        Reply::Group(view.expect("the group just saved"))
    }

    /// [`Supervisor::commit`] for a change to the groups, refused when it
    /// would take the document past its size limit.
    fn commit_groups(&mut self, change: impl FnOnce(&mut Document)) -> Result<(), GroupSaveError> {
        let mut next = self.doc.clone();
        change(&mut next);
        if let Err(crate::error::LimitError::TooLarge { size, max }) =
            limits::check_size(&self.doc, &next)
        {
            return Err(GroupSaveError::TooLarge { size, max });
        }
        self.commit(|d| *d = next).map_err(GroupSaveError::Storage)
    }
}

fn find<'d>(d: &'d mut Document, id: &Id) -> Option<&'d mut Group> {
    d.groups.iter_mut().find(|g| &g.id == id)
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
