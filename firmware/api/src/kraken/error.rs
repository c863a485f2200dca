//! Kraken error codes and the one mapping from failures to HTTP answers.

use makara_config::Invalid;
use makara_supervisor::{
    CommandError, CreateError, DeleteError, Kind, LimitError, LookupError, StartError, StopError,
    UpdateError,
};

use crate::body::BodyError;
use crate::guard::Refusal;
use crate::oauth::OAuthError;
use crate::xml::XmlWriter;

/// The error codes of the contract's table, with their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    CreateFailed = 1000,
    NoResults = 1001,
    UnknownId = 1002,
    Internal = 1003,
    UpdateFailed = 1004,
    DeleteFailed = 1005,
    UnknownFunction = 1006,
    UnknownMethod = 1007,
    BadUri = 1008,
    MethodNotImplemented = 1009,
    NotImplemented = 1010,
    BadXml = 1011,
    ExecutionFailed = 1012,
    BadArguments = 1013,
    NotAuthorized = 1014,
    ApiDisabled = 1015,
    Unavailable = 1016,
}

impl Code {
    /// The contract's message for the code, word for word.
    pub fn message(self) -> &'static str {
        match self {
            Code::CreateFailed => "Failed to create new resource",
            Code::NoResults => "No results found",
            Code::UnknownId => "Unknown id",
            Code::Internal => "Error executing SQL query",
            Code::UpdateFailed => "Failed to update resource",
            Code::DeleteFailed => "Failed to delete resource",
            Code::UnknownFunction => "Unknown API function requested",
            Code::UnknownMethod => "Unknown HTTP method",
            Code::BadUri => "Unrecognized URI structure",
            Code::MethodNotImplemented => "HTTP method not implemented",
            Code::NotImplemented => "Function not implemented",
            Code::BadXml => "Input XML data is poorly formatted",
            Code::ExecutionFailed => "Error while executing",
            Code::BadArguments => "Unrecognized arguments",
            Code::NotAuthorized => "Not Authorized",
            Code::ApiDisabled => "API functions not enabled",
            Code::Unavailable => "Service provider for this API is unavailable",
        }
    }

    /// The HTTP status. Where the contract says "500 Bad Request" for a
    /// client mistake (1000, 1004, 1005) the answer is 400.
    pub fn status(self) -> u16 {
        match self {
            Code::CreateFailed | Code::UpdateFailed | Code::DeleteFailed => 400,
            Code::UnknownMethod | Code::BadUri | Code::BadXml | Code::BadArguments => 400,
            Code::NoResults | Code::UnknownId => 404,
            Code::Internal | Code::ExecutionFailed => 500,
            Code::UnknownFunction | Code::MethodNotImplemented | Code::NotImplemented => 501,
            Code::NotAuthorized => 401,
            Code::ApiDisabled => 403,
            Code::Unavailable => 503,
        }
    }
}

/// An error answer: a code, and what went wrong beyond the code's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub detail: Option<String>,
    /// An HTTP status other than the code's own, for answers HTTP itself
    /// names (408, 413, 414, 415, 429, 431): the body still carries the
    /// Kraken code that says the most to a client.
    status: Option<u16>,
    /// Seconds a client should wait before trying again (`Retry-After`),
    /// for 429 and 503 answers.
    retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code) -> ApiError {
        ApiError {
            code,
            detail: None,
            status: None,
            retry_after_secs: None,
        }
    }

    pub fn with(code: Code, detail: impl ToString) -> ApiError {
        ApiError {
            code,
            detail: Some(detail.to_string()),
            status: None,
            retry_after_secs: None,
        }
    }

    /// The same error answered with an HTTP-level `status` instead of the
    /// code's own.
    pub fn with_status(mut self, status: u16) -> ApiError {
        self.status = Some(status);
        self
    }

    /// The same error telling the client to wait `secs` before retrying.
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after_secs = Some(secs);
        self
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// The `Retry-After` seconds, if the answer has one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// An invalid body on create (`creating`) or on edit.
    pub fn invalid(creating: bool, e: &Invalid) -> ApiError {
        let code = if creating {
            Code::CreateFailed
        } else {
            Code::UpdateFailed
        };
        ApiError::with(code, e)
    }

    /// The message: the contract's, then the detail after a colon.
    pub fn message(&self) -> String {
        match &self.detail {
            Some(d) => format!("{}: {d}", self.code.message()),
            None => self.code.message().to_string(),
        }
    }

    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("response").open("error");
        w.text("code", self.code as u16);
        w.text("message", self.message());
        w.finish()
    }
}

