//! Writing a supervisor reply as a Kraken response document.

use makara_supervisor::Reply;

use super::error::{ApiError, Code};
use super::links::Links;
use super::router::Render;
use super::{configurations, inputs, outputs, streams, system, transcoders};
use crate::xml::XmlWriter;

/// A status and a response document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Writes `reply` as `render` asks. A reply that does not fit the request
/// is an internal error: the router and the supervisor disagree.
pub fn render(render: &Render, reply: Reply, links: &Links) -> Result<Answer, ApiError> {
    let mut w = XmlWriter::new();
    w.open("response");
    let status = match (render, reply) {
        (Render::Created(kind), Reply::Created(id)) => {
            w.link("self", &links.resource(*kind, &id));
            201
        }
        (Render::Updated(kind), Reply::Updated(id)) => {
            w.link("self", &links.resource(*kind, &id));
            200
        }
        (Render::Deleted(kind), Reply::Deleted) => {
            w.link("self", &links.collection(*kind));
            200
        }
        (Render::List, reply) => {
            list(&mut w, reply, links)?;
            200
        }
        (Render::One, reply) => {
            one(&mut w, reply, links)?;
            200
        }
        (Render::System, Reply::System(s)) => {
            system::render_system(&mut w, &s);
            200
        }
        (Render::Servers, Reply::Server(s)) => {
            system::render_servers(&mut w, &s, links);
            200
        }
        (Render::Server, Reply::Server(s)) => {
            system::render_server(&mut w, &s, links);
            200
        }
        (Render::Nics, Reply::Server(s)) => {
            if s.nics.is_empty() {
                return Err(ApiError::new(Code::NoResults));
            }
            system::render_nics(&mut w, &s.nics, links);
            200
        }
        (Render::Nic(name), Reply::Server(s)) => {
            let nic = s
                .nics
                .iter()
                .find(|n| &n.name == name)
                .ok_or_else(|| ApiError::new(Code::UnknownId))?;
            system::render_nic(&mut w, nic, links);
            200
        }
        (render, reply) => return Err(mismatch(render, &reply)),
    };
    Ok(Answer {
        status,
        body: w.finish(),
    })
}

/// An empty list is "No results found", as the contract's tables say.
fn list(w: &mut XmlWriter, reply: Reply, links: &Links) -> Result<(), ApiError> {
    let empty = || ApiError::new(Code::NoResults);
    match reply {
        Reply::Inputs(v) if !v.is_empty() => inputs::render_list(w, &v, links),
        Reply::Outputs(v) if !v.is_empty() => outputs::render_list(w, &v, links),
        Reply::Transcoders(v) if !v.is_empty() => transcoders::render_list(w, &v, links),
        Reply::Streams(v) if !v.is_empty() => streams::render_list(w, &v, links),
        Reply::Presets(v) if !v.is_empty() => configurations::render_list(w, &v, links),
        Reply::Inputs(_)
        | Reply::Outputs(_)
        | Reply::Transcoders(_)
        | Reply::Streams(_)
        | Reply::Presets(_) => return Err(empty()),
        other => return Err(mismatch(&Render::List, &other)),
    }
    Ok(())
}

fn one(w: &mut XmlWriter, reply: Reply, links: &Links) -> Result<(), ApiError> {
    match reply {
        Reply::Input(v) => inputs::render(w, &v, links),
        Reply::Output(v) => outputs::render(w, &v, links),
        Reply::Transcoder(v) => transcoders::render(w, &v, links),
        Reply::Stream(v) => streams::render(w, &v, links),
        Reply::Preset(v) => configurations::render(w, &v, links),
        other => return Err(mismatch(&Render::One, &other)),
    }
    Ok(())
}

fn mismatch(render: &Render, reply: &Reply) -> ApiError {
    tracing::error!(?render, ?reply, "reply does not match the request");
    ApiError::new(Code::ExecutionFailed)
}
