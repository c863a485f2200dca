//! Carrying out a routed, authorised request and writing the answer.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use makara_config::Id;
use makara_supervisor::{Asset, Command, GroupView, Reply};
use serde_json::{json, Value};

use super::error::HmpError;
use super::lockout::NewLocks;
use super::login::Login;
use super::query::{ListQuery, SortField};
use super::routes::Action;
use super::{auth, bodies, download, views};
use crate::handler::App;

/// Carries out `action` for `login`.
pub async fn act(
    app: &App,
    parts: &Parts,
    login: &Login,
    action: Action,
    body: Option<Value>,
) -> Result<Response, HmpError> {
    let body = body.as_ref();
    let query = parts.uri.query();
    let link = link(parts);
    match action {
        Action::LoginInfo => Ok(json(200, &json!({ "data": auth::session_info(login) }))),
        Action::Version => Ok(json(200, &json!({ "data": version() }))),
        Action::ListUsers => list_users(app, query, &link),
        Action::ListSources => {
            let q = ListQuery::parse(query, false)?;
            let Reply::Sources(sources) = call(app, Command::ListSources).await? else {
                return Err(unexpected());
            };
            let items = sources
                .iter()
                .filter(|s| {
                    let c = &s.output.config;
                    q.matches([
                        c.name.as_str(),
                        c.description.as_deref().unwrap_or_default(),
                    ])
                })
                .map(|s| views::source(s, login.role))
                .collect();
            page(&q, items, &link)
        }
        Action::GetSource(id) => {
            let id = parse_id(&id, HmpError::source_not_found)?;
            let Reply::Source(source) = call(app, Command::GetSource(id)).await? else {
                return Err(unexpected());
            };
            one(&views::source(&source, login.role))
        }
        Action::SourceThumbnail(id) => {
            let id = parse_id(&id, HmpError::source_not_found)?;
            thumbnail(app, id, query).await
        }
        Action::ListSessions => {
            let q = ListQuery::parse(query, true)?;
            let mut groups = groups(app).await?;
            groups.retain(|g| q.matches([g.title.as_str(), g.description.as_str()]));
            sort_sessions(&mut groups, &q);
            page(&q, groups.iter().map(views::session).collect(), &link)
        }
        Action::CreateSession => {
            let request = bodies::new_session(body)?;
            let Reply::Group(group) = call(app, Command::CreateGroup(request)).await? else {
                return Err(unexpected());
            };
            Ok(json(201, &json!({ "data": views::session(&group) })))
        }
        Action::GetSession(id) => one(&views::session(&group(app, &id).await?)),
        Action::UpdateSession(id) => {
            let id = parse_id(&id, HmpError::session_not_found)?;
            let edit = bodies::session_edit(body, &id)?;
            let Reply::Group(group) = call(app, Command::UpdateGroup(id, edit)).await? else {
                return Err(unexpected());
            };
            one(&views::session(&group))
        }
        Action::DeleteSession(id) => {
            let id = parse_id(&id, HmpError::session_not_found)?;
            call(app, Command::DeleteGroup(id)).await?;
            Ok(empty())
        }
        Action::ListSessionSources(id) => {
            let q = ListQuery::parse(query, false)?;
            let group = group(app, &id).await?;
            let items = group
                .outputs
                .iter()
                .enumerate()
                .map(|(index, o)| json!({ "index": index, "sourceId": o.as_str() }))
                .collect();
            page(&q, items, &link)
        }
        Action::AddSessionSource(id) => {
            let group = parse_id(&id, HmpError::session_not_found)?;
            let output = bodies::session_source(body)?.ok_or_else(HmpError::source_not_found)?;
            let command = Command::AddGroupOutput { group, output };
            let Reply::GroupOutput { output, index } = call(app, command).await? else {
                return Err(unexpected());
            };
            Ok(json(
                201,
                &json!({ "data": { "sourceId": output.as_str(), "index": index } }),
            ))
        }
        Action::RemoveSessionSource(id, source) => {
            let group = parse_id(&id, HmpError::session_not_found)?;
            let output = parse_id(&source, HmpError::source_not_found)?;
            call(app, Command::RemoveGroupOutput { group, output }).await?;
            Ok(empty())
        }
        Action::ListSessionRecordings(id) => {
            let q = ListQuery::parse(query, false)?;
            let group = group(app, &id).await?;
            let recordings = recordings(app).await?;
            let items = recordings
                .iter()
                .filter(|r| r.group == group.id)
                .map(views::recording)
                .collect();
            page(&q, items, &link)
        }
        Action::StartRecording(id) => {
            let group = parse_id(&id, HmpError::session_not_found)?;
            let outputs = bodies::recorders(body)?;
            let command = Command::StartRecording {
                group,
                outputs,
                creator: login.username.clone(),
            };
            let Reply::Recording(recording) = call(app, command).await? else {
                return Err(unexpected());
            };
            Ok(json(201, &json!({ "data": views::recording(&recording) })))
        }
        Action::ListSessionAssets(id) => {
            let q = ListQuery::parse(query, true)?;
            let group = group(app, &id).await?;
            let mut assets = assets(app).await?;
            assets.retain(|a| a.group == group.id);
            list_assets(&q, assets, &link)
        }
        Action::SessionThumbnail(id) => {
            let group = match group(app, &id).await {
                Err(e) if e.code == "040006" => Err(HmpError::session_not_found_040002()),
                other => other,
            }?;
            let first = group
                .outputs
                .first()
                .cloned()
                .ok_or_else(|| HmpError::thumbnail_not_found("the session has no sources"))?;
            thumbnail(app, first, query).await
        }
        Action::ListRecordings => {
            let q = ListQuery::parse(query, false)?;
            let items = recordings(app)
                .await?
                .iter()
                .map(views::recording)
                .collect();
            page(&q, items, &link)
        }
        Action::GetRecording(id) => {
            let id = parse_id(&id, HmpError::recording_not_found)?;
            let Reply::Recording(r) = call(app, Command::GetRecording(id)).await? else {
                return Err(unexpected());
            };
            one(&views::recording(&r))
        }
        Action::ChangeRecording(id) => {
            let id = parse_id(&id, HmpError::recording_not_found)?;
            let command = match bodies::recording_state(body)? {
                bodies::RecordingState::Paused => Command::PauseRecording(id),
                bodies::RecordingState::Recording => Command::ResumeRecording(id),
            };
            let Reply::Recording(r) = call(app, command).await? else {
                return Err(unexpected());
            };
            one(&views::recording(&r))
        }
        Action::StopRecording(id) => {
            let id = parse_id(&id, HmpError::recording_not_found)?;
            call(app, Command::StopRecording(id)).await?;
            Ok(empty())
        }
        Action::ListAssets => {
            let q = ListQuery::parse(query, true)?;
            list_assets(&q, assets(app).await?, &link)
        }
        Action::GetAsset(id) => {
            let id = parse_id(&id, HmpError::asset_not_found)?;
            let Reply::Asset(a) = call(app, Command::GetAsset(id)).await? else {
                return Err(unexpected());
            };
            one(&views::asset(&a))
        }
        Action::UpdateAsset(id) => {
            let id = parse_id(&id, HmpError::asset_not_found)?;
            let edit = bodies::asset_edit(body, &id)?;
            let Reply::Asset(a) = call(app, Command::UpdateAsset(id, edit)).await? else {
                return Err(unexpected());
            };
            one(&views::asset(&a))
        }
        Action::DeleteAsset(id) => {
            let id = parse_id(&id, HmpError::asset_not_found)?;
            call(app, Command::DeleteAsset(id)).await?;
            Ok(empty())
        }
        Action::DownloadAsset(id) => download(app, parts, &id).await,
        Action::ListEvents => {
            let q = ListQuery::parse(query, false)?;
            let Reply::Events(events) = call(app, Command::ListEvents).await? else {
                return Err(unexpected());
            };
            // Newest first: what an operator looks for.
            let items = events
                .iter()
                .rev()
                .filter(|e| {
                    q.matches([
                        e.name.as_str(),
                        e.detail.as_str(),
                        views::event_type(&e.kind),
                    ])
                })
                .map(views::event)
                .collect();
            page(&q, items, &link)
        }
        Action::Login | Action::Logout => Err(unexpected()),
        Action::Absent(e) => Err(e),
        Action::NotImplemented => Err(HmpError::not_implemented()),
    }
}

