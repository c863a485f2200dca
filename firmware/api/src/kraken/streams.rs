//! `/apis/kraken/streams`: reading `<stream>` bodies and writing streams.

use makara_config::{Id, Invalid, StreamRequest};
use makara_supervisor::{Kind, StreamView};

use super::fields::{boolean, choice, link_id, string};
use super::links::Links;
use super::words::{stream_state, word, STREAM_MODES};
use crate::xml::{Element, XmlWriter};

/// What a `<stream>` body asks for.
#[derive(Debug)]
pub enum StreamBody {
    /// `<state>start</state>` or `<state>stop</state>`: an action that is
    /// carried out alone; any other element is ignored.
    State(StateAction),
    /// Anything else: the stream's configuration, plus, on create, whether
    /// to start it right away.
    Config { request: StreamRequest, start: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAction {
    Start,
    Stop,
}

/// Why a body cannot be used, beyond a plain invalid field.
#[derive(Debug)]
pub enum StreamBodyError {
    Invalid(Invalid),
    /// The body names metadata sources, which this firmware does not have.
    MetadataSources,
}

impl From<Invalid> for StreamBodyError {
    fn from(e: Invalid) -> Self {
        StreamBodyError::Invalid(e)
    }
}

const STATES: &[(&str, StateAction)] =
    &[("start", StateAction::Start), ("stop", StateAction::Stop)];

/// Reads a stream body. For an edit (`editing`), a `<state>` element makes
/// the whole body a state action.
pub fn parse(el: &Element, editing: bool) -> Result<StreamBody, StreamBodyError> {
    let state = choice(el, &["state"], STATES)?;
    if editing {
        if let Some(action) = state {
            return Ok(StreamBody::State(action));
        }
    }
    if el
        .child(&["metadatas"])
        .is_some_and(|m| m.children.iter().any(|c| !c.text.trim().is_empty()))
    {
        return Err(StreamBodyError::MetadataSources);
    }
    let auto_start = boolean(el, &["auto_start", "autoStart"])?;
    let request = StreamRequest {
        name: string(el, &["name"]),
        description: string(el, &["description"]),
        auto_start,
        mode: choice(el, &["mode"], STREAM_MODES)?,
        input: reference(el, "input", "input")?,
        transcoder: reference(el, "transcoder", "transcoder")?,
        outputs: outputs(el)?,
        passthru: reference(el, "passthru", "output")?,
    };
    let start = state == Some(StateAction::Start) || auto_start == Some(true);
    Ok(StreamBody::Config { request, start })
}

fn reference(el: &Element, field: &'static str, prefix: &str) -> Result<Option<Id>, Invalid> {
    match el.text_of(&[field]) {
        None | Some("") => Ok(None),
        Some(text) => link_id(text, field, prefix).map(Some),
    }
}

fn outputs(el: &Element) -> Result<Vec<Id>, Invalid> {
    let Some(list) = el.child(&["outputs"]) else {
        return Ok(Vec::new());
    };
    list.children_named(&["output"])
        .filter(|o| !o.text.trim().is_empty())
        .map(|o| link_id(&o.text, "outputs", "output"))
        .collect()
}

pub fn render_list(w: &mut XmlWriter, views: &[StreamView], links: &Links) {
    w.open("streams");
    for v in views {
        w.open("stream");
        w.text("uuid", &v.id);
        w.text("name", &v.config.name);
        w.text("state", stream_state(v.state));
        w.link("self", &links.resource(Kind::Stream, &v.id));
        w.close();
    }
    w.close();
}

pub fn render(w: &mut XmlWriter, v: &StreamView, links: &Links) {
    let c = &v.config;
    w.open("stream");
    w.text("uuid", &v.id);
    w.text("name", &c.name);
    w.text("mode", word(STREAM_MODES, &c.mode));
    w.text("auto_start", c.auto_start);
    w.text("state", stream_state(v.state));
    w.optional("lastError", v.last_error.as_deref());
    if let Some(stats) = &v.stats {
        super::stats::render(w, stats);
    }
    w.optional("description", c.description.as_deref());
    named_link(
        w,
        "input",
        &v.input_name,
        &links.resource(Kind::Input, &c.input),
    );
    if let (Some(id), Some(name)) = (&c.passthru, &v.passthru_name) {
        w.open("passthru");
        w.text("name", name);
        w.link("output", &links.resource(Kind::Output, id));
        w.close();
    }
    if let (Some(id), Some(name)) = (&c.transcoder, &v.transcoder_name) {
        named_link(w, "transcoder", name, &links.resource(Kind::Transcoder, id));
    }
    w.open("outputs");
    for (id, name) in c.outputs.iter().zip(&v.output_names) {
        named_link(w, "output", name, &links.resource(Kind::Output, id));
    }
    w.close();
    w.link("self", &links.resource(Kind::Stream, &v.id));
    w.close();
}

/// `<input><name>…</name><link rel="input" …/></input>` and its siblings.
fn named_link(w: &mut XmlWriter, element: &'static str, name: &str, href: &str) {
    w.open(element);
    w.text("name", name);
    w.link(element, href);
    w.close();
}
