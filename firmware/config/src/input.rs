//! Inputs: where a stream's video comes from.

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, Scheme};
use crate::invalid::{required, Invalid};
use crate::range::Limits;
use crate::srt::{SrtConfig, SrtRequest};
use crate::text::{DESCRIPTION, INTERFACE, NAME, URL};

pub const CAPTURE_PORT: Limits = Limits::new("capturePort", 0, 63);
pub const CAPTURE_MODE: Limits = Limits::new("captureMode", -1, 1023);
pub const DECKLINK_PORT: Limits = Limits::new("decklinkPort", 0, 63);
pub const DECKLINK_MODE: Limits = Limits::new("decklinkMode", -1, 1023);
pub const PATTERN_WIDTH: Limits = Limits::new("width", 16, 3840);
pub const PATTERN_HEIGHT: Limits = Limits::new("height", 16, 2160);
pub const PATTERN_FRAME_RATE: Limits = Limits::new("frameRate", 1, 60);

/// The Kraken `streamType` of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputType {
    Mpeg2Ts,
    Srt,
    Decklink,
    V4l2,
    Rtsp,
    MjpegRaw,
    /// Makara's own generated colour bars and tone.
    TestPattern,
}

/// An input as requested; every field optional until validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub stream_type: Option<InputType>,
    /// NIC name; `None` or "Auto" means the routing table decides.
    pub interface: Option<String>,
    pub capture_port: Option<i64>,
    pub capture_mode: Option<i64>,
    pub decklink_port: Option<i64>,
    pub decklink_mode: Option<i64>,
    pub srt: SrtRequest,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub frame_rate: Option<i64>,
}

/// A validated input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputConfig {
    pub name: String,
    pub description: Option<String>,
    pub interface: Option<String>,
    pub kind: InputKind,
}

/// What the input reads, with the settings of that kind only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum InputKind {
    Mpeg2Ts {
        url: Endpoint,
    },
    Srt {
        url: Option<Endpoint>,
        srt: SrtConfig,
    },
    Decklink {
        port: u32,
        mode: i32,
    },
    V4l2 {
        port: u32,
        mode: i32,
    },
    Rtsp {
        url: Endpoint,
    },
    MjpegRaw {
        url: Endpoint,
    },
    TestPattern(TestPatternSettings),
}

/// Size and rate of the generated test pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestPatternSettings {
    pub width: u32,
    pub height: u32,
    pub frame_rate: u32,
}

impl TestPatternSettings {
    pub const DEFAULT: TestPatternSettings = TestPatternSettings {
        width: 1280,
        height: 720,
        frame_rate: 30,
    };
}

impl InputKind {
    pub fn input_type(&self) -> InputType {
        match self {
            InputKind::Mpeg2Ts { .. } => InputType::Mpeg2Ts,
            InputKind::Srt { .. } => InputType::Srt,
            InputKind::Decklink { .. } => InputType::Decklink,
            InputKind::V4l2 { .. } => InputType::V4l2,
            InputKind::Rtsp { .. } => InputType::Rtsp,
            InputKind::MjpegRaw { .. } => InputType::MjpegRaw,
            InputKind::TestPattern(_) => InputType::TestPattern,
        }
    }

    /// The URL, for the kinds that have one.
    pub fn url(&self) -> Option<&Endpoint> {
        match self {
            InputKind::Mpeg2Ts { url } | InputKind::Rtsp { url } | InputKind::MjpegRaw { url } => {
                Some(url)
            }
            InputKind::Srt { url, .. } => url.as_ref(),
            _ => None,
        }
    }
}

