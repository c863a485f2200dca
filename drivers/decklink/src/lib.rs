//! Blackmagic DeckLink cards: the devices, their input connections and
//! their input display modes, through Blackmagic's driver library
//! (`libDeckLinkAPI.so`, opened at run time).
//!
//! - `shim/` is a small C++ shim over the SDK's COM-style interfaces
//!   (headers of SDK 10.9.12, vendored in `sdk/`), built by `build.rs`; it
//!   does the SDK's dispatch itself, from a path the caller chooses.
//! - `ffi` (allow-listed in `tests/tidy`) is the only module with `unsafe`
//!   code: owning handles over the shim's C API.
//! - [`DeckLinkApi`] opens the library; [`DeckLinkApi::devices`] lists the
//!   devices with their modes; [`DeckLinkApi::input_device`] is what an
//!   input start asks for ("no DeckLink device" when there is none).
//!
//! Without the driver, [`DeckLinkApi::open`] fails with the loader's
//! reason; with the driver and no card, the list is empty. Capture is not
//! here yet: `README.md` has the plan.
//!
//! Level 3, like the other drivers; no makara dependency yet.

// `unsafe` is denied here and everywhere below, except in `ffi`, the one
// module allow-listed in `tests/tidy`.
#![deny(unsafe_code)]

mod capture;
mod ffi;
mod mode;
mod pixels;
mod ports;

use std::env;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub use capture::{CaptureError, CapturePixels, CaptureSettings, DeckLinkCapture};
pub use mode::{Connection, DisplayMode, FrameRate, ModeCode, ModeError, Scan};
pub use ports::DeckLinkPorts;

/// The driver library's name, found by the dynamic loader's usual search.
pub const DEFAULT_LIBRARY: &str = "libDeckLinkAPI.so";

/// The environment variable that names another library (a path) in place
/// of [`DEFAULT_LIBRARY`], for [`DeckLinkApi::open_default`].
pub const LIBRARY_ENV: &str = "MAKARA_DECKLINK_LIBRARY";

/// The DeckLink API library, loaded. It stays loaded for the rest of the
/// process (Blackmagic's library runs threads of its own), so dropping
/// this frees only the crate's handle.
#[derive(Debug)]
pub struct DeckLinkApi {
    library: ffi::Library,
    path: PathBuf,
}

/// A DeckLink device (one per connector group: a DeckLink Duo 2 is four).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The card's model, e.g. "DeckLink Duo 2".
    pub model_name: String,
    /// The name Blackmagic's tools show, e.g. "DeckLink Duo (1)".
    pub display_name: String,
    /// Whether the device can capture (it answers `IDeckLinkInput`).
    pub can_capture: bool,
    /// Its video input connectors (`BMDDeckLinkVideoInputConnections`).
    pub inputs: Vec<Connection>,
    /// Whether it detects the input's format itself, which auto mode
    /// (`decklinkMode -1`) needs (`BMDDeckLinkSupportsInputFormatDetection`).
    pub detects_input_format: bool,
    /// The most embedded audio channels it captures
    /// (`BMDDeckLinkMaximumAudioChannels`; 0 when the driver does not say).
    pub max_audio_channels: u32,
    /// Its input display modes, in the driver's order; empty when it
    /// cannot capture.
    pub modes: Vec<DisplayMode>,
}

/// [`DeckLinkApi::open`] failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("{library} not found: {reason}")]
    NotFound { library: String, reason: String },
    #[error("{library} is not a DeckLink API this driver can use: {reason}")]
    NoEntryPoint { library: String, reason: String },
    #[error("the DeckLink library path {0:?} contains a NUL byte")]
    BadPath(PathBuf),
    #[error("the DeckLink shim failed opening {library}: {reason}")]
    Shim { library: String, reason: String },
}

/// [`DeckLinkApi::devices`] failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnumerateError {
    #[error("{library} gave no device iterator (is the Desktop Video driver loaded?): {reason}")]
    NoIterator { library: String, reason: String },
    #[error("listing DeckLink devices failed: {0}")]
    Call(String),
    #[error("DeckLink device {device} ({model}): {reason}")]
    BadMode {
        device: usize,
        model: String,
        reason: ModeError,
    },
}

/// [`DeckLinkApi::input_device`] failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputDeviceError {
    #[error("no DeckLink device")]
    NoDevice,
    #[error("no DeckLink device {index} (there are {count})")]
    NoSuchDevice { index: usize, count: usize },
    #[error("DeckLink device {index} ({model}) cannot capture")]
    CannotCapture { index: usize, model: String },
    #[error(transparent)]
    Enumerate(#[from] EnumerateError),
}