/// Reads the typed request of `action` from its body, as `act` does,
/// without carrying it out.
pub fn check_body(action: &Action, body: Option<&Value>) -> Result<(), HmpError> {
    let id = Id::new_random();
    match action {
        Action::Login => auth::credentials(body).map(drop),
        Action::CreateSession => bodies::new_session(body).map(drop),
        Action::UpdateSession(_) => bodies::session_edit(body, &id).map(drop),
        Action::AddSessionSource(_) => bodies::session_source(body).map(drop),
        Action::StartRecording(_) => bodies::recorders(body).map(drop),
        Action::ChangeRecording(_) => bodies::recording_state(body).map(drop),
        Action::UpdateAsset(_) => bodies::asset_edit(body, &id).map(drop),
        _ => Ok(()),
    }
}

/// A path id that is no UUID names nothing: the route's not-found answer.
fn parse_id(text: &str, not_found: fn() -> HmpError) -> Result<Id, HmpError> {
    Id::parse(text).ok_or_else(not_found)
}

async fn group(app: &App, id: &str) -> Result<GroupView, HmpError> {
    let id = parse_id(id, HmpError::session_not_found)?;
    match call(app, Command::GetGroup(id)).await? {
        Reply::Group(group) => Ok(group),
        _ => Err(unexpected()),
    }
}

