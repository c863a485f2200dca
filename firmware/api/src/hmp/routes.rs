//! The HMP routing table: from method and path to one [`Action`]. Pure.
//!
//! Every path of the seed is here. The subset this appliance does gets
//! its action; the rest answer as the seed does when the thing asked for
//! does not exist (a list: 404 NoResults; one item: the route's own
//! not-found code), and 501 to any write the seed defines there (hmp.md
//! Tier C). A method the seed does not define on a path gets 405 with
//! `Allow`; a path outside the seed 404 NotFound.

use super::error::HmpError;

/// What a request asks for. Ids are the path's segments as sent; the
/// handler parses them (a malformed id is simply not found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Login,
    LoginInfo,
    Logout,
    Version,
    ListUsers,
    ListSources,
    GetSource(String),
    SourceThumbnail(String),
    ListSessions,
    CreateSession,
    GetSession(String),
    UpdateSession(String),
    DeleteSession(String),
    ListSessionSources(String),
    AddSessionSource(String),
    RemoveSessionSource(String, String),
    ListSessionRecordings(String),
    StartRecording(String),
    ListSessionAssets(String),
    SessionThumbnail(String),
    ListRecordings,
    GetRecording(String),
    ChangeRecording(String),
    StopRecording(String),
    ListAssets,
    GetAsset(String),
    UpdateAsset(String),
    DeleteAsset(String),
    DownloadAsset(String),
    ListEvents,
    /// A seed path outside the subset: a GET gets this answer.
    Absent(HmpError),
    /// A write the seed defines outside the subset: 501.
    NotImplemented,
}

impl Action {
    /// Whether the request writes (anything but a GET).
    pub fn writes(&self) -> bool {
        !matches!(
            self,
            Action::LoginInfo
                | Action::Version
                | Action::ListUsers
                | Action::ListSources
                | Action::GetSource(_)
                | Action::SourceThumbnail(_)
                | Action::ListSessions
                | Action::GetSession(_)
                | Action::ListSessionSources(_)
                | Action::ListSessionRecordings(_)
                | Action::ListSessionAssets(_)
                | Action::SessionThumbnail(_)
                | Action::ListRecordings
                | Action::GetRecording(_)
                | Action::ListAssets
                | Action::GetAsset(_)
                | Action::DownloadAsset(_)
                | Action::ListEvents
                | Action::Absent(_)
        )
    }
}

/// Routes `method` on `path` (which starts `/apis/`).
pub fn route(method: &str, path: &str) -> Result<Action, HmpError> {
    let rest = path
        .strip_prefix("/apis/")
        .ok_or_else(HmpError::not_found)?;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (methods, pick) = table(&segments).ok_or_else(HmpError::not_found)?;
    if !methods.contains(&method) {
        return Err(HmpError::method_not_allowed(&methods.join(", ")));
    }
    Ok(pick(method))
}

const GET: &[&str] = &["GET"];
const GET_PUT_DELETE: &[&str] = &["GET", "PUT", "DELETE"];
const GET_POST: &[&str] = &["GET", "POST"];
const GET_POST_DELETE: &[&str] = &["GET", "POST", "DELETE"];
const GET_PUT: &[&str] = &["GET", "PUT"];
const POST: &[&str] = &["POST"];
const DELETE: &[&str] = &["DELETE"];

type Pick = Box<dyn FnOnce(&str) -> Action>;

fn by_method(get: Action, post: Action, put: Action, delete: Action) -> Pick {
    Box::new(move |m| match m {
        "GET" => get,
        "POST" => post,
        "PUT" => put,
        _ => delete,
    })
}

/// A seed path outside the subset: GET answers `absent`, writes 501.
fn tier_c(absent: HmpError) -> Pick {
    Box::new(move |m| match m {
        "GET" => Action::Absent(absent),
        _ => Action::NotImplemented,
    })
}

