//! V4L2 capture: the appliance's capture ports are the inputs of its
//! `/dev/video*` capture devices, numbered in device order (`/dev/video0`'s
//! inputs first). vivid's one device with four inputs gives ports 0-3:
//! webcam, TV, S-Video and HDMI.
//!
//! - [`sys`]: the kernel ABI; [`calls`]: one safe function and one error
//!   type per ioctl; `ioctl` (typed `ioctl(2)`, `poll`, the clock) and
//!   `buffers` (the mapped capture buffers, and the only code that queues
//!   and dequeues them): the only `unsafe` code (allow-listed).
//! - [`V4l2Devices`] lists the ports with their modes (DV timings, video
//!   standards or camera sizes) and opens them; `capturePort` and
//!   `captureMode` choose.
//! - A running capture streams into mapped buffers which are the frame
//!   pool's slots: zero copies to the encoder (see `capture`).
//!
//! Level 3: depends on `makara-capture` (the traits it implements),
//! `makara-framering` and `makara-media`.

#![deny(unsafe_code)]

mod buffers;
pub mod calls;
mod capture;
mod device;
mod ioctl;
mod modes;
pub mod service;
pub mod sys;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use makara_capture::{CaptureDevices, DeviceError, LiveCapture};
use makara_media::{CaptureMode, CapturePort, PortKind, RunningCapture};

pub use capture::{BUFFERS, PREFERRED};
pub use device::{fourcc_text, Device};
pub use modes::rate_text;

use capture::{Request, V4l2Capture};
use modes::Native;

/// Device nodes looked at: `/dev/video0` to `/dev/video63`.
const MAX_NODES: u32 = 64;

/// The capture ports of this machine.
#[derive(Clone)]
pub struct V4l2Devices {
    dev_dir: String,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// The last listing of each port, reused while its device streams
    /// (listing modes needs `S_INPUT`, which a streaming device refuses).
    listed: HashMap<u32, Listed>,
    /// Device nodes capturing now, with what they run.
    running: HashMap<String, (u32, RunningCapture, Option<CaptureMode>)>,
}

#[derive(Clone)]
struct Listed {
    port: CapturePort,
    input: u32,
    natives: Vec<Native>,
}

impl std::fmt::Debug for V4l2Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V4l2Devices")
            .field("dev_dir", &self.dev_dir)
            .finish_non_exhaustive()
    }
}

impl V4l2Devices {
    /// The ports of the devices under `/dev`.
    pub fn new() -> V4l2Devices {
        V4l2Devices::under("/dev")
    }