impl DeckLinkApi {
    /// Opens the library at `library`: a path, or a bare name the dynamic
    /// loader searches for (as [`DEFAULT_LIBRARY`]).
    pub fn open(library: &Path) -> Result<DeckLinkApi, OpenError> {
        let name = CString::new(library.as_os_str().as_bytes())
            .map_err(|_| OpenError::BadPath(library.to_owned()))?;
        let shown = library.display().to_string();
        let opened = ffi::Library::open(&name).map_err(|f| match f.status {
            ffi::Status::LoadFailed => OpenError::NotFound {
                library: shown.clone(),
                reason: f.message,
            },
            ffi::Status::NoEntryPoint => OpenError::NoEntryPoint {
                library: shown.clone(),
                reason: f.message,
            },
            _ => OpenError::Shim {
                library: shown.clone(),
                reason: failure_text(&f),
            },
        })?;
        Ok(DeckLinkApi {
            library: opened,
            path: library.to_owned(),
        })
    }

    /// Opens the library [`LIBRARY_ENV`] names, else [`DEFAULT_LIBRARY`].
    pub fn open_default() -> Result<DeckLinkApi, OpenError> {
        DeckLinkApi::open(&library_path(env::var_os(LIBRARY_ENV)))
    }

    pub(crate) fn library(&self) -> &ffi::Library {
        &self.library
    }

    /// The library this was opened from, as it was given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every device the driver reports, with its input modes. Empty when
    /// the machine has no card.
    pub fn devices(&self) -> Result<Vec<Device>, EnumerateError> {
        let raw = self.library.enumerate().map_err(|f| match f.status {
            ffi::Status::NoIterator => EnumerateError::NoIterator {
                library: self.path.display().to_string(),
                reason: f.message,
            },
            _ => EnumerateError::Call(failure_text(&f)),
        })?;
        raw.into_iter()
            .enumerate()
            .map(|(index, d)| {
                let modes = d
                    .modes
                    .iter()
                    .map(DisplayMode::from_raw)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|reason| EnumerateError::BadMode {
                        device: index,
                        model: d.model_name.clone(),
                        reason,
                    })?;
                Ok(Device {
                    inputs: Connection::from_bits(d.input_connections),
                    can_capture: d.has_input,
                    detects_input_format: d.detects_input_format,
                    max_audio_channels: u32::try_from(d.max_audio_channels).unwrap_or(0),
                    model_name: d.model_name,
                    display_name: d.display_name,
                    modes,
                })
            })
            .collect()
    }

    /// Device `index` (in the driver's order), which must be able to
    /// capture: what starting a DeckLink input asks for.
    pub fn input_device(&self, index: usize) -> Result<Device, InputDeviceError> {
        let mut devices = self.devices()?;
        let count = devices.len();
        if count == 0 {
            return Err(InputDeviceError::NoDevice);
        }
        if index >= count {
            return Err(InputDeviceError::NoSuchDevice { index, count });
        }
        let device = devices.swap_remove(index);
        if !device.can_capture {
            return Err(InputDeviceError::CannotCapture {
                index,
                model: device.model_name,
            });
        }
        Ok(device)
    }
}

/// The library [`DeckLinkApi::open_default`] opens, given the value of
/// [`LIBRARY_ENV`]: that path when set and not empty, else
/// [`DEFAULT_LIBRARY`].
pub fn library_path(env_value: Option<OsString>) -> PathBuf {
    match env_value {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(DEFAULT_LIBRARY),
    }
}

/// A shim failure's message, with the status when the shim and `ffi`
/// disagree about it.
fn failure_text(f: &ffi::Failure) -> String {
    match f.status {
        ffi::Status::Unknown(raw) => format!("shim status {raw}: {}", f.message),
        _ => f.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_names_the_library_unless_empty() {
        assert_eq!(
            library_path(Some("/opt/fake/libDeckLinkAPI.so".into())),
            PathBuf::from("/opt/fake/libDeckLinkAPI.so")
        );
        assert_eq!(
            library_path(Some("".into())),
            PathBuf::from(DEFAULT_LIBRARY)
        );
        assert_eq!(library_path(None), PathBuf::from(DEFAULT_LIBRARY));
    }

    #[test]
    fn a_path_with_a_nul_byte_is_refused_before_the_loader() {
        let path = PathBuf::from(OsString::from("lib\0DeckLink.so"));
        assert_eq!(
            DeckLinkApi::open(&path).unwrap_err(),
            OpenError::BadPath(path)
        );
    }
}
