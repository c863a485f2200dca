//! The routing table: from method, path and body to one supervisor command
//! and the way its reply is written. Pure: no sockets, no supervisor.

use makara_config::Id;
use makara_supervisor::{Command, Kind};

use super::error::{ApiError, Code};
use super::fields::segment_id;
use super::streams::{StateAction, StreamBody, StreamBodyError};
use super::words::element;
use super::{configurations, inputs, outputs, streams, transcoders};
use crate::xml::{self, Element};

/// A request as the router sees it.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

/// How to answer once the supervisor has replied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Render {
    /// 201 with a link to the new resource.
    Created(Kind),
    /// 200 with a link to the resource.
    Updated(Kind),
    /// 200 with a link to the collection.
    Deleted(Kind),
    /// 200 with the list, or 404/1001 when it is empty.
    List,
    /// 200 with one resource.
    One,
    System,
    Servers,
    Server,
    Nics,
    Nic(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// What the path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Collection(Kind),
    Item(Kind, Id),
    System,
    Servers,
    Server,
    Nics,
    Nic(String),
}

/// Routes a request; `server_id` is this machine's id in server paths.
pub fn route(req: &ApiRequest, server_id: &str) -> Result<(Command, Render), ApiError> {
    let method = method(req.method)?;
    let target = target(req.path, server_id)?;
    check_query(req.query)?;
    match (method, target) {
        (Method::Get, Target::Collection(kind)) => Ok((Command::List(kind), Render::List)),
        (Method::Get, Target::Item(kind, id)) => Ok((Command::Get(kind, id), Render::One)),
        (Method::Post, Target::Collection(kind)) => create(kind, req.body),
        (Method::Put, Target::Item(kind, id)) => update(kind, id, req.body),
        (Method::Delete, Target::Item(kind, id)) => {
            Ok((Command::Delete(kind, id), Render::Deleted(kind)))
        }
        (Method::Get, Target::System) => Ok((Command::System, Render::System)),
        (Method::Get, Target::Servers) => Ok((Command::Server, Render::Servers)),
        (Method::Get, Target::Server) => Ok((Command::Server, Render::Server)),
        (Method::Get, Target::Nics) => Ok((Command::Server, Render::Nics)),
        (Method::Get, Target::Nic(name)) => Ok((Command::Server, Render::Nic(name))),
        _ => Err(ApiError::with(
            Code::MethodNotImplemented,
            format!("{} is not available on {}", req.method, req.path),
        )),
    }
}

fn method(m: &str) -> Result<Method, ApiError> {
    match m {
        "GET" => Ok(Method::Get),
        "POST" => Ok(Method::Post),
        "PUT" => Ok(Method::Put),
        "DELETE" => Ok(Method::Delete),
        other => Err(ApiError::with(
            Code::UnknownMethod,
            format!("{other} (use GET, POST, PUT or DELETE)"),
        )),
    }
}

fn target(path: &str, server_id: &str) -> Result<Target, ApiError> {
    let unknown = || ApiError::with(Code::UnknownFunction, path);
    let bad_uri = || ApiError::with(Code::BadUri, path);
    let rest = path.strip_prefix("/apis/").ok_or_else(unknown)?;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        ["kraken", "system"] => Ok(Target::System),
        ["kraken", "system", ..] => Err(bad_uri()),
        ["kraken", collection, more @ ..] => {
            let kind = collection_kind(collection).ok_or_else(unknown)?;
            match more {
                [] => Ok(Target::Collection(kind)),
                [item] => item_id(kind, item)
                    .map(|id| Target::Item(kind, id))
                    .ok_or_else(bad_uri),
                _ => Err(bad_uri()),
            }
        }
        ["servers"] => Ok(Target::Servers),
        ["servers", server, more @ ..] => {
            let id = server
                .strip_prefix("server-")
                .or_else(|| server.strip_prefix("server"))
                .ok_or_else(bad_uri)?;
            if !id.eq_ignore_ascii_case(server_id) {
                return Err(ApiError::new(Code::UnknownId));
            }
            match more {
                [] => Ok(Target::Server),
                ["nics"] => Ok(Target::Nics),
                ["nics", nic] => {
                    let name = nic.strip_prefix("nic-").or_else(|| nic.strip_prefix("nic"));
                    match name {
                        Some(n) if !n.is_empty() => Ok(Target::Nic(n.to_string())),
                        _ => Err(bad_uri()),
                    }
                }
                _ => Err(bad_uri()),
            }
        }
        _ => Err(unknown()),
    }
}

