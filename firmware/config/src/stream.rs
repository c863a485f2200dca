//! Streams: an input, a transcoder and outputs wired together.

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::invalid::{required, Invalid};
use crate::text::{DESCRIPTION, NAME};

/// The most outputs one stream sends to (passthru aside). Every output
/// gets its own copy of the transport stream, so a list this long is
/// already a lot of sockets for one encoder.
pub const MAX_STREAM_OUTPUTS: usize = 32;

/// How the input reaches the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StreamMode {
    /// Decode and re-encode with the stream's transcoder.
    #[default]
    Transcoder,
    /// Transcode, and also copy the input as is to the passthru output.
    Passthru,
    /// Copy the input as is to the outputs; no transcoder.
    Bypass,
}

/// A stream as requested, with references already reduced to ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub auto_start: Option<bool>,
    pub mode: Option<StreamMode>,
    pub input: Option<Id>,
    pub transcoder: Option<Id>,
    pub outputs: Vec<Id>,
    pub passthru: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConfig {
    pub name: String,
    pub description: Option<String>,
    pub auto_start: bool,
    pub mode: StreamMode,
    pub input: Id,
    pub transcoder: Option<Id>,
    pub outputs: Vec<Id>,
    pub passthru: Option<Id>,
}

impl StreamConfig {
    /// Every output the stream sends to, passthru included.
    pub fn all_outputs(&self) -> impl Iterator<Item = &Id> {
        self.outputs.iter().chain(self.passthru.as_ref())
    }
}

impl StreamRequest {
    /// Checks the shape of the stream. Whether the referenced resources
    /// exist is the supervisor's business.
    pub fn validate(self) -> Result<StreamConfig, Invalid> {
        let name = NAME.required(self.name)?;
        let input = required(self.input, "input")?;
        // A passthru link without a mode can only mean passthru mode.
        let mode = match (self.mode, &self.passthru) {
            (Some(mode), _) => mode,
            (None, Some(_)) => StreamMode::Passthru,
            (None, None) => StreamMode::Transcoder,
        };
        let transcoder = match mode {
            StreamMode::Bypass if self.transcoder.is_some() => {
                return Err(Invalid::NotAllowed {
                    field: "transcoder",
                    reason: "in bypass mode".into(),
                })
            }
            StreamMode::Bypass => None,
            _ => Some(required(self.transcoder, "transcoder")?),
        };
        let passthru = match mode {
            StreamMode::Passthru => Some(required(self.passthru, "passthru")?),
            _ if self.passthru.is_some() => {
                return Err(Invalid::NotAllowed {
                    field: "passthru",
                    reason: "unless mode is passthru".into(),
                })
            }
            _ => None,
        };
        if self.outputs.is_empty() {
            return Err(Invalid::Missing { field: "outputs" });
        }
        if self.outputs.len() > MAX_STREAM_OUTPUTS {
            return Err(Invalid::bad(
                "outputs",
                format!(
                    "{} outputs listed; a stream sends to at most {MAX_STREAM_OUTPUTS}",
                    self.outputs.len()
                ),
            ));
        }
        check_distinct(&self.outputs, passthru.as_ref())?;
        Ok(StreamConfig {
            name,
            description: DESCRIPTION.check(self.description)?,
            auto_start: self.auto_start.unwrap_or(false),
            mode,
            input,
            transcoder,
            outputs: self.outputs,
            passthru,
        })
    }
}

/// One output cannot take the same stream twice.
fn check_distinct(outputs: &[Id], passthru: Option<&Id>) -> Result<(), Invalid> {
    for (i, id) in outputs.iter().enumerate() {
        if outputs[..i].contains(id) {
            return Err(Invalid::bad(
                "outputs",
                format!("output {id} is listed twice"),
            ));
        }
        if passthru == Some(id) {
            return Err(Invalid::bad(
                "passthru",
                format!("output {id} is both a passthru and a transcoded output"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic() -> StreamRequest {
        StreamRequest {
            name: Some("Stream 124".into()),
            input: Some(Id::new_random()),
            transcoder: Some(Id::new_random()),
            outputs: vec![Id::new_random()],
            ..StreamRequest::default()
        }
    }

    #[test]
    fn transcoder_mode_by_default() {
        let c = basic().validate().unwrap();
        assert_eq!(c.mode, StreamMode::Transcoder);
        assert!(!c.auto_start);
    }

    #[test]
    fn required_parts() {
        for (field, r) in [
            (
                "name",
                StreamRequest {
                    name: None,
                    ..basic()
                },
            ),
            (
                "input",
                StreamRequest {
                    input: None,
                    ..basic()
                },
            ),
            (
                "transcoder",
                StreamRequest {
                    transcoder: None,
                    ..basic()
                },
            ),
            (
                "outputs",
                StreamRequest {
                    outputs: vec![],
                    ..basic()
                },
            ),
        ] {
            assert_eq!(r.validate().unwrap_err(), Invalid::Missing { field });
        }
    }

    #[test]
    fn passthru_link_implies_passthru_mode() {
        let r = StreamRequest {
            passthru: Some(Id::new_random()),
            ..basic()
        };
        assert_eq!(r.validate().unwrap().mode, StreamMode::Passthru);
        let r = StreamRequest {
            mode: Some(StreamMode::Passthru),
            ..basic()
        };
        assert_eq!(r.validate().unwrap_err().field(), "passthru");
    }

    #[test]
    fn bypass_has_no_transcoder() {
        let r = StreamRequest {
            mode: Some(StreamMode::Bypass),
            ..basic()
        };
        assert_eq!(r.validate().unwrap_err().field(), "transcoder");
        let r = StreamRequest {
            mode: Some(StreamMode::Bypass),
            transcoder: None,
            ..basic()
        };
        assert!(r.validate().unwrap().transcoder.is_none());
    }

    #[test]
    fn outputs_are_distinct() {
        let out = Id::new_random();
        let r = StreamRequest {
            outputs: vec![out.clone(), out.clone()],
            ..basic()
        };
        assert_eq!(r.validate().unwrap_err().field(), "outputs");
        let r = StreamRequest {
            outputs: vec![out.clone()],
            passthru: Some(out),
            ..basic()
        };
        assert_eq!(r.validate().unwrap_err().field(), "passthru");
    }

    #[test]
    fn name_description_and_outputs_are_bounded() {
        let r = StreamRequest {
            name: Some("x".repeat(129)),
            ..basic()
        };
        assert_eq!(r.validate().unwrap_err().field(), "name");
        let r = StreamRequest {
            description: Some("x".repeat(513)),
            ..basic()
        };
        assert_eq!(r.validate().unwrap_err().field(), "description");
        let outputs = |n| (0..n).map(|_| Id::new_random()).collect::<Vec<_>>();
        let r = StreamRequest {
            outputs: outputs(MAX_STREAM_OUTPUTS + 1),
            ..basic()
        };
        assert_eq!(
            r.validate().unwrap_err().to_string(),
            "outputs: 33 outputs listed; a stream sends to at most 32"
        );
        let r = StreamRequest {
            name: Some("x".repeat(128)),
            description: Some("x".repeat(512)),
            outputs: outputs(MAX_STREAM_OUTPUTS),
            ..basic()
        };
        assert!(r.validate().is_ok());
    }
}
