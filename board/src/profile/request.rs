//! A profile file as written: typed, unknown keys refused, nothing else
//! checked. Every field is optional here so that a missing one is reported
//! by [`crate::profile::parse`] with its full name, like any other mistake.

use serde::Deserialize;

/// A whole profile file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// `name`: the file's stem.
    pub name: Option<String>,
    /// `description`: one line for people.
    pub description: Option<String>,
    /// `arch`: `x86_64` or `aarch64`.
    pub arch: Option<String>,
    /// `nics`: names or prefixes ending in `*`.
    pub nics: Option<Vec<String>>,
    /// `serial_console`: a tty name.
    pub serial_console: Option<String>,
    /// `front_panel`: a device path, or `none`.
    pub front_panel: Option<String>,
    /// `watchdog`: a device path, or `none`.
    pub watchdog: Option<String>,
    /// `[recognise]`.
    pub recognise: Option<RecogniseRequest>,
    /// `[[capture]]`, one table per device (none is allowed).
    #[serde(default)]
    pub capture: Vec<CaptureRequest>,
    /// `[leds]`.
    pub leds: Option<LedsRequest>,
    /// `[limits]`.
    pub limits: Option<LimitsRequest>,
}

/// `[recognise]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecogniseRequest {
    /// `fallback = true`: the architecture's profile of last resort.
    #[serde(default)]
    pub fallback: bool,
    /// DMI `sys_vendor` patterns.
    #[serde(default)]
    pub dmi_sys_vendor: Vec<String>,
    /// DMI `product_name` patterns.
    #[serde(default)]
    pub dmi_product_name: Vec<String>,
    /// Device-tree `compatible` strings.
    #[serde(default)]
    pub dt_compatible: Vec<String>,
}

/// One `[[capture]]` table: `driver` (and maybe `card`) or `device`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// The V4L2 driver name.
    pub driver: Option<String>,
    /// Part of the V4L2 card name.
    pub card: Option<String>,
    /// A device node.
    pub device: Option<String>,
    /// The ports; none means every input.
    #[serde(default)]
    pub ports: Vec<PortRequest>,
}

/// One port of a capture device.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortRequest {
    /// The V4L2 input index.
    pub input: Option<i64>,
    /// Its label.
    pub label: Option<String>,
}

/// `[leds]`: each an LED name or `none`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedsRequest {
    /// The power LED.
    pub power: Option<String>,
    /// The stream LED.
    pub stream: Option<String>,
    /// The alarm LED.
    pub alarm: Option<String>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    /// Streams at once.
    pub max_streams: Option<i64>,
    /// The widest picture.
    pub max_width: Option<i64>,
    /// The tallest picture.
    pub max_height: Option<i64>,
}
