//! Request bodies, read from JSON into the supervisor's requests. A field
//! of the wrong JSON type, or a required one missing, is 400 010001 naming
//! the field; fields the seed marks Ignored, and unknown ones, are dropped
//! (hmp.md DEC-7). Lengths and other rules are the supervisor's.

use makara_config::Id;
use makara_supervisor::{AssetEdit, GroupEdit, GroupRequest};
use serde_json::{Map, Value};

use super::error::HmpError;

/// The body as an object; an absent body is an empty one.
fn object(body: Option<&Value>) -> Result<Map<String, Value>, HmpError> {
    match body {
        None => Ok(Map::new()),
        Some(Value::Object(fields)) => Ok(fields.clone()),
        Some(_) => Err(HmpError::input("The body must be a JSON object")),
    }
}

fn string(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, HmpError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(HmpError::input(format!("{name} must be a string"))),
    }
}

fn boolean(fields: &Map<String, Value>, name: &str) -> Result<Option<bool>, HmpError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(HmpError::input(format!("{name} must be true or false"))),
    }
}

/// An `id` may be sent (a client echoing a GET) only if it is the one the
/// thing has: it is Immutable.
fn same_id(fields: &Map<String, Value>, id: Option<&Id>) -> Result<(), HmpError> {
    match (fields.get("id"), id) {
        (None | Some(Value::Null), _) => Ok(()),
        (Some(Value::String(sent)), Some(id)) if Id::parse(sent).as_ref() == Some(id) => Ok(()),
        _ => Err(HmpError::input(
            "id cannot be set or changed: the appliance gives it",
        )),
    }
}

/// `POST /apis/sessions`: `title` required.
pub fn new_session(body: Option<&Value>) -> Result<GroupRequest, HmpError> {
    let fields = object(body)?;
    same_id(&fields, None)?;
    let title = string(&fields, "title")?;
    if title.is_none() {
        return Err(HmpError::input("title is required, as a string"));
    }
    Ok(GroupRequest {
        title,
        description: string(&fields, "description")?,
        active: boolean(&fields, "active")?.unwrap_or(false),
        sync_record: boolean(&fields, "syncrecord")?.unwrap_or(false),
    })
}

/// `PUT /apis/sessions/:id`: what is sent changes, the rest stays.
pub fn session_edit(body: Option<&Value>, id: &Id) -> Result<GroupEdit, HmpError> {
    let fields = object(body)?;
    same_id(&fields, Some(id))?;
    Ok(GroupEdit {
        title: string(&fields, "title")?,
        description: string(&fields, "description")?,
        active: boolean(&fields, "active")?,
        sync_record: boolean(&fields, "syncrecord")?,
    })
}

/// `POST /apis/sessions/:id/sources`: `sourceId`, required. `Ok(None)`
/// for a string that is no source id (so: not found).
pub fn session_source(body: Option<&Value>) -> Result<Option<Id>, HmpError> {
    let fields = object(body)?;
    let id = string(&fields, "sourceId")?
        .ok_or_else(|| HmpError::input("sourceId is required, as a string"))?;
    Ok(Id::parse(&id))
}

/// `POST /apis/sessions/:id/recordings`: `recorders: [{source}]`, or no
/// body for all the session's sources. Entries naming no source are
/// dropped: the seed ignores sources that are not the session's.
pub fn recorders(body: Option<&Value>) -> Result<Option<Vec<Id>>, HmpError> {
    let fields = object(body)?;
    let list = match fields.get("recorders") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(HmpError::input(
                "recorders must be a list of {\"source\": id}",
            ))
        }
    };
    let mut sources = Vec::with_capacity(list.len());
    for entry in list {
        let source = entry.get("source").and_then(Value::as_str).ok_or_else(|| {
            HmpError::input("each of recorders must be {\"source\": id}, the id a string")
        })?;
        if let Some(id) = Id::parse(source) {
            sources.push(id);
        }
    }
    Ok(Some(sources))
}

/// What `PUT /apis/recordings/:id` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingState {
    Paused,
    Recording,
}

pub fn recording_state(body: Option<&Value>) -> Result<RecordingState, HmpError> {
    let fields = object(body)?;
    match fields.get("state").and_then(Value::as_str) {
        Some("PAUSED") => Ok(RecordingState::Paused),
        Some("RECORDING") => Ok(RecordingState::Recording),
        _ => Err(HmpError::input(
            "State should be either 'RECORDING' or 'PAUSED'",
        )),
    }
}

/// `PUT /apis/assets/:id`: title and/or description.
pub fn asset_edit(body: Option<&Value>, id: &Id) -> Result<AssetEdit, HmpError> {
    let fields = object(body)?;
    same_id(&fields, Some(id))?;
    Ok(AssetEdit {
        title: string(&fields, "title")?,
        description: string(&fields, "description")?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_session_needs_a_title_and_fields_of_the_right_type() {
        let ok = new_session(Some(
            &json!({"title": "Cam", "syncrecord": true, "extra": 1}),
        ))
        .unwrap();
        assert_eq!(ok.title.as_deref(), Some("Cam"));
        assert!(ok.sync_record && !ok.active);
        for (body, word) in [
            (json!({}), "title"),
            (json!({"title": 3}), "title"),
            (json!({"title": "t", "active": "yes"}), "active"),
            (
                json!({"title": "t", "id": "00000000-0000-4000-8000-000000000000"}),
                "id",
            ),
            (json!(["t"]), "object"),
        ] {
            let e = new_session(Some(&body)).unwrap_err();
            assert_eq!(e.code, "010001");
            assert!(e.message.contains(word), "{body}: {}", e.message);
        }
    }

    #[test]
    fn recorders_drop_entries_that_name_no_source() {
        let id = "00000000-0000-4000-8000-000000000001";
        let got = recorders(Some(
            &json!({"recorders": [{"source": id}, {"source": "nope"}]}),
        ));
        assert_eq!(got.unwrap(), Some(vec![Id::parse(id).unwrap()]));
        assert_eq!(recorders(None).unwrap(), None);
        assert!(recorders(Some(&json!({"recorders": [{"source": 1}]}))).is_err());
    }

    #[test]
    fn a_recording_state_is_paused_or_recording_only() {
        assert_eq!(
            recording_state(Some(&json!({"state": "PAUSED"}))).unwrap(),
            RecordingState::Paused
        );
        let e = recording_state(Some(&json!({"state": "STOPPED"}))).unwrap_err();
        assert_eq!(e.message, "State should be either 'RECORDING' or 'PAUSED'");
        assert!(recording_state(None).is_err());
    }
}
