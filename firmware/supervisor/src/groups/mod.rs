//! Groups: outputs recorded together, each output one track of the
//! group's recordings. Kept in the configuration document, so they
//! survive restarts; their fields are checked here, once
//! ([`GroupRequest::validate`], [`GroupEdit::apply`]).

mod commands;
mod reads;

pub(crate) use commands::now_unix;

use makara_config::{Id, Invalid};
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_GROUP_DESCRIPTION_CHARS, MAX_GROUP_TITLE_CHARS};

/// A group as the document keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Group {
    pub id: Id,
    pub title: String,
    pub description: String,
    /// Stored and shown; nothing else follows from it.
    pub active: bool,
    /// Stored and shown: every recording of a group records all the
    /// outputs it is given, together, whatever this says.
    pub sync_record: bool,
    pub created_unix: u64,
    pub modified_unix: u64,
    /// Output ids, in the order they were added: a recording's tracks
    /// follow it.
    pub outputs: Vec<Id>,
}

/// A new group, as asked for (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRequest {
    /// Required: 1 to [`MAX_GROUP_TITLE_CHARS`] characters once trimmed.
    pub title: Option<String>,
    /// At most [`MAX_GROUP_DESCRIPTION_CHARS`] characters; none is empty.
    pub description: Option<String>,
    pub active: bool,
    pub sync_record: bool,
}

/// A change to a group; `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub sync_record: Option<bool>,
}

/// A group's fields that its owner sets, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupSettings {
    pub title: String,
    pub description: String,
    pub active: bool,
    pub sync_record: bool,
}

impl GroupRequest {
    pub(crate) fn validate(self) -> Result<GroupSettings, Invalid> {
        let title = self.title.ok_or(Invalid::Missing { field: "title" })?;
        Ok(GroupSettings {
            title: title_text(&title)?,
            description: description_text(self.description.as_deref().unwrap_or(""))?,
            active: self.active,
            sync_record: self.sync_record,
        })
    }
}

impl GroupEdit {
    /// `group`'s settings with this change, checked.
    pub(crate) fn apply(self, group: &Group) -> Result<GroupSettings, Invalid> {
        Ok(GroupSettings {
            title: match self.title {
                Some(title) => title_text(&title)?,
                None => group.title.clone(),
            },
            description: match self.description {
                Some(description) => description_text(&description)?,
                None => group.description.clone(),
            },
            active: self.active.unwrap_or(group.active),
            sync_record: self.sync_record.unwrap_or(group.sync_record),
        })
    }
}

impl Group {
    pub(crate) fn set(&mut self, settings: GroupSettings) {
        self.title = settings.title;
        self.description = settings.description;
        self.active = settings.active;
        self.sync_record = settings.sync_record;
    }
}

/// A title, trimmed: 1 to [`MAX_GROUP_TITLE_CHARS`] characters.
fn title_text(value: &str) -> Result<String, Invalid> {
    let title = value.trim();
    let len = title.chars().count();
    if !(1..=MAX_GROUP_TITLE_CHARS).contains(&len) {
        return Err(Invalid::Length {
            field: "title",
            len,
            min: 1,
            max: MAX_GROUP_TITLE_CHARS,
        });
    }
    Ok(title.to_string())
}

/// A description, trimmed: at most [`MAX_GROUP_DESCRIPTION_CHARS`]
/// characters; blank is empty.
fn description_text(value: &str) -> Result<String, Invalid> {
    let description = value.trim();
    let len = description.chars().count();
    if len > MAX_GROUP_DESCRIPTION_CHARS {
        return Err(Invalid::TooLong {
            field: "description",
            len,
            max: MAX_GROUP_DESCRIPTION_CHARS,
        });
    }
    Ok(description.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(title: Option<&str>, description: Option<&str>) -> GroupRequest {
        GroupRequest {
            title: title.map(str::to_string),
            description: description.map(str::to_string),
            ..GroupRequest::default()
        }
    }

    #[test]
    fn a_title_is_required_and_bounded() {
        let missing = request(None, None).validate().unwrap_err();
        assert_eq!(missing.to_string(), "title is required");
        let blank = request(Some("   "), None).validate().unwrap_err();
        assert_eq!(
            blank.to_string(),
            "title must be 1-128 characters long (got 0)"
        );
        let longest = "é".repeat(MAX_GROUP_TITLE_CHARS);
        let ok = request(Some(&format!(" {longest} ")), None)
            .validate()
            .unwrap();
        assert_eq!(ok.title, longest);
        assert_eq!(ok.description, "");
        let long = request(Some(&format!("{longest}x")), None)
            .validate()
            .unwrap_err();
        assert_eq!(
            long.to_string(),
            "title must be 1-128 characters long (got 129)"
        );
    }

    #[test]
    fn a_description_is_bounded() {
        let longest = "d".repeat(MAX_GROUP_DESCRIPTION_CHARS);
        let ok = request(Some("t"), Some(&longest)).validate().unwrap();
        assert_eq!(ok.description, longest);
        let long = request(Some("t"), Some(&format!("{longest}d")))
            .validate()
            .unwrap_err();
        assert_eq!(
            long.to_string(),
            "description is 1025 characters long; at most 1024 are allowed"
        );
        assert_eq!(long.field(), "description");
    }

    #[test]
    fn an_edit_keeps_what_it_does_not_name_and_checks_what_it_does() {
        let group = Group {
            id: Id::new_random(),
            title: "Hall".into(),
            description: "cameras".into(),
            active: true,
            sync_record: true,
            created_unix: 1,
            modified_unix: 1,
            outputs: Vec::new(),
        };
        let renamed = GroupEdit {
            title: Some("Hall 2".into()),
            ..GroupEdit::default()
        }
        .apply(&group)
        .unwrap();
        assert_eq!(
            renamed,
            GroupSettings {
                title: "Hall 2".into(),
                description: "cameras".into(),
                active: true,
                sync_record: true,
            }
        );
        let cleared = GroupEdit {
            description: Some(String::new()),
            active: Some(false),
            ..GroupEdit::default()
        }
        .apply(&group)
        .unwrap();
        assert_eq!((cleared.description.as_str(), cleared.active), ("", false));
        let bad = GroupEdit {
            title: Some(String::new()),
            ..GroupEdit::default()
        };
        assert_eq!(bad.apply(&group).unwrap_err().field(), "title");
    }
}
