//! HMP's error document and every code this appliance answers with.
//!
//! The body is `{"code", "name", "message", "httpStatusCode",
//! "statusCode"}`: the seed's examples use both status keys, so both are
//! sent, with the same number. Where the seed gives a code for a case, that
//! code, name and message are used as printed (hmp.md DEC-2); the codes
//! marked "ours" fill a family the seed names without a concrete code.

use std::time::Duration;

use serde_json::{json, Value};

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmpError {
    pub status: u16,
    pub code: &'static str,
    pub name: &'static str,
    pub message: String,
    /// The methods a path takes, for a 405.
    pub allow: Option<String>,
    /// For a locked login: when to try again.
    pub retry_after: Option<Duration>,
}

impl HmpError {
    fn new(
        status: u16,
        code: &'static str,
        name: &'static str,
        message: impl Into<String>,
    ) -> Self {
        HmpError {
            status,
            code,
            name,
            message: message.into(),
            allow: None,
            retry_after: None,
        }
    }

    /// The JSON document.
    pub fn document(&self) -> Value {
        json!({
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "httpStatusCode": self.status,
            "statusCode": self.status,
        })
    }

    /// 400 010001: a body or query that breaks a rule; `message` names the
    /// field and what it must be.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(400, "010001", "InputValidation", message)
    }

    /// 400 010002: `filter` (the appliance has no categories to filter on).
    pub fn invalid_filter(message: impl Into<String>) -> Self {
        Self::new(400, "010002", "InvalidFilter", message)
    }

    /// 401 020001: no session cookie, or one that is unknown or expired.
    pub fn not_authorized() -> Self {
        Self::new(401, "020001", "UserNotAuthorized", "User is not authorized")
    }

    /// 401 020002: unknown user or wrong password (deliberately the same).
    pub fn invalid_credentials() -> Self {
        Self::new(401, "020002", "InvalidCredentials", "Invalid credentials")
    }

    /// 403 030000 (ours): the user's role does not allow the request.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "030000", "Forbidden", message)
    }

    /// 403 030001 (ours): too many failed logins for the user or from the
    /// address; refused whatever the password.
    pub fn login_locked(retry_after: Duration) -> Self {
        let secs = retry_after.as_secs().max(1);
        let mut e = Self::new(
            403,
            "030001",
            "LoginLocked",
            format!(
                "Too many failed logins for this user or from this address; try again in {secs} s"
            ),
        );
        e.retry_after = Some(Duration::from_secs(secs));
        e
    }

    /// 403 030002 (ours): the API is switched off (`makarad api enable`).
    pub fn api_disabled() -> Self {
        Self::new(
            403,
            "030002",
            "ApiDisabled",
            "The API is switched off on this appliance (makarad api enable switches it on)",
        )
    }

    /// 404 040000: a path that is not part of the API.
    pub fn not_found() -> Self {
        Self::new(404, "040000", "NotFound", "Not Found Error")
    }

    pub fn recording_not_found() -> Self {
        Self::new(
            404,
            "040001",
            "RecordingNotFound",
            "Active recording not found",
        )
    }

    pub fn asset_not_found() -> Self {
        Self::new(404, "040002", "AssetNotFound", "Video not found")
    }

    /// 404 040002 with the session's name, as the session thumbnail route
    /// prints it.
    pub fn session_not_found_040002() -> Self {
        Self::new(404, "040002", "SessionNotFound", "Session not found")
    }

    pub fn stream_not_found() -> Self {
        Self::new(404, "040003", "StreamNotFound", "Stream not found")
    }

    pub fn session_not_found() -> Self {
        Self::new(404, "040006", "SessionNotFound", "Session not found")
    }

    pub fn category_not_found() -> Self {
        Self::new(404, "040007", "CategoryNotFound", "Category not found")
    }

    pub fn source_not_found() -> Self {
        Self::new(404, "040009", "SourceNotFound", "Source not found")
    }

    pub fn hotmark_not_found() -> Self {
        Self::new(404, "040010", "HotmarkNotFound", "HotMark not found")
    }

    pub fn thumbnail_not_found(why: impl std::fmt::Display) -> Self {
        Self::new(
            404,
            "040011",
            "ThumbnailNotFound",
            format!("Thumbnail not found: {why}"),
        )
    }

    pub fn no_results() -> Self {
        Self::new(404, "040012", "NoResults", "No results")
    }

    pub fn track_not_found() -> Self {
        Self::new(404, "040015", "TrackNotFound", "Track not found")
    }

    pub fn share_not_found() -> Self {
        Self::new(
            404,
            "040021",
            "UserGroupNotFound",
            "User or Group not found",
        )
    }

    pub fn auth_session_not_found() -> Self {
        Self::new(404, "040022", "AuthSessionNotFound", "Unknown session")
    }

    pub fn share_permission_not_found() -> Self {
        Self::new(
            404,
            "040025",
            "SharePermissionNotFound",
            "Share permission not found",
        )
    }

    /// 405 050000 (ours), with the methods the path takes.
    pub fn method_not_allowed(allow: &str) -> Self {
        let mut e = Self::new(
            405,
            "050000",
            "MethodNotAllowed",
            format!("This path takes {allow} only"),
        );
        e.allow = Some(allow.to_owned());
        e
    }

    pub fn recording_in_progress() -> Self {
        Self::new(
            409,
            "060003",
            "RecordingInProgress",
            "Recording currently in progress",
        )
    }

    pub fn session_source_exists() -> Self {
        Self::new(
            409,
            "060008",
            "SessionSourceAlreadyExists",
            "Source already added to this session",
        )
    }

    pub fn session_has_no_source() -> Self {
        Self::new(
            409,
            "060009",
            "SessionHasNoSource",
            "Session requires at least one source",
        )
    }

    pub fn being_recorded() -> Self {
        Self::new(
            409,
            "060019",
            "RecordingBeingProcessed",
            "Video currently being processed (it is still recording; stop it first)",
        )
    }

    /// 409 060000 (ours): a limit of the appliance, named in `message`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "060000", "Conflict", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "070000", "InternalServerError", message)
    }

    pub fn insufficient_space(message: impl Into<String>) -> Self {
        Self::new(500, "070027", "InsufficientSpace", message)
    }

    pub fn create_session(message: impl Into<String>) -> Self {
        Self::new(500, "070019", "CreateSession", message)
    }

    pub fn update_asset(message: impl Into<String>) -> Self {
        Self::new(500, "070017", "UpdateAsset", message)
    }

    pub fn create_user_session() -> Self {
        Self::new(
            500,
            "070051",
            "CreateUserSession",
            "Could not create user session",
        )
    }

    /// 501 080000 (ours): a seed endpoint this appliance does not do.
    pub fn not_implemented() -> Self {
        Self::new(
            501,
            "080000",
            "NotImplemented",
            "Not implemented on this device",
        )
    }

    /// 503 090000 (ours): busy for a moment, or a part of the appliance
    /// that is not working (named in `message`).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "090000", "ServiceUnavailable", message)
    }

    /// 416 (ours, in the input family): a `Range` wholly past the end of
    /// a file of `len` bytes.
    pub fn range_not_satisfiable(len: u64) -> Self {
        Self::new(
            416,
            "010007",
            "RangeNotSatisfiable",
            format!("The range asked for lies past the end of the file ({len} bytes)"),
        )
    }

    /// 414 (ours, in the input family): a URI longer than `max` bytes.
    pub fn uri_too_long(max: usize) -> Self {
        Self::new(
            414,
            "010008",
            "UriTooLong",
            format!("The URI is longer than {max} bytes"),
        )
    }

    /// 415 100000.
    pub fn unsupported_media_type(sent: Option<&str>) -> Self {
        let sent = sent.map_or("none".to_owned(), |t| format!("{t:?}"));
        Self::new(
            415,
            "100000",
            "UnsupportedMediaType",
            format!(
                "Unsupported Media Type: a request body must be JSON, sent as Content-Type application/json (this one's: {sent})"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_carries_both_status_keys_as_numbers() {
        assert_eq!(
            HmpError::no_results().document(),
            json!({"code": "040012", "name": "NoResults", "message": "No results",
                   "httpStatusCode": 404, "statusCode": 404})
        );
    }

    #[test]
    fn codes_sit_in_the_family_of_their_status() {
        let all = [
            HmpError::input("x"),
            HmpError::invalid_filter("x"),
            HmpError::not_authorized(),
            HmpError::invalid_credentials(),
            HmpError::forbidden("x"),
            HmpError::login_locked(Duration::from_secs(3)),
            HmpError::api_disabled(),
            HmpError::not_found(),
            HmpError::recording_not_found(),
            HmpError::asset_not_found(),
            HmpError::session_not_found(),
            HmpError::source_not_found(),
            HmpError::no_results(),
            HmpError::auth_session_not_found(),
            HmpError::method_not_allowed("GET"),
            HmpError::recording_in_progress(),
            HmpError::session_source_exists(),
            HmpError::session_has_no_source(),
            HmpError::being_recorded(),
            HmpError::conflict("x"),
            HmpError::internal("x"),
            HmpError::insufficient_space("x"),
            HmpError::not_implemented(),
            HmpError::unavailable("x"),
        ];
        for e in all {
            let family = match e.status {
                400 => "01",
                401 => "02",
                403 => "03",
                404 => "04",
                405 => "05",
                409 => "06",
                500 => "07",
                501 => "08",
                503 => "09",
                other => panic!("unexpected status {other}"),
            };
            assert!(e.code.starts_with(family), "{e:?}");
        }
        assert_eq!(HmpError::unsupported_media_type(None).code, "100000");
    }
}
