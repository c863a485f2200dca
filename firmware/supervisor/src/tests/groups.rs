//! Groups: creating, editing, deleting, their outputs, their limits, and
//! their life across restarts and preset loads.

use makara_config::{Id, Invalid};

use super::*;
use crate::{
    AddGroupOutputError, CreateGroupError, DeleteGroupError, GroupEdit, GroupLookupError,
    GroupRequest, GroupView, RemoveGroupOutputError, UpdateGroupError, MAX_GROUPS,
    MAX_GROUP_OUTPUTS,
};

pub(crate) fn request(title: &str) -> GroupRequest {
    GroupRequest {
        title: Some(title.into()),
        ..GroupRequest::default()
    }
}

impl Rig {
    pub(crate) fn add_group(&self, title: &str) -> GroupView {
        match self.call(Command::CreateGroup(request(title))) {
            Ok(Reply::Group(view)) => view,
            other => panic!("expected a group, got {other:?}"),
        }
    }

    pub(crate) fn groups(&self) -> Vec<GroupView> {
        match self.call(Command::ListGroups) {
            Ok(Reply::Groups(views)) => views,
            other => panic!("expected groups, got {other:?}"),
        }
    }

    pub(crate) fn get_group(&self, id: &Id) -> GroupView {
        match self.call(Command::GetGroup(id.clone())) {
            Ok(Reply::Group(view)) => view,
            other => panic!("expected a group, got {other:?}"),
        }
    }

    /// Adds an output to a group; returns its index there.
    pub(crate) fn add_to_group(&self, group: &Id, output: &Id) -> usize {
        let reply = self.call(Command::AddGroupOutput {
            group: group.clone(),
            output: output.clone(),
        });
        match reply {
            Ok(Reply::GroupOutput { output: o, index }) => {
                assert_eq!(&o, output);
                index
            }
            other => panic!("expected a group output, got {other:?}"),
        }
    }
}

#[test]
fn a_group_is_created_listed_edited_and_deleted() {
    let rig = Rig::new("groups-crud");
    let created = rig.call(Command::CreateGroup(GroupRequest {
        title: Some("  Hall 2  ".into()),
        description: Some("cameras and slides".into()),
        active: true,
        sync_record: false,
    }));
    let Ok(Reply::Group(group)) = created else {
        panic!("expected a group, got {created:?}");
    };
    assert_eq!(group.title, "Hall 2", "trimmed");
    assert_eq!(group.description, "cameras and slides");
    assert!(group.active && !group.sync_record && !group.recording);
    assert!(group.outputs.is_empty());
    assert!(group.created_unix > 0 && group.modified_unix == group.created_unix);
    let other = rig.add_group("Studio");
    assert_eq!(
        rig.groups(),
        vec![group.clone(), other.clone()],
        "creation order"
    );
    assert_eq!(rig.get_group(&group.id), group);

    let edit = GroupEdit {
        description: Some("slides only".into()),
        sync_record: Some(true),
        ..GroupEdit::default()
    };
    let edited = match rig.call(Command::UpdateGroup(group.id.clone(), edit)) {
        Ok(Reply::Group(view)) => view,
        other => panic!("expected a group, got {other:?}"),
    };
    assert_eq!(edited.title, "Hall 2", "kept");
    assert_eq!(edited.description, "slides only");
    assert!(edited.active && edited.sync_record);
    assert_eq!(rig.get_group(&group.id), edited);

    deleted(rig.call(Command::DeleteGroup(group.id.clone())));
    assert_eq!(rig.groups(), vec![other]);
    assert!(matches!(
        rig.call(Command::GetGroup(group.id.clone())),
        Err(CommandError::GroupLookup(GroupLookupError::NotFound(id))) if id == group.id
    ));
}

#[test]
fn unknown_groups_are_refused_by_every_command() {
    let rig = Rig::new("groups-unknown");
    let output = rig.add_output("out");
    let id = Id::new_random();
    let update = rig.call(Command::UpdateGroup(id.clone(), GroupEdit::default()));
    assert!(matches!(
        update,
        Err(CommandError::UpdateGroup(UpdateGroupError::NotFound(_)))
    ));
    let delete = rig.call(Command::DeleteGroup(id.clone()));
    assert!(matches!(
        delete,
        Err(CommandError::DeleteGroup(DeleteGroupError::NotFound(_)))
    ));
    let add = rig.call(Command::AddGroupOutput {
        group: id.clone(),
        output: output.clone(),
    });
    assert!(matches!(
        add,
        Err(CommandError::AddGroupOutput(
            AddGroupOutputError::GroupNotFound(_)
        ))
    ));
    let remove = rig.call(Command::RemoveGroupOutput { group: id, output });
    assert!(matches!(
        remove,
        Err(CommandError::RemoveGroupOutput(
            RemoveGroupOutputError::GroupNotFound(_)
        ))
    ));
}