async fn groups(app: &App) -> Result<Vec<GroupView>, HmpError> {
    match call(app, Command::ListGroups).await? {
        Reply::Groups(groups) => Ok(groups),
        _ => Err(unexpected()),
    }
}

async fn recordings(app: &App) -> Result<Vec<Asset>, HmpError> {
    match call(app, Command::ListRecordings).await? {
        Reply::Recordings(r) => Ok(r),
        _ => Err(unexpected()),
    }
}

async fn assets(app: &App) -> Result<Vec<Asset>, HmpError> {
    match call(app, Command::ListAssets).await? {
        Reply::Assets(a) => Ok(a),
        _ => Err(unexpected()),
    }
}

fn list_assets(q: &ListQuery, mut assets: Vec<Asset>, link: &str) -> Result<Response, HmpError> {
    assets.retain(|a| q.matches([a.title.as_str(), a.description.as_str(), a.creator.as_str()]));
    sort_assets(&mut assets, q);
    page(q, assets.iter().map(views::asset).collect(), link)
}

fn sort_sessions(groups: &mut [GroupView], q: &ListQuery) {
    match q.sort.unwrap_or(SortField::Ctime) {
        SortField::Title => groups.sort_by_key(|g| g.title.to_lowercase()),
        SortField::Description => groups.sort_by_key(|g| g.description.to_lowercase()),
        // A session's duration is always 0: creation order stands.
        SortField::Duration | SortField::Ctime => groups.sort_by_key(|g| g.created_unix),
    }
    if !q.ascending {
        groups.reverse();
    }
}

fn sort_assets(assets: &mut [Asset], q: &ListQuery) {
    match q.sort.unwrap_or(SortField::Ctime) {
        SortField::Title => assets.sort_by_key(|a| a.title.to_lowercase()),
        SortField::Description => assets.sort_by_key(|a| a.description.to_lowercase()),
        SortField::Duration => assets.sort_by(|a, b| a.duration_secs.total_cmp(&b.duration_secs)),
        SortField::Ctime => assets.sort_by_key(|a| a.created),
    }
    if !q.ascending {
        assets.reverse();
    }
}

