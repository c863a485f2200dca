//! From a [`ProfileRequest`] to a [`BoardProfile`]: every field checked once,
//! each failure naming the field and what is allowed.

use std::collections::BTreeSet;
use std::path::Path;

use super::check::{Check, Checked, MAX_NAMES, NONE};
use super::request::{
    CaptureRequest, LedsRequest, LimitsRequest, ProfileRequest, RecogniseRequest,
};
use super::{
    Arch, BoardProfile, CaptureDevice, CaptureFind, CapturePort, LedNames, Limits, Pattern,
    ProfileError, Recognise, MAX_HEIGHT, MAX_STREAMS, MAX_WIDTH,
};

/// How many capture devices a profile, and ports a device, may hold.
const MAX_CAPTURE_DEVICES: usize = 8;
const MAX_PORTS: usize = 16;
/// The highest V4L2 input index a port may name.
const MAX_INPUT: i64 = 255;
/// The smallest picture side, as the transcoder's `width` and `height`.
const MIN_SIDE: i64 = 16;

/// Parses and validates one profile. `file` names it in errors, and its
/// stem must be the profile's `name`.
///
/// # Errors
///
/// [`ProfileError::Syntax`] for TOML that does not parse or a key no profile
/// has, [`ProfileError::Invalid`] for the first field that breaks its rule.
pub fn parse(file: &str, text: &str) -> Result<BoardProfile, ProfileError> {
    let request: ProfileRequest = toml::from_str(text).map_err(|e| ProfileError::Syntax {
        file: file.to_owned(),
        message: e.message().to_owned() + &line_of(text, e.span()),
    })?;
    Check { file }.profile(request)
}

/// " (line N: the line)" for a parser error's span, so that the message
/// shows the key even where the parser's own words do not name it (a
/// value of the wrong type).
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(start) = span.map(|s| s.start).filter(|s| *s <= text.len()) else {
        return String::new();
    };
    let number = text.as_bytes()[..start]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    let line = text.lines().nth(number - 1).unwrap_or_default().trim();
    format!(" (line {number}: {line})")
}