#[test]
fn titles_and_descriptions_out_of_range_are_refused_naming_the_field() {
    let rig = Rig::new("groups-invalid");
    let missing = rig.call(Command::CreateGroup(GroupRequest::default()));
    assert!(matches!(
        missing,
        Err(CommandError::CreateGroup(CreateGroupError::Invalid(
            Invalid::Missing { field: "title" }
        )))
    ));
    let long = GroupRequest {
        description: Some("d".repeat(1025)),
        ..request("t")
    };
    let e = rig.call(Command::CreateGroup(long)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "description is 1025 characters long; at most 1024 are allowed"
    );
    let group = rig.add_group("ok");
    let blank = GroupEdit {
        title: Some(" ".into()),
        ..GroupEdit::default()
    };
    let e = rig
        .call(Command::UpdateGroup(group.id.clone(), blank))
        .unwrap_err();
    assert!(matches!(
        &e,
        CommandError::UpdateGroup(UpdateGroupError::Invalid(Invalid::Length {
            field: "title",
            ..
        }))
    ));
    assert_eq!(e.to_string(), "title must be 1-128 characters long (got 0)");
    assert_eq!(rig.groups(), vec![group], "nothing changed");
}

#[test]
fn at_most_max_groups_are_kept() {
    let rig = Rig::new("groups-many");
    for n in 0..MAX_GROUPS {
        rig.add_group(&format!("g{n}"));
    }
    let e = rig
        .call(Command::CreateGroup(request("one more")))
        .unwrap_err();
    assert!(matches!(
        e,
        CommandError::CreateGroup(CreateGroupError::TooMany { max: MAX_GROUPS })
    ));
    assert_eq!(rig.groups().len(), MAX_GROUPS);
}

#[test]
fn outputs_are_added_in_order_once_each_and_removed() {
    let rig = Rig::new("groups-outputs");
    let group = rig.add_group("g");
    let (a, b) = (rig.add_output("a"), rig.add_output("b"));
    assert_eq!(rig.add_to_group(&group.id, &b), 0);
    assert_eq!(rig.add_to_group(&group.id, &a), 1);
    assert_eq!(rig.get_group(&group.id).outputs, vec![b.clone(), a.clone()]);

    let again = rig.call(Command::AddGroupOutput {
        group: group.id.clone(),
        output: a.clone(),
    });
    assert!(matches!(
        again,
        Err(CommandError::AddGroupOutput(AddGroupOutputError::AlreadyInGroup { output, .. })) if output == a
    ));
    let unknown = Id::new_random();
    let missing = rig.call(Command::AddGroupOutput {
        group: group.id.clone(),
        output: unknown.clone(),
    });
    assert!(matches!(
        missing,
        Err(CommandError::AddGroupOutput(AddGroupOutputError::OutputNotFound(id))) if id == unknown
    ));

    deleted(rig.call(Command::RemoveGroupOutput {
        group: group.id.clone(),
        output: b.clone(),
    }));
    assert_eq!(rig.get_group(&group.id).outputs, vec![a]);
    let not_in = rig.call(Command::RemoveGroupOutput {
        group: group.id.clone(),
        output: b.clone(),
    });
    assert!(matches!(
        not_in,
        Err(CommandError::RemoveGroupOutput(RemoveGroupOutputError::NotInGroup { output, .. })) if output == b
    ));
}

#[test]
fn a_group_holds_at_most_max_group_outputs() {
    let rig = Rig::new("groups-full");
    let group = rig.add_group("g");
    for n in 0..MAX_GROUP_OUTPUTS {
        let output = rig.add_output(&format!("o{n}"));
        assert_eq!(rig.add_to_group(&group.id, &output), n);
    }
    let extra = rig.add_output("extra");
    let e = rig.call(Command::AddGroupOutput {
        group: group.id.clone(),
        output: extra,
    });
    assert!(matches!(
        e,
        Err(CommandError::AddGroupOutput(
            AddGroupOutputError::TooManyOutputs {
                max: MAX_GROUP_OUTPUTS,
                ..
            }
        ))
    ));
}

#[test]
fn a_deleted_output_leaves_its_groups() {
    let rig = Rig::new("groups-output-deleted");
    let (a, b) = (rig.add_output("a"), rig.add_output("b"));
    let first = rig.add_group("first");
    let second = rig.add_group("second");
    for group in [&first, &second] {
        rig.add_to_group(&group.id, &a);
        rig.add_to_group(&group.id, &b);
    }
    deleted(rig.call(Command::Delete(Kind::Output, a)));
    assert_eq!(rig.get_group(&first.id).outputs, vec![b.clone()]);
    assert_eq!(rig.get_group(&second.id).outputs, vec![b]);
}

#[test]
fn groups_survive_a_restart() {
    let mut rig = Rig::new("groups-restart");
    let output = rig.add_output("out");
    let group = rig.add_group("kept");
    rig.add_to_group(&group.id, &output);
    let before = rig.groups();
    rig.reboot();
    assert_eq!(rig.groups(), before);
    assert_eq!(rig.groups()[0].outputs, vec![output]);
}

#[test]
fn loading_a_preset_keeps_only_the_outputs_it_has() {
    let rig = Rig::new("groups-preset");
    let kept = rig.add_output("kept");
    let preset = rig.save_preset("with kept");
    let gone = rig.add_output("not in the preset");
    let group = rig.add_group("g");
    rig.add_to_group(&group.id, &gone);
    rig.add_to_group(&group.id, &kept);
    rig.update_preset(&preset, true, None);
    assert_eq!(rig.get_group(&group.id).outputs, vec![kept]);
}
