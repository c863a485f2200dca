//! [`DeckLinkPorts`]: the cards as numbered capture ports (`decklinkPort`
//! N is the N-th device that can capture, in the driver's order), what
//! each is doing, and starting a capture on one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use makara_capture::{DeviceError, LiveCapture};
use makara_media::{CaptureMode, CapturePort, PortKind, RunningCapture};

use crate::capture::{CaptureError, CapturePixels, CaptureSettings, DeckLinkCapture};
use crate::{DeckLinkApi, Device, DisplayMode, ModeCode, Scan};

/// What the appliance knows of a port between captures.
#[derive(Debug, Default)]
struct PortState {
    /// Set while a stream captures from the port.
    running: Option<RunningCapture>,
    /// The mode captured now, or last detected.
    current: Option<DisplayMode>,
    /// The signal's mode as the card last reported it: where an automatic
    /// capture starts, so that a restart after a format change starts in
    /// the new format.
    detected: Option<ModeCode>,
}

type States = Arc<Mutex<HashMap<u32, PortState>>>;

/// The DeckLink cards of the machine, as capture ports. The driver
/// library is opened on first use and again after a failure, so a driver
/// installed while the appliance runs is found.
#[derive(Debug)]
pub struct DeckLinkPorts {
    library: PathBuf,
    api: Mutex<Option<Arc<DeckLinkApi>>>,
    states: States,
}

/// Marks a port as in use for as long as its capture runs.
#[derive(Debug)]
pub(crate) struct Claim {
    port: u32,
    states: States,
}

impl Claim {
    /// The capture ends: the port is free, and remembers the mode the card
    /// last detected.
    pub(crate) fn release(&self, detected: Option<ModeCode>) {
        let mut states = lock(&self.states);
        let state = states.entry(self.port).or_default();
        state.running = None;
        if detected.is_some() {
            state.detected = detected;
        }
    }
}

fn lock(states: &States) -> MutexGuard<'_, HashMap<u32, PortState>> {
    states.lock().unwrap_or_else(|e| e.into_inner())
}

impl DeckLinkPorts {
    /// The ports of the library at `library` (a path or a name the loader
    /// searches for; see [`crate::library_path`]).
    pub fn new(library: PathBuf) -> DeckLinkPorts {
        DeckLinkPorts {
            library,
            api: Mutex::new(None),
            states: Arc::default(),
        }
    }

    fn api(&self) -> Result<Arc<DeckLinkApi>, String> {
        let mut api = self.api.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(api) = api.as_ref() {
            return Ok(Arc::clone(api));
        }
        let opened = Arc::new(DeckLinkApi::open(&self.library).map_err(|e| e.to_string())?);
        *api = Some(Arc::clone(&opened));
        Ok(opened)
    }

    /// The devices that capture, with their index in the driver's list.
    fn capture_devices(&self, api: &DeckLinkApi) -> Result<Vec<(usize, Device)>, String> {
        let devices = api.devices().map_err(|e| e.to_string())?;
        Ok(devices
            .into_iter()
            .enumerate()
            .filter(|(_, d)| d.can_capture)
            .collect())
    }

    /// Every port, with its modes; none without a driver or a card.
    pub fn ports(&self) -> Vec<CapturePort> {
        let Ok(api) = self.api() else {
            return Vec::new();
        };
        let devices = match self.capture_devices(&api) {
            Ok(devices) => devices,
            Err(why) => {
                tracing::warn!(%why, "DeckLink devices could not be listed");
                return Vec::new();
            }
        };
        let states = lock(&self.states);
        devices
            .iter()
            .enumerate()
            .map(|(number, (_, device))| {
                let state = states.get(&(number as u32));
                port_of(number as u32, device, state)
            })
            .collect()
    }

    /// Starts capturing from `port` in `mode`: an index into the port's
    /// modes, or -1 for the signal's format as the card detects it.
    pub fn open(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        let no_device = |why: String| DeviceError::NoDeckLink { port, why };
        let api = self.api().map_err(no_device)?;
        let devices = self.capture_devices(&api).map_err(no_device)?;
        let Some((index, device)) = devices.get(port as usize) else {
            return Err(no_device(match devices.len() {
                0 => "the driver reports no card that captures".into(),
                n => format!("this machine has {n} DeckLink port(s), 0-{}", n - 1),
            }));
        };
        let label = format!("decklinkPort {port}");
        let settings = self.settings(port, mode, *index, device, &label)?;
        let claim = self.claim(port, &label)?;
        let started = start_with_fallback(&api, settings).map_err(|e| {
            claim.release(None);
            DeviceError::Device {
                device: label.clone(),
                what: e.to_string(),
            }
        })?;
        let (capture, settings) = started;
        self.running(port, mode, &settings);
        Ok(Box::new(capture.with_claim(claim)))
    }