/// `?width=N` (16-1920, default 640): a JPEG of what `output` sends. One
/// made for the same output and width within the last half second is sent
/// again, and one is made at a time (`thumbs`).
async fn thumbnail(app: &App, output: Id, query: Option<&str>) -> Result<Response, HmpError> {
    let max_width = thumbnail_width(query)?;
    let thumbs = &app.hmp.thumbs;
    let jpeg = match thumbs.fresh(&output, max_width, Instant::now()) {
        Some(jpeg) => jpeg,
        None => {
            let _turn = tokio::time::timeout(THUMBNAIL_WAIT, thumbs.making().acquire())
                .await
                .map_err(|_| busy_making_thumbnails())?
                .map_err(|_| busy_making_thumbnails())?;
            match thumbs.fresh(&output, max_width, Instant::now()) {
                Some(jpeg) => jpeg,
                None => {
                    let command = Command::Thumbnail {
                        output: output.clone(),
                        max_width,
                    };
                    let Reply::Thumbnail(picture) = call(app, command).await? else {
                        return Err(unexpected());
                    };
                    let jpeg = Arc::new(picture.jpeg);
                    thumbs.keep(output, max_width, Arc::clone(&jpeg), Instant::now());
                    jpeg
                }
            }
        }
    };
    let mut response = Response::new(Body::from(jpeg.as_ref().clone()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// How long a thumbnail request waits for its turn before 503.
const THUMBNAIL_WAIT: Duration = Duration::from_secs(5);

fn busy_making_thumbnails() -> HmpError {
    let mut busy = HmpError::unavailable("Too many thumbnails are being made; try again shortly");
    busy.retry_after = Some(Duration::from_secs(1));
    busy
}

/// Thumbnail widths: the default, and the range taken.
pub const THUMBNAIL_WIDTH: (u32, u32, u32) = (640, 16, 1920);

fn thumbnail_width(query: Option<&str>) -> Result<u32, HmpError> {
    let (default, min, max) = THUMBNAIL_WIDTH;
    let Some(text) = query_value(query, "width") else {
        return Ok(default);
    };
    text.parse::<u32>()
        .ok()
        .filter(|w| (min..=max).contains(w))
        .ok_or_else(|| {
            HmpError::input(format!(
                "width must be a whole number, {min} to {max} (was {text:?})"
            ))
        })
}

/// `GET /apis/assets/:id/download[?track=N][&fileType=ts]`: one track's
/// transport stream (track 0 unless asked), with byte ranges.
async fn download(app: &App, parts: &Parts, id: &str) -> Result<Response, HmpError> {
    let asset = parse_id(id, HmpError::asset_not_found)?;
    let query = parts.uri.query();
    match query_value(query, "fileType").as_deref() {
        None | Some("ts") => {}
        Some(other) => {
            return Err(HmpError::input(format!(
                "fileType {other:?} is not available: this appliance records MPEG-TS only (fileType=ts)"
            )))
        }
    }
    let track = match query_value(query, "track") {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| {
            HmpError::input(format!("track must be a whole number from 0 (was {t:?})"))
        })?,
    };
    let Reply::TrackFile(path) = call(
        app,
        Command::AssetTrackFile {
            asset: asset.clone(),
            track,
        },
    )
    .await?
    else {
        return Err(unexpected());
    };
    let range = parts
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let name = format!("{}-track-{track}.ts", asset.as_str());
    download::send(&path, &name, range).await
}

fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn one(doc: &Value) -> Result<Response, HmpError> {
    Ok(json(200, &json!({ "data": doc })))
}

fn unexpected() -> HmpError {
    tracing::error!("the supervisor answered an HMP request with an unexpected reply");
    HmpError::internal("Internal Server Error")
}

/// `{"version", "build"}`: the firmware's version, and the build it came
/// from when the build said (`MAKARA_BUILD` at compile time).
fn version() -> Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "build": option_env!("MAKARA_BUILD").unwrap_or("dev"),
    })
}

/// `GET /apis/users/enabled`: the appliance's accounts; HMP supports only
/// `id`, `username`, `displayName` and `email` (none here).
fn list_users(app: &App, query: Option<&str>, link: &str) -> Result<Response, HmpError> {
    let query = ListQuery::parse(query, false)?;
    let users = app.hmp.users.current();
    let items = users
        .users()
        .filter(|u| query.matches([u.username.as_str()]))
        .map(|u| {
            json!({
                "id": u.id,
                "username": u.username,
                "displayName": u.username,
                "email": null,
            })
        })
        .collect();
    page(&query, items, link)
}

/// A list's page, or 404 NoResults.
fn page(query: &ListQuery, items: Vec<Value>, link: &str) -> Result<Response, HmpError> {
    let doc = query.page_of(items, link)?;
    Ok(json(200, &doc))
}

/// The absolute URL of the request's path, for `next` links.
fn link(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    format!("https://{host}{}", parts.uri.path())
}

/// Calls the supervisor off the async workers.
async fn call(app: &App, command: Command) -> Result<Reply, HmpError> {
    let supervisor = app.supervisor.clone();
    match tokio::task::spawn_blocking(move || supervisor.call(command)).await {
        Ok(reply) => reply.map_err(HmpError::from),
        Err(join) => {
            tracing::error!(error = %join, "supervisor call panicked");
            Err(HmpError::internal("Internal Server Error"))
        }
    }
}

/// Puts a login lockout on the event list; `ip` is the address of the
/// failure that locked.
pub async fn record_lockout(app: &App, locks: &NewLocks, ip: Option<IpAddr>) {
    let command = Command::RecordLockout {
        username: locks.user.clone(),
        address: locks.address.and(ip),
    };
    if let Err(e) = call(app, command).await {
        tracing::warn!(error = %e.message, "the lockout could not be put on the event list");
    }
}

/// A JSON document.
pub fn json(status: u16, doc: &Value) -> Response {
    let mut response = Response::new(Body::from(doc.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 200 with an empty body (HMP's DELETE answer).
pub fn empty() -> Response {
    let mut response = Response::new(Body::empty());
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

pub fn error(e: &HmpError) -> Response {
    let mut response = json(e.status, &e.document());
    if let Some(allow) = e
        .allow
        .as_deref()
        .and_then(|a| HeaderValue::from_str(a).ok())
    {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    if let Some(after) = e.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs()));
    }
    response
}