impl From<CommandError> for ApiError {
    /// The one place where supervisor failures become Kraken codes.
    fn from(e: CommandError) -> ApiError {
        let detail = kraken_detail(&e);
        let code = match e {
            CommandError::Lookup(LookupError::NotFound { .. }) => Code::UnknownId,
            CommandError::Create(CreateError::Storage(_))
            | CommandError::Update(UpdateError::Storage(_))
            | CommandError::Delete(DeleteError::Storage(_))
            | CommandError::Start(StartError::Storage(_))
            | CommandError::Stop(StopError::Storage(_)) => {
                tracing::error!(error = %detail, "configuration store failure");
                return ApiError::with(
                    Code::Internal,
                    "the configuration could not be saved; nothing was changed",
                );
            }
            CommandError::Create(_) => Code::CreateFailed,
            CommandError::Update(UpdateError::NotFound { .. })
            | CommandError::Delete(DeleteError::NotFound { .. })
            | CommandError::Start(StartError::NotFound(_))
            | CommandError::Stop(StopError::NotFound(_)) => Code::UnknownId,
            CommandError::Update(_) => Code::UpdateFailed,
            CommandError::Delete(_) => Code::DeleteFailed,
            CommandError::Start(StartError::EngineUnavailable(why)) => {
                return ApiError::with(Code::Unavailable, why);
            }
            // A stream past the board's count running at once: the
            // client's request, refused as an update of the stream.
            CommandError::Start(StartError::Dangling { .. } | StartError::TooMany { .. }) => {
                Code::UpdateFailed
            }
            CommandError::Start(StartError::Engine(_)) => Code::ExecutionFailed,
            CommandError::Panicked => return ApiError::new(Code::ExecutionFailed),
            CommandError::Gone => {
                tracing::error!("the supervisor has stopped");
                return ApiError::new(Code::ExecutionFailed);
            }
            // Groups, sources, recordings and events are the HMP API's;
            // no Kraken route sends those commands.
            other => {
                tracing::error!(error = %other, "a Kraken request got an HMP command's error");
                Code::ExecutionFailed
            }
        };
        // Lookups need no detail beyond "Unknown id".
        if code == Code::UnknownId {
            return ApiError::new(code);
        }
        ApiError::with(code, detail)
    }
}

impl From<OAuthError> for ApiError {
    /// The contract answers every authorisation failure with 1014 and 401
    /// (where RFC 5849 would say 400 for a malformed request), naming the
    /// problem; the messages never contain a secret.
    fn from(e: OAuthError) -> ApiError {
        ApiError::with(Code::NotAuthorized, e)
    }
}

impl From<Refusal> for ApiError {
    /// Too many failed authorisations: 429, still 1014 in the body.
    fn from(r: Refusal) -> ApiError {
        ApiError::with(Code::NotAuthorized, r)
            .with_status(429)
            .with_retry_after(r.retry_after_secs())
    }
}

impl From<BodyError> for ApiError {
    /// Body problems: the body is the XML input, hence 1011, under the
    /// status HTTP has for each; a full budget is ours, hence 503/1016.
    fn from(e: BodyError) -> ApiError {
        let status = match &e {
            BodyError::NotXml(_) => 415,
            BodyError::TooLarge { .. } => 413,
            BodyError::TooSlow(_) => 408,
            BodyError::CutOff(_) => 400,
            BodyError::Busy => return ApiError::with(Code::Unavailable, e).with_retry_after(1),
        };
        ApiError::with(Code::BadXml, e).with_status(status)
    }
}