impl InputRequest {
    /// Applies defaults (`streamType` MPEG2TS) and the rules of each kind.
    pub fn validate(self) -> Result<InputConfig, Invalid> {
        let stream_type = self.stream_type.unwrap_or(InputType::Mpeg2Ts);
        let url = URL.check(self.url.clone())?;
        let kind = match stream_type {
            InputType::Mpeg2Ts => InputKind::Mpeg2Ts {
                url: parse_url(url, &[Scheme::Udp], true)?,
            },
            InputType::Rtsp => InputKind::Rtsp {
                url: parse_url(url, &[Scheme::Rtsp], false)?,
            },
            InputType::MjpegRaw => InputKind::MjpegRaw {
                url: parse_url(url, &[Scheme::Udp, Scheme::Http, Scheme::Https], false)?,
            },
            InputType::Srt => InputKind::Srt {
                url: url
                    .map(|u| Endpoint::parse("url", &u, &[Scheme::Srt], true))
                    .transpose()?,
                srt: self.srt.clone().validate_input()?,
            },
            InputType::V4l2 => {
                no_url(&url, "V4L2")?;
                InputKind::V4l2 {
                    port: CAPTURE_PORT.or_default(self.capture_port, 0)? as u32,
                    mode: CAPTURE_MODE.or_default(self.capture_mode, -1)? as i32,
                }
            }
            InputType::Decklink => {
                no_url(&url, "DECKLINK")?;
                InputKind::Decklink {
                    port: DECKLINK_PORT.or_default(self.decklink_port, 0)? as u32,
                    mode: DECKLINK_MODE.or_default(self.decklink_mode, -1)? as i32,
                }
            }
            InputType::TestPattern => {
                no_url(&url, "TESTPATTERN")?;
                InputKind::TestPattern(self.pattern()?)
            }
        };
        let name = NAME.check(self.name)?;
        let name = name.unwrap_or_else(|| NAME.truncate(default_name(&kind)));
        Ok(InputConfig {
            name,
            description: DESCRIPTION.check(self.description)?,
            interface: interface(self.interface)?,
            kind,
        })
    }

    fn pattern(&self) -> Result<TestPatternSettings, Invalid> {
        let d = TestPatternSettings::DEFAULT;
        let width = PATTERN_WIDTH.or_default(self.width, i64::from(d.width))?;
        let height = PATTERN_HEIGHT.or_default(self.height, i64::from(d.height))?;
        even("width", width)?;
        even("height", height)?;
        let frame_rate = PATTERN_FRAME_RATE.or_default(self.frame_rate, i64::from(d.frame_rate))?;
        Ok(TestPatternSettings {
            width: width as u32,
            height: height as u32,
            frame_rate: frame_rate as u32,
        })
    }
}

fn parse_url(
    url: Option<String>,
    allowed: &[Scheme],
    needs_port: bool,
) -> Result<Endpoint, Invalid> {
    let url = required(url, "url")?;
    Endpoint::parse("url", &url, allowed, needs_port)
}

fn no_url(url: &Option<String>, kind: &str) -> Result<(), Invalid> {
    match url {
        Some(_) => Err(Invalid::NotAllowed {
            field: "url",
            reason: format!("for a {kind} input"),
        }),
        None => Ok(()),
    }
}

/// 4:2:0 video needs even dimensions.
pub(crate) fn even(field: &'static str, value: i64) -> Result<(), Invalid> {
    if value % 2 == 0 {
        Ok(())
    } else {
        Err(Invalid::bad(field, format!("{value} must be even")))
    }
}

/// "Auto" (any case) or nothing lets the routing table choose the NIC.
pub(crate) fn interface(value: Option<String>) -> Result<Option<String>, Invalid> {
    let nic = INTERFACE.check(value)?;
    Ok(nic.filter(|v| !v.eq_ignore_ascii_case("auto")))
}