fn collection_kind(name: &str) -> Option<Kind> {
    match name {
        "inputs" => Some(Kind::Input),
        "outputs" => Some(Kind::Output),
        "transcoders" => Some(Kind::Transcoder),
        "streams" => Some(Kind::Stream),
        "configurations" => Some(Kind::Preset),
        _ => None,
    }
}

/// `input-{uuid}` and friends; configurations also answer to `config-{uuid}`,
/// the spelling of the contract's delete example.
fn item_id(kind: Kind, segment: &str) -> Option<Id> {
    let prefixes: &[&str] = match kind {
        Kind::Preset => &["configuration", "config"],
        _ => &[element(kind)],
    };
    prefixes
        .iter()
        .filter(|p| segment.starts_with(*p))
        .find_map(|p| segment_id(segment, p))
}

/// Only OAuth's own parameters may ride in the query.
fn check_query(query: Option<&str>) -> Result<(), ApiError> {
    let unknown: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or_default())
        .filter(|name| !name.starts_with("oauth_"))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::with(Code::BadArguments, unknown.join(", ")))
    }
}

/// Parses the body and checks its root element.
fn body(bytes: &[u8], kind: Kind) -> Result<Element, ApiError> {
    let root = xml::parse(bytes).map_err(|e| ApiError::with(Code::BadXml, e))?;
    if root.name != element(kind) {
        return Err(ApiError::with(
            Code::BadXml,
            format!(
                "expected a <{}> element, got <{}>",
                element(kind),
                root.name
            ),
        ));
    }
    Ok(root)
}

fn create(kind: Kind, bytes: &[u8]) -> Result<(Command, Render), ApiError> {
    let el = body(bytes, kind)?;
    let invalid = |e| ApiError::invalid(true, &e);
    let command = match kind {
        Kind::Input => Command::CreateInput(
            inputs::parse(&el)
                .and_then(|r| r.validate())
                .map_err(invalid)?,
        ),
        Kind::Output => Command::CreateOutput(
            outputs::parse(&el)
                .and_then(|r| r.validate())
                .map_err(invalid)?,
        ),
        Kind::Transcoder => Command::CreateTranscoder(
            transcoders::parse(&el)
                .and_then(|r| r.validate())
                .map_err(invalid)?,
        ),
        Kind::Stream => match streams::parse(&el, false).map_err(|e| stream_error(true, e))? {
            StreamBody::Config { request, start } => Command::CreateStream {
                config: request.validate().map_err(invalid)?,
                start,
            },
            // `parse` only reads state actions when editing.
            StreamBody::State(_) => return Err(ApiError::new(Code::CreateFailed)),
        },
        Kind::Preset => Command::SavePreset {
            name: configurations::parse_name(&el),
        },
    };
    Ok((command, Render::Created(kind)))
}

fn update(kind: Kind, id: Id, bytes: &[u8]) -> Result<(Command, Render), ApiError> {
    let el = body(bytes, kind)?;
    let invalid = |e| ApiError::invalid(false, &e);
    let command = match kind {
        Kind::Input => Command::ReplaceInput(
            id,
            inputs::parse(&el)
                .and_then(|r| r.validate())
                .map_err(invalid)?,
        ),
        Kind::Output => Command::ReplaceOutput(
            id,
            outputs::parse(&el)
                .and_then(|r| r.validate())
                .map_err(invalid)?,
        ),
        Kind::Transcoder => Command::ReplaceTranscoder(
            id,
            transcoders::parse(&el)
                .and_then(|r| r.validate())
                .map_err(invalid)?,
        ),
        Kind::Stream => match streams::parse(&el, true).map_err(|e| stream_error(false, e))? {
            StreamBody::State(StateAction::Start) => Command::StartStream(id),
            StreamBody::State(StateAction::Stop) => Command::StopStream(id),
            StreamBody::Config { request, .. } => {
                Command::ReplaceStream(id, request.validate().map_err(invalid)?)
            }
        },
        Kind::Preset => {
            let update = configurations::parse_update(&el).map_err(invalid)?;
            Command::UpdatePreset {
                id,
                activate: update.activate,
                make_default: update.make_default,
            }
        }
    };
    Ok((command, Render::Updated(kind)))
}

fn stream_error(creating: bool, e: StreamBodyError) -> ApiError {
    match e {
        StreamBodyError::Invalid(e) => ApiError::invalid(creating, &e),
        StreamBodyError::MetadataSources => ApiError::with(
            Code::NotImplemented,
            "separate metadata sources (<metadatas>) are not supported; KLV pass-through is the transcoder's <metadata>on</metadata>",
        ),
    }
}

#[cfg(test)]
mod tests;