/// What went wrong, in the contract's words: the supervisor says "preset"
/// and knows nothing of XML; a client sent a `<configuration>` with
/// `<activate>` and `<default>`. The other messages name inputs, outputs,
/// transcoders and streams, whose names are the same in both (a preset is
/// only named in "not found", which is answered without detail).
fn kraken_detail(e: &CommandError) -> String {
    match e {
        CommandError::Update(UpdateError::NothingToDo) => {
            "nothing to do: give <activate>1</activate> and/or <default>0|1</default>".into()
        }
        CommandError::Create(CreateError::DuplicateName(name)) => {
            format!("name: a configuration named '{name}' already exists")
        }
        CommandError::Create(CreateError::Limit(limit))
        | CommandError::Update(UpdateError::Limit(limit)) => limit_detail(limit),
        other => other.to_string(),
    }
}

/// The limits of the whole configuration, with presets called
/// configurations.
fn limit_detail(limit: &LimitError) -> String {
    match limit {
        LimitError::TooMany {
            kind: Kind::Preset,
            max,
        } => format!("configurations: at most {max} configurations are kept; delete one first"),
        LimitError::TooLarge { size, max } => format!(
            "the saved settings, configurations included, would take {size} bytes, more than their limit of {max} bytes; delete unused resources or configurations first"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use makara_config::Id;
    use makara_supervisor::Kind;

    use super::*;
    use crate::kraken::words::element;

    #[test]
    fn every_code_has_status_and_message() {
        let codes = [
            (Code::CreateFailed, 400),
            (Code::NoResults, 404),
            (Code::UnknownId, 404),
            (Code::Internal, 500),
            (Code::UpdateFailed, 400),
            (Code::DeleteFailed, 400),
            (Code::UnknownFunction, 501),
            (Code::UnknownMethod, 400),
            (Code::BadUri, 400),
            (Code::MethodNotImplemented, 501),
            (Code::NotImplemented, 501),
            (Code::BadXml, 400),
            (Code::ExecutionFailed, 500),
            (Code::BadArguments, 400),
            (Code::NotAuthorized, 401),
            (Code::ApiDisabled, 403),
            (Code::Unavailable, 503),
        ];
        for (i, (code, status)) in codes.into_iter().enumerate() {
            assert_eq!(code as u16, 1000 + i as u16);
            assert_eq!(code.status(), status, "{code:?}");
            assert!(!code.message().is_empty());
        }
    }

    #[test]
    fn error_document_shape() {
        let xml = ApiError::new(Code::BadXml).to_xml();
        assert!(xml.contains("<response>\n  <error>\n    <code>1011</code>\n    <message>Input XML data is poorly formatted</message>\n  </error>\n</response>"));
    }

    #[test]
    fn preset_failures_speak_of_configurations_and_their_elements() {
        let nothing = ApiError::from(CommandError::Update(UpdateError::NothingToDo));
        assert_eq!(nothing.code, Code::UpdateFailed);
        assert_eq!(
            nothing.message(),
            "Failed to update resource: nothing to do: give <activate>1</activate> and/or <default>0|1</default>"
        );
        let duplicate = CreateError::DuplicateName("Evening".into());
        assert_eq!(
            ApiError::from(CommandError::Create(duplicate)).message(),
            "Failed to create new resource: name: a configuration named 'Evening' already exists"
        );
        let missing = UpdateError::NotFound {
            kind: Kind::Preset,
            id: Id::new_random(),
        };
        assert_eq!(
            ApiError::from(CommandError::Update(missing)),
            ApiError::new(Code::UnknownId)
        );
    }

    /// Details carry the supervisor's noun for these kinds as they are.
    #[test]
    fn the_kinds_named_in_details_have_the_same_name_in_kraken() {
        for kind in [Kind::Input, Kind::Output, Kind::Transcoder, Kind::Stream] {
            assert_eq!(kind.to_string(), element(kind));
        }
        let id = Id::new_random();
        let in_use = DeleteError::InUse {
            kind: Kind::Output,
            id: id.clone(),
            stream: "News".into(),
        };
        assert_eq!(
            ApiError::from(CommandError::Delete(in_use)).message(),
            format!("Failed to delete resource: output {id} is used by stream 'News'; edit or delete the stream first")
        );
    }

    #[test]
    fn refusals_and_body_errors_keep_kraken_codes_under_http_statuses() {
        use std::time::Duration;

        use crate::guard::Subject;

        let refusal = ApiError::from(Refusal {
            subject: Subject::Key,
            retry_after: Duration::from_millis(2500),
        });
        assert_eq!((refusal.code, refusal.status()), (Code::NotAuthorized, 429));
        assert_eq!(refusal.retry_after_secs(), Some(3));
        let cases = [
            (BodyError::NotXml(None), Code::BadXml, 415),
            (BodyError::TooLarge { limit: 1 }, Code::BadXml, 413),
            (
                BodyError::TooSlow(Duration::from_secs(1)),
                Code::BadXml,
                408,
            ),
            (BodyError::CutOff("reset".into()), Code::BadXml, 400),
            (BodyError::Busy, Code::Unavailable, 503),
        ];
        for (e, code, status) in cases {
            let text = e.to_string();
            let api = ApiError::from(e);
            assert_eq!((api.code, api.status()), (code, status), "{text}");
            assert!(api.message().ends_with(&text), "{}", api.message());
        }
        let oauth = ApiError::from(OAuthError::BadSignature);
        assert_eq!((oauth.code, oauth.status()), (Code::NotAuthorized, 401));
    }

    /// Issue 8: the limits of the whole configuration answer 1000 on create
    /// and 1004 on edit, naming what is limited and the limit.
    #[test]
    fn configuration_limits_name_the_limit() {
        let many = CreateError::Limit(LimitError::TooMany {
            kind: Kind::Input,
            max: 64,
        });
        let e = ApiError::from(CommandError::Create(many));
        assert_eq!((e.code, e.status()), (Code::CreateFailed, 400));
        assert_eq!(
            e.message(),
            "Failed to create new resource: inputs: at most 64 inputs are kept; delete one first"
        );
        let presets = CreateError::Limit(LimitError::TooMany {
            kind: Kind::Preset,
            max: 32,
        });
        assert_eq!(
            ApiError::from(CommandError::Create(presets)).message(),
            "Failed to create new resource: configurations: at most 32 configurations are kept; delete one first"
        );
        let large = UpdateError::Limit(LimitError::TooLarge {
            size: 2_100_000,
            max: 2_097_152,
        });
        let e = ApiError::from(CommandError::Update(large));
        assert_eq!((e.code, e.status()), (Code::UpdateFailed, 400));
        assert!(e
            .message()
            .contains("would take 2100000 bytes, more than their limit of 2097152 bytes"));
    }

    /// The board's limits (issue 13): a picture larger than the board's
    /// is a failed create or update, a start past the streams it runs at
    /// once a failed update.
    #[test]
    fn board_limits_are_failed_creates_and_updates() {
        let picture = LimitError::Picture {
            kind: Kind::Transcoder,
            name: "UHD".into(),
            width: 3840,
            height: 2160,
            max_width: 1920,
            max_height: 1080,
        };
        let e = ApiError::from(CommandError::Create(CreateError::Limit(picture.clone())));
        assert_eq!((e.code, e.status()), (Code::CreateFailed, 400));
        assert_eq!(
            e.message(),
            "Failed to create new resource: transcoder 'UHD': 3840x2160 is larger than this board's largest picture, 1920x1080"
        );
        let e = ApiError::from(CommandError::Update(UpdateError::Limit(picture)));
        assert_eq!((e.code, e.status()), (Code::UpdateFailed, 400));
        let e = ApiError::from(CommandError::Start(StartError::TooMany { max: 2 }));
        assert_eq!((e.code, e.status()), (Code::UpdateFailed, 400));
        assert_eq!(
            e.message(),
            "Failed to update resource: at most 2 streams run at once on this board; stop one first"
        );
    }

    #[test]
    fn validation_detail_follows_the_message() {
        let e = Invalid::OutOfRange {
            field: "videoBitrate",
            value: 20000,
            min: 150,
            max: 15000,
        };
        assert_eq!(
            ApiError::invalid(true, &e).message(),
            "Failed to create new resource: videoBitrate 20000 is out of range (150-15000)"
        );
    }
}