fn default_name(kind: &InputKind) -> String {
    match kind.url() {
        Some(url) => url.as_str().to_string(),
        None => format!("{:?}", kind.input_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(url: &str) -> InputRequest {
        InputRequest {
            name: Some("in".into()),
            url: Some(url.into()),
            ..InputRequest::default()
        }
    }

    #[test]
    fn default_type_is_mpeg2ts_over_udp() {
        let c = udp("udp://239.207.1.3:9002").validate().unwrap();
        assert_eq!(c.kind.input_type(), InputType::Mpeg2Ts);
        assert_eq!(c.kind.url().unwrap().port(), Some(9002));
    }

    #[test]
    fn url_required_and_scheme_checked() {
        let r = InputRequest::default();
        assert_eq!(r.validate().unwrap_err(), Invalid::Missing { field: "url" });
        assert!(udp("rtsp://cam/live").validate().is_err());
        let r = InputRequest {
            stream_type: Some(InputType::Rtsp),
            ..udp("rtsp://cam/live")
        };
        assert!(r.validate().is_ok());
    }

    #[test]
    fn capture_card_defaults_and_ranges() {
        let r = InputRequest {
            stream_type: Some(InputType::V4l2),
            ..InputRequest::default()
        };
        let c = r.clone().validate().unwrap();
        assert_eq!(c.kind, InputKind::V4l2 { port: 0, mode: -1 });
        let r = InputRequest {
            capture_mode: Some(-2),
            ..r
        };
        assert_eq!(r.validate().unwrap_err().field(), "captureMode");
    }

    #[test]
    fn capture_inputs_take_no_url() {
        let r = InputRequest {
            stream_type: Some(InputType::Decklink),
            url: Some("udp://1.2.3.4:5".into()),
            ..InputRequest::default()
        };
        assert_eq!(r.validate().unwrap_err().field(), "url");
    }

    #[test]
    fn test_pattern_defaults_and_limits() {
        let r = InputRequest {
            stream_type: Some(InputType::TestPattern),
            ..InputRequest::default()
        };
        let c = r.clone().validate().unwrap();
        assert_eq!(c.kind, InputKind::TestPattern(TestPatternSettings::DEFAULT));
        assert_eq!(c.name, "TestPattern");
        let big = InputRequest {
            width: Some(3842),
            ..r.clone()
        };
        assert_eq!(big.validate().unwrap_err().field(), "width");
        let odd = InputRequest {
            height: Some(721),
            ..r.clone()
        };
        assert_eq!(odd.validate().unwrap_err().field(), "height");
        let fast = InputRequest {
            frame_rate: Some(61),
            ..r
        };
        assert_eq!(fast.validate().unwrap_err().field(), "frameRate");
    }

    #[test]
    fn auto_interface_is_none() {
        let r = InputRequest {
            interface: Some("Auto".into()),
            ..udp("udp://1.2.3.4:5")
        };
        assert_eq!(r.validate().unwrap().interface, None);
    }

    /// Issue 8: every text field has a longest value.
    #[test]
    fn text_fields_are_bounded() {
        let long = |n: usize| Some("x".repeat(n));
        let cases = [
            (
                "name",
                128,
                InputRequest {
                    name: long(129),
                    ..udp("udp://1.2.3.4:5")
                },
            ),
            (
                "description",
                512,
                InputRequest {
                    description: long(513),
                    ..udp("udp://1.2.3.4:5")
                },
            ),
            (
                "interface",
                15,
                InputRequest {
                    interface: long(16),
                    ..udp("udp://1.2.3.4:5")
                },
            ),
            ("url", 1024, udp(&format!("udp://{}:5", "h".repeat(1024)))),
        ];
        crate::invalid::assert_each_too_long(
            cases
                .into_iter()
                .map(|(field, max, r)| (field, max, r.validate())),
        );
        let at_max = InputRequest {
            name: long(128),
            description: long(512),
            interface: long(15),
            ..udp(&format!("udp://{}:5", "h".repeat(1024 - 8)))
        };
        assert!(at_max.validate().is_ok());
    }

    /// A name made from a long URL is cut to the name's limit, so that the
    /// input can be sent back as it is shown.
    #[test]
    fn default_names_fit_the_name_limit() {
        let url = format!("udp://{}:5", "h".repeat(1000));
        let r = InputRequest {
            name: None,
            ..udp(&url)
        };
        let c = r.validate().unwrap();
        assert_eq!(c.name.chars().count(), 128);
        assert!(url.starts_with(&c.name));
    }
}