    /// What to ask the card for: the mode chosen, or for -1 the one last
    /// detected (else the first) with detection on.
    fn settings(
        &self,
        port: u32,
        mode: i32,
        index: usize,
        device: &Device,
        label: &str,
    ) -> Result<CaptureSettings, DeviceError> {
        let refuse = |why: String| DeviceError::NoDeckLinkMode { port, mode, why };
        let last = device.modes.len() as i64 - 1;
        let (chosen, detect) = if mode == -1 {
            if !device.detects_input_format {
                return Err(refuse(format!(
                    "{} cannot detect the input format: choose a mode, 0-{last}",
                    device.display_name
                )));
            }
            let detected = lock(&self.states).get(&port).and_then(|s| s.detected);
            let start = detected
                .and_then(|code| device.modes.iter().find(|m| m.code == code))
                .or(device.modes.first());
            (start, true)
        } else {
            (
                usize::try_from(mode).ok().and_then(|m| device.modes.get(m)),
                false,
            )
        };
        let Some(chosen) = chosen else {
            return Err(refuse(format!(
                "it is not one of the port's modes: use -1 (automatic) or 0-{last}"
            )));
        };
        Ok(CaptureSettings {
            device: index,
            mode: chosen.clone(),
            detect,
            pixels: CapturePixels::Uyvy,
            audio_channels: audio_channels(device.max_audio_channels),
            label: label.to_owned(),
        })
    }

    fn claim(&self, port: u32, label: &str) -> Result<Claim, DeviceError> {
        let mut states = lock(&self.states);
        let state = states.entry(port).or_default();
        if state.running.is_some() {
            return Err(DeviceError::Device {
                device: label.to_owned(),
                what: "in use by another stream".into(),
            });
        }
        // Marked at once, so that a second start cannot race this one.
        state.running = Some(RunningCapture {
            config_mode: -1,
            fourcc: "UYVY".into(),
            frame_rate: (0, 1),
        });
        Ok(Claim {
            port,
            states: Arc::clone(&self.states),
        })
    }

    fn running(&self, port: u32, config_mode: i32, settings: &CaptureSettings) {
        let mut states = lock(&self.states);
        let state = states.entry(port).or_default();
        let rate = settings.mode.frame_rate;
        state.running = Some(RunningCapture {
            config_mode,
            fourcc: "UYVY".into(),
            frame_rate: (rate.num, rate.den),
        });
        state.current = Some(settings.mode.clone());
    }
}

/// Starts in 8-bit UYVY, and in v210 when the card refuses that.
fn start_with_fallback(
    api: &DeckLinkApi,
    mut settings: CaptureSettings,
) -> Result<(DeckLinkCapture, CaptureSettings), CaptureError> {
    match DeckLinkCapture::start(api, &settings) {
        Ok(capture) => Ok((capture, settings)),
        Err(CaptureError::Refused { why, .. }) => {
            tracing::info!(input = %settings.label, %why, "8-bit capture refused; trying v210");
            settings.pixels = CapturePixels::V210;
            DeckLinkCapture::start(api, &settings).map(|c| (c, settings))
        }
        Err(e) => Err(e),
    }
}

/// The most channels the card captures, among the counts the SDK takes
/// (2, 8, 16); 2 when the driver does not say.
fn audio_channels(max: u32) -> u32 {
    [16, 8, 2].into_iter().find(|&n| n <= max).unwrap_or(2)
}

fn port_of(number: u32, device: &Device, state: Option<&PortState>) -> CapturePort {
    let names: Vec<String> = device.inputs.iter().map(|c| c.to_string()).collect();
    CapturePort {
        number,
        device: device.display_name.clone(),
        name: if names.is_empty() {
            device.model_name.clone()
        } else {
            names.join(", ")
        },
        kind: PortKind::DigitalVideo,
        current: state.and_then(|s| s.current.as_ref()).map(capture_mode),
        modes: device.modes.iter().map(capture_mode).collect(),
        running: state.and_then(|s| s.running.clone()),
    }
}

fn capture_mode(mode: &DisplayMode) -> CaptureMode {
    CaptureMode {
        width: mode.width,
        height: mode.height,
        frame_rate: Some((mode.frame_rate.num, mode.frame_rate.den)),
        interlaced: matches!(mode.scan, Scan::UpperFieldFirst | Scan::LowerFieldFirst),
        id: mode.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_takes_the_most_channels_the_sdk_offers_within_the_cards() {
        assert_eq!(audio_channels(64), 16);
        assert_eq!(audio_channels(16), 16);
        assert_eq!(audio_channels(8), 8);
        assert_eq!(audio_channels(6), 2);
        assert_eq!(audio_channels(0), 2);
    }
}