impl Check<'_> {
    fn profile(&self, r: ProfileRequest) -> Checked<BoardProfile> {
        let name = self.required(r.name, "name")?;
        let name = self.name(name)?;
        let description = self.text(
            "description",
            self.required(r.description, "description")?,
            80,
            |c| !c.is_control(),
        )?;
        let arch = self.required(r.arch, "arch")?;
        let arch = Arch::from_name(&arch).ok_or_else(|| {
            self.invalid(
                "arch",
                format!("'{arch}' is not an architecture (x86_64 or aarch64)"),
            )
        })?;
        let recognise = self.recognise(self.required(r.recognise, "recognise")?)?;
        let capture = self.capture(r.capture)?;
        let nics = self.nics(self.required(r.nics, "nics")?)?;
        let console = self.required(r.serial_console, "serial_console")?;
        let serial_console = self.text("serial_console", console, 32, |c| {
            c.is_ascii_alphanumeric() || c == '_'
        })?;
        let front_panel =
            self.device("front_panel", self.required(r.front_panel, "front_panel")?)?;
        let watchdog = self.device("watchdog", self.required(r.watchdog, "watchdog")?)?;
        let leds = self.leds(self.required(r.leds, "leds")?)?;
        let limits = self.limits(self.required(r.limits, "limits")?)?;
        Ok(BoardProfile {
            name,
            description,
            arch,
            recognise,
            capture,
            nics,
            serial_console,
            front_panel,
            watchdog,
            leds,
            limits,
        })
    }

    fn name(&self, name: String) -> Checked<String> {
        let rule = "must be 1-32 of a-z, 0-9, '-' and '_', starting with a letter";
        let valid = (1..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c));
        if !valid {
            return Err(self.invalid("name", format!("'{name}' {rule}")));
        }
        let stem = Path::new(self.file).file_stem().and_then(|s| s.to_str());
        if stem != Some(name.as_str()) {
            return Err(self.invalid(
                "name",
                format!("'{name}' must be the file's name without .toml"),
            ));
        }
        Ok(name)
    }

    fn recognise(&self, r: RecogniseRequest) -> Checked<Recognise> {
        let any = !(r.dmi_sys_vendor.is_empty()
            && r.dmi_product_name.is_empty()
            && r.dt_compatible.is_empty());
        if r.fallback {
            if any {
                return Err(self.invalid(
                    "recognise",
                    "a fallback profile (fallback = true) names no dmi_* or dt_compatible patterns",
                ));
            }
            return Ok(Recognise::Fallback);
        }
        if r.dmi_sys_vendor.is_empty() && r.dt_compatible.is_empty() {
            return Err(self.invalid(
                "recognise",
                "needs dmi_sys_vendor or dt_compatible patterns, or fallback = true",
            ));
        }
        if r.dmi_sys_vendor.is_empty() && !r.dmi_product_name.is_empty() {
            return Err(self.invalid("recognise.dmi_product_name", "needs dmi_sys_vendor too"));
        }
        let printable = |c: char| c.is_ascii_graphic() || c == ' ';
        Ok(Recognise::By {
            dmi_sys_vendor: self.patterns(
                "recognise.dmi_sys_vendor",
                r.dmi_sys_vendor,
                64,
                printable,
            )?,
            dmi_product_name: self.patterns(
                "recognise.dmi_product_name",
                r.dmi_product_name,
                64,
                printable,
            )?,
            dt_compatible: self.list("recognise.dt_compatible", r.dt_compatible, |field, s| {
                self.text(field, s, 64, |c| c.is_ascii_graphic() && c != '*')
            })?,
        })
    }

    fn capture(&self, devices: Vec<CaptureRequest>) -> Checked<Vec<CaptureDevice>> {
        if devices.len() > MAX_CAPTURE_DEVICES {
            return Err(self.invalid(
                "capture",
                format!(
                    "{} devices; at most {MAX_CAPTURE_DEVICES} are allowed",
                    devices.len()
                ),
            ));
        }
        devices
            .into_iter()
            .enumerate()
            .map(|(i, d)| self.capture_device(&format!("capture[{i}]"), d))
            .collect()
    }

    fn capture_device(&self, at: &str, d: CaptureRequest) -> Checked<CaptureDevice> {
        let find = match (d.driver, d.card, d.device) {
            (Some(driver), card, None) => CaptureFind::Driver {
                driver: self.text(&format!("{at}.driver"), driver, 32, |c| {
                    c.is_ascii_alphanumeric() || "_-".contains(c)
                })?,
                card: card
                    .map(|card| {
                        self.text(&format!("{at}.card"), card, 32, |c| {
                            c.is_ascii_graphic() || c == ' '
                        })
                    })
                    .transpose()?,
            },
            (None, None, Some(device)) => match self.device(&format!("{at}.device"), device)? {
                Some(path) => CaptureFind::Device(path),
                None => {
                    return Err(
                        self.invalid(format!("{at}.device"), "must be a device path, not none")
                    )
                }
            },
            (None, Some(_), Some(_)) => {
                return Err(self.invalid(format!("{at}.card"), "goes with driver, not device"))
            }
            (Some(_), _, Some(_)) => {
                return Err(self.invalid(at, "names its device by driver or by device, not both"))
            }
            (None, _, None) => {
                return Err(self.invalid(at, "needs driver (and maybe card) or device"))
            }
        };
        if d.ports.len() > MAX_PORTS {
            return Err(self.invalid(
                format!("{at}.ports"),
                format!("{} ports; at most {MAX_PORTS} are allowed", d.ports.len()),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut ports = Vec::new();
        for (j, p) in d.ports.into_iter().enumerate() {
            let field = format!("{at}.ports[{j}]");
            let input = self.range(
                &format!("{field}.input"),
                self.required(p.input, &format!("{field}.input"))?,
                0,
                MAX_INPUT,
            )?;
            if !seen.insert(input) {
                return Err(self.invalid(
                    format!("{field}.input"),
                    format!("input {input} is listed twice"),
                ));
            }
            let label = self.required(p.label, &format!("{field}.label"))?;
            let label = self.text(&format!("{field}.label"), label, 32, |c| {
                c.is_ascii_graphic() || c == ' '
            })?;
            ports.push(CapturePort { input, label });
        }
        Ok(CaptureDevice { find, ports })
    }

    fn nics(&self, nics: Vec<String>) -> Checked<Vec<Pattern>> {
        if nics.is_empty() {
            return Err(self.invalid("nics", format!("needs 1-{MAX_NAMES} names or prefixes")));
        }
        // IFNAMSIZ is 16 with the NUL.
        self.patterns("nics", nics, 15, |c| {
            c.is_ascii_alphanumeric() || "_.-".contains(c)
        })
    }

    fn leds(&self, r: LedsRequest) -> Checked<LedNames> {
        let led = |field: &str, value: Option<String>| -> Checked<Option<String>> {
            let value = self.required(value, field)?;
            if value == NONE {
                return Ok(None);
            }
            if value == "." || value == ".." {
                return Err(self.invalid(field, format!("'{value}' is not an LED name")));
            }
            self.text(field, value, 64, |c| c.is_ascii_graphic() && c != '/')
                .map(Some)
        };
        let leds = LedNames {
            power: led("leds.power", r.power)?,
            stream: led("leds.stream", r.stream)?,
            alarm: led("leds.alarm", r.alarm)?,
        };
        let roles = [
            ("leds.power", &leds.power),
            ("leds.stream", &leds.stream),
            ("leds.alarm", &leds.alarm),
        ];
        for (i, (field, name)) in roles.iter().enumerate() {
            if let Some(earlier) = roles[..i]
                .iter()
                .find(|(_, other)| name.is_some() && other == name)
            {
                return Err(self.invalid(
                    *field,
                    format!(
                        "{} is already {}; each LED shows one thing",
                        name.as_deref().unwrap_or_default(),
                        earlier.0
                    ),
                ));
            }
        }
        Ok(leds)
    }

    fn limits(&self, r: LimitsRequest) -> Checked<Limits> {
        let side = |field: &str, value: Option<i64>, max: u32| -> Checked<u32> {
            let value = self.range(
                field,
                self.required(value, field)?,
                MIN_SIDE,
                i64::from(max),
            )?;
            if value % 2 != 0 {
                return Err(self.invalid(field, format!("{value} must be even")));
            }
            Ok(value)
        };
        Ok(Limits {
            max_streams: self.range(
                "limits.max_streams",
                self.required(r.max_streams, "limits.max_streams")?,
                1,
                i64::from(MAX_STREAMS),
            )?,
            max_width: side("limits.max_width", r.max_width, MAX_WIDTH)?,
            max_height: side("limits.max_height", r.max_height, MAX_HEIGHT)?,
        })
    }
}