fn one(action: Action) -> Pick {
    Box::new(move |_| action)
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// The methods the seed defines on the path, and the action per method.
fn table(segments: &[&str]) -> Option<(&'static [&'static str], Pick)> {
    use Action as A;
    let none = || A::NotImplemented;
    Some(match segments {
        ["authentication", "login"] => (
            GET_POST_DELETE,
            by_method(A::LoginInfo, A::Login, none(), A::Logout),
        ),
        ["system", "version"] => (GET, one(A::Version)),
        ["users", "enabled"] => (GET, one(A::ListUsers)),
        ["groups", "enabled"] => (GET, tier_c(HmpError::no_results())),
        ["sources"] => (GET_POST, by_method(A::ListSources, none(), none(), none())),
        ["sources", id] => (
            GET_PUT_DELETE,
            by_method(A::GetSource(s(id)), none(), none(), none()),
        ),
        ["sources", id, "thumbnail"] => (GET, one(A::SourceThumbnail(s(id)))),
        ["sources", _, "metadata"] => (GET_PUT_DELETE, tier_c(HmpError::no_results())),
        ["sources", _, "shares"] => (GET_POST, tier_c(HmpError::no_results())),
        ["sources", _, "shares", _] => (GET_PUT_DELETE, tier_c(HmpError::share_not_found())),
        ["sessions"] => (
            GET_POST,
            by_method(A::ListSessions, A::CreateSession, none(), none()),
        ),
        ["sessions", id] => (
            GET_PUT_DELETE,
            by_method(
                A::GetSession(s(id)),
                none(),
                A::UpdateSession(s(id)),
                A::DeleteSession(s(id)),
            ),
        ),
        ["sessions", id, "sources"] => (
            GET_POST,
            by_method(
                A::ListSessionSources(s(id)),
                A::AddSessionSource(s(id)),
                none(),
                none(),
            ),
        ),
        ["sessions", id, "sources", source] => {
            (DELETE, one(A::RemoveSessionSource(s(id), s(source))))
        }
        ["sessions", id, "recordings"] => (
            GET_POST,
            by_method(
                A::ListSessionRecordings(s(id)),
                A::StartRecording(s(id)),
                none(),
                none(),
            ),
        ),
        ["sessions", id, "assets"] => (GET, one(A::ListSessionAssets(s(id)))),
        ["sessions", id, "thumbnail"] => (GET, one(A::SessionThumbnail(s(id)))),
        ["sessions", _, "metadata"] => (GET_PUT_DELETE, tier_c(HmpError::no_results())),
        ["sessions", _, "shares"] => (GET_POST, tier_c(HmpError::no_results())),
        ["sessions", _, "shares", _] => (GET_PUT_DELETE, tier_c(HmpError::share_not_found())),
        ["sessions", _, "publicshare"] => (
            GET_POST_DELETE,
            tier_c(HmpError::share_permission_not_found()),
        ),
        ["sessions", _, "events"] => (GET_POST, tier_c(HmpError::no_results())),
        ["sessions", _, "events", _] => (GET_PUT, tier_c(HmpError::no_results())),
        ["recordings"] => (GET, one(A::ListRecordings)),
        ["recordings", id] => (
            GET_PUT_DELETE,
            by_method(
                A::GetRecording(s(id)),
                none(),
                A::ChangeRecording(s(id)),
                A::StopRecording(s(id)),
            ),
        ),
        ["recordings", _, "hotmarks"] => (POST, one(A::NotImplemented)),
        ["categories"] => (GET, tier_c(HmpError::no_results())),
        ["categories", _] => (GET, tier_c(HmpError::category_not_found())),
        ["assets"] => (GET, one(A::ListAssets)),
        ["assets", id] => (
            GET_PUT_DELETE,
            by_method(
                A::GetAsset(s(id)),
                none(),
                A::UpdateAsset(s(id)),
                A::DeleteAsset(s(id)),
            ),
        ),
        ["assets", id, "download"] => (GET, one(A::DownloadAsset(s(id)))),
        ["assets", _, "related"] => (GET, tier_c(HmpError::no_results())),
        ["assets", _, "metadata"] => (GET_PUT_DELETE, tier_c(HmpError::no_results())),
        ["assets", _, "shares"] => (GET_POST, tier_c(HmpError::no_results())),
        ["assets", _, "shares", _] => (GET_PUT_DELETE, tier_c(HmpError::share_not_found())),
        ["assets", _, "hotmarks"] => (GET_POST, tier_c(HmpError::no_results())),
        ["assets", _, "hotmarks", _] => (GET_PUT_DELETE, tier_c(HmpError::hotmark_not_found())),
        ["assets", _, "streams"] => (GET_POST, tier_c(HmpError::no_results())),
        ["assets", _, "streams", _] => (&["GET", "DELETE"], tier_c(HmpError::stream_not_found())),
        ["assets", _, "thumbnail"] => (
            GET_PUT,
            tier_c(HmpError::thumbnail_not_found(
                "this appliance keeps no pictures of its recordings",
            )),
        ),
        ["assets", _, "tracks", _, "thumbnail"] => (
            GET,
            tier_c(HmpError::thumbnail_not_found(
                "this appliance keeps no pictures of its recordings",
            )),
        ),
        ["assets", _, "publicshare"] => (
            GET_POST_DELETE,
            tier_c(HmpError::share_permission_not_found()),
        ),
        ["streams"] => (GET, tier_c(HmpError::no_results())),
        ["streams", _] => (GET_PUT_DELETE, tier_c(HmpError::stream_not_found())),
        ["streams", _, "seek"] => (POST, one(A::NotImplemented)),
        ["events"] => (GET, one(A::ListEvents)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_routes_to_its_actions() {
        assert_eq!(
            route("POST", "/apis/authentication/login"),
            Ok(Action::Login)
        );
        assert_eq!(
            route("DELETE", "/apis/authentication/login"),
            Ok(Action::Logout)
        );
        assert_eq!(
            route("PUT", "/apis/recordings/abc/"),
            Ok(Action::ChangeRecording("abc".into()))
        );
        assert_eq!(
            route("DELETE", "/apis/sessions/a/sources/b"),
            Ok(Action::RemoveSessionSource("a".into(), "b".into()))
        );
        assert_eq!(
            route("GET", "/apis/assets/x/download"),
            Ok(Action::DownloadAsset("x".into()))
        );
    }

    #[test]
    fn seed_paths_outside_the_subset_answer_as_absent_or_not_implemented() {
        assert_eq!(
            route("GET", "/apis/categories"),
            Ok(Action::Absent(HmpError::no_results()))
        );
        assert_eq!(
            route("GET", "/apis/streams/u"),
            Ok(Action::Absent(HmpError::stream_not_found()))
        );
        assert_eq!(
            route("DELETE", "/apis/streams/u"),
            Ok(Action::NotImplemented)
        );
        assert_eq!(route("POST", "/apis/sources"), Ok(Action::NotImplemented));
        assert_eq!(
            route("POST", "/apis/recordings/r/hotmarks"),
            Ok(Action::NotImplemented)
        );
    }

    #[test]
    fn a_method_the_seed_does_not_define_is_405_with_the_allowed_ones() {
        let e = route("PATCH", "/apis/sessions").unwrap_err();
        assert_eq!((e.status, e.code), (405, "050000"));
        assert_eq!(e.allow.as_deref(), Some("GET, POST"));
        assert_eq!(route("DELETE", "/apis/recordings").unwrap_err().status, 405);
    }

    #[test]
    fn paths_outside_the_seed_are_not_found() {
        for path in [
            "/apis/nothing",
            "/apis/",
            "/apis/sources/a/b/c/d",
            "/apis//sources",
        ] {
            let e = route("GET", path).unwrap_err();
            assert_eq!((e.status, e.code), (404, "040000"), "{path}");
        }
    }

    #[test]
    fn reads_do_not_write() {
        assert!(!route("GET", "/apis/sources").unwrap().writes());
        assert!(route("POST", "/apis/sessions/x/recordings")
            .unwrap()
            .writes());
        assert!(route("DELETE", "/apis/streams/x").unwrap().writes());
    }
}
