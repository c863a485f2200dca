//! What a capture port can deliver: its modes, and what it is doing now.
//! Drivers describe their ports with these; the system report shows them.

/// One picture size and rate a port can capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureMode {
    /// Active picture width; 0 when the mode does not fix it.
    pub width: u32,
    /// Active picture height (both fields of an interlaced picture).
    pub height: u32,
    /// Frames per second as a fraction; `None` when the mode does not fix it.
    pub frame_rate: Option<(u32, u32)>,
    pub interlaced: bool,
    /// A short name: `1280x720p60`, `PAL-B`, `640x480@30`.
    pub id: String,
}

/// How a port chooses its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    /// Digital video (HDMI, SDI): modes are DV timings, and the source's
    /// timings can be detected.
    DigitalVideo,
    /// Analog video: modes are video standards (PAL, NTSC, SECAM).
    AnalogStandard,
    /// A camera: modes are the frame sizes and rates it offers.
    Camera,
}

/// One capture port: one input of one capture device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturePort {
    /// The number clients use as `capturePort`.
    pub number: u32,
    /// The device node, e.g. `/dev/video0`.
    pub device: String,
    /// The input's name, as the driver gives it.
    pub name: String,
    pub kind: PortKind,
    /// The mode the port is set to or detects now, if known.
    pub current: Option<CaptureMode>,
    /// Every mode the port offers; `captureMode` N is `modes[N]`.
    pub modes: Vec<CaptureMode>,
    /// Set while a stream captures from this port.
    pub running: Option<RunningCapture>,
}

/// What a port that captures now was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningCapture {
    /// The `captureMode` it was opened with (-1: automatic).
    pub config_mode: i32,
    /// The pixel layout frames arrive in, e.g. `YU12`.
    pub fourcc: String,
    /// Frames per second as a fraction.
    pub frame_rate: (u32, u32),
}