    /// The ports of the devices under `dev_dir` (tests, other roots).
    pub fn under(dev_dir: &str) -> V4l2Devices {
        V4l2Devices {
            dev_dir: dev_dir.to_string(),
            state: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lists every port again, except those of streaming devices.
    fn scan(&self) -> Vec<Listed> {
        let mut ports = Vec::new();
        for node in 0..MAX_NODES {
            let path = format!("{}/video{node}", self.dev_dir);
            if !std::path::Path::new(&path).exists() {
                continue;
            }
            let busy: Vec<Listed> = {
                let state = self.lock();
                if state.running.contains_key(&path) {
                    let mut cached: Vec<Listed> = state
                        .listed
                        .values()
                        .filter(|l| l.port.device == path)
                        .cloned()
                        .collect();
                    cached.sort_by_key(|l| l.input);
                    cached
                } else {
                    Vec::new()
                }
            };
            if !busy.is_empty() {
                for mut l in busy {
                    l.port.number = ports.len() as u32;
                    ports.push(l);
                }
                continue;
            }
            let Ok(device) = Device::open(&path) else {
                continue;
            };
            if !device.is_streaming_capture() {
                continue;
            }
            ports.extend(list_device(&device, ports.len() as u32));
        }
        let mut state = self.lock();
        for l in &ports {
            state.listed.insert(l.port.number, l.clone());
        }
        ports
    }
}

impl Default for V4l2Devices {
    fn default() -> Self {
        V4l2Devices::new()
    }
}

/// The ports of one device: one per input, with its modes.
fn list_device(device: &Device, first_number: u32) -> Vec<Listed> {
    let Ok(inputs) = device.inputs() else {
        return Vec::new();
    };
    let formats = device.formats().unwrap_or_default();
    let fourcc = PREFERRED
        .iter()
        .map(|(c, _)| *c)
        .find(|c| formats.contains(c))
        .unwrap_or(0);
    let mut listed = Vec::new();
    for input in inputs {
        if calls::s_input(device.fd(), input.index).is_err() {
            continue;
        }
        let kind = modes::kind_of(&input);
        let (modes, natives): (Vec<_>, Vec<_>) =
            modes::list(device, kind, fourcc).into_iter().unzip();
        listed.push(Listed {
            port: CapturePort {
                number: first_number + listed.len() as u32,
                device: device.path().to_string(),
                name: input.name.clone(),
                kind,
                current: current_mode(device, kind),
                modes,
                running: None,
            },
            input: input.index,
            natives,
        });
    }
    listed
}

/// The mode the current input is set to (DV, standard) or the size it
/// captures (camera).
fn current_mode(device: &Device, kind: PortKind) -> Option<CaptureMode> {
    match kind {
        PortKind::DigitalVideo => calls::query_dv_timings(device.fd())
            .or_else(|_| calls::g_dv_timings(device.fd()).map_err(|_| ()))
            .ok()
            .map(|t| modes::timings_mode(&t)),
        PortKind::AnalogStandard | PortKind::Camera => {
            let f = calls::g_fmt(device.fd()).ok()?;
            Some(CaptureMode {
                width: f.width,
                height: f.height,
                frame_rate: None,
                interlaced: f.field == sys::FIELD_INTERLACED,
                id: format!("{}x{}", f.width, f.height),
            })
        }
    }
}

impl CaptureDevices for V4l2Devices {
    fn ports(&self) -> Vec<CapturePort> {
        let listed = self.scan();
        let state = self.lock();
        listed
            .into_iter()
            .map(|l| {
                let mut port = l.port;
                if let Some((number, running, current)) = state.running.get(&port.device) {
                    if *number == port.number {
                        port.running = Some(running.clone());
                        port.current = current.clone();
                    }
                }
                port
            })
            .collect()
    }

    fn open(&self, port: u32, mode: i32) -> Result<Box<dyn LiveCapture>, DeviceError> {
        let ports = self.scan();
        let Some(listed) = ports.iter().find(|l| l.port.number == port).cloned() else {
            return Err(DeviceError::NoPort {
                port,
                available: ports.len(),
                hint: format!(
                    " (the inputs of the V4L2 capture devices {}/video*)",
                    self.dev_dir
                ),
            });
        };
        let path = listed.port.device.clone();
        if self.lock().running.contains_key(&path) {
            return Err(DeviceError::Busy { port });
        }
        let err = |what: String| DeviceError::Device {
            device: path.clone(),
            what,
        };
        let device = Device::open(&path).map_err(|e| err(e.to_string()))?;
        calls::s_input(device.fd(), listed.input).map_err(|e| err(e.to_string()))?;
        let (request, current) = select_mode(&device, &listed, mode)?;
        let running = RunningCapture {
            config_mode: mode,
            fourcc: String::new(),
            frame_rate: request.rate,
        };
        self.lock()
            .running
            .insert(path.clone(), (port, running, Some(current)));
        let claim = Claim {
            devices: self.clone(),
            path: path.clone(),
        };
        let capture = V4l2Capture::start(device, &request, Box::new(claim))?;
        let fourcc = PREFERRED
            .iter()
            .find(|(_, f)| *f == capture.format().pixel_format)
            .map(|(c, _)| fourcc_text(*c))
            .unwrap_or_default();
        if let Some(entry) = self.lock().running.get_mut(&path) {
            entry.1.fourcc = fourcc;
        }
        Ok(Box::new(capture))
    }
}

/// Marks a device node busy for as long as a capture runs on it.
struct Claim {
    devices: V4l2Devices,
    path: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.devices.lock().running.remove(&self.path);
    }
}

/// Sets the input's mode (`-1`: what the source sends, else the listed
/// mode) and says what to capture.
fn select_mode(
    device: &Device,
    listed: &Listed,
    mode: i32,
) -> Result<(Request, CaptureMode), DeviceError> {
    let port = listed.port.number;
    let path = device.path().to_string();
    let err = |what: String| DeviceError::Device {
        device: path.clone(),
        what,
    };
    let native = match mode {
        -1 => None,
        m => Some(
            usize::try_from(m)
                .ok()
                .and_then(|i| listed.natives.get(i))
                .cloned()
                .ok_or(DeviceError::NoMode {
                    port,
                    mode: m,
                    last: listed.natives.len() as i64 - 1,
                })?,
        ),
    };
    match (listed.port.kind, native) {
        (PortKind::DigitalVideo, native) => {
            let timings = match native {
                Some(Native::Timings(t)) => t,
                // Automatic: what the source sends, or if there is no
                // signal now, the timings the input is set to.
                _ => calls::query_dv_timings(device.fd())
                    .or_else(|_| calls::g_dv_timings(device.fd()).map_err(|e| e.to_string()))
                    .map_err(err)?,
            };
            calls::s_dv_timings(device.fd(), timings).map_err(|e| err(e.to_string()))?;
            let m = modes::timings_mode(&timings);
            let rate = m
                .frame_rate
                .ok_or_else(|| err(format!("timings {} have no frame rate", m.id)))?;
            Ok((
                Request {
                    width: m.width,
                    height: m.height,
                    interlaced: m.interlaced,
                    rate,
                    interval: None,
                },
                m,
            ))
        }
        (PortKind::AnalogStandard, native) => {
            let id = match native {
                Some(Native::Standard(id)) => id,
                _ => calls::g_std(device.fd()).map_err(|e| err(e.to_string()))?,
            };
            calls::s_std(device.fd(), id).map_err(|e| err(e.to_string()))?;
            let m = listed
                .port
                .modes
                .iter()
                .zip(&listed.natives)
                .find(|(_, n)| matches!(n, Native::Standard(s) if s & id != 0))
                .map(|(m, _)| m.clone())
                .ok_or_else(|| err(format!("standard {id:#x} is not one the input lists")))?;
            let rate = m.frame_rate.unwrap_or((25, 1));
            Ok((
                Request {
                    width: m.width,
                    height: m.height,
                    interlaced: true,
                    rate,
                    interval: None,
                },
                m,
            ))
        }
        (PortKind::Camera, native) => {
            let (width, height, interval) = match native {
                Some(Native::Size {
                    width,
                    height,
                    interval,
                }) => (width, height, interval),
                _ => {
                    let f = calls::g_fmt(device.fd()).map_err(|e| err(e.to_string()))?;
                    // The fastest rate listed for the current size.
                    let fastest = listed
                        .natives
                        .iter()
                        .filter_map(|n| match n {
                            Native::Size {
                                width,
                                height,
                                interval: Some(i),
                            } if *width == f.width && *height == f.height => Some(*i),
                            _ => None,
                        })
                        .min_by(|a, b| {
                            (u64::from(a.numerator) * u64::from(b.denominator))
                                .cmp(&(u64::from(b.numerator) * u64::from(a.denominator)))
                        });
                    (f.width, f.height, fastest)
                }
            };
            let interval = interval.unwrap_or(sys::Fract {
                numerator: 1,
                denominator: 30,
            });
            let rate = (interval.denominator, interval.numerator);
            let m = CaptureMode {
                width,
                height,
                frame_rate: Some(rate),
                interlaced: false,
                id: format!("{width}x{height}@{}", rate_text(Some(rate))),
            };
            Ok((
                Request {
                    width,
                    height,
                    interlaced: false,
                    rate,
                    interval: Some(interval),
                },
                m,
            ))
        }
    }
}
