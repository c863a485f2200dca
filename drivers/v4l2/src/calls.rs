//! One safe function per V4L2 ioctl, each with its own error type that
//! names the call and turns the errno values that mean something for that
//! call into variants (after v4l2r's `ioctl` module).

use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};

use crate::ioctl::{export_buffer, ioctl, Errno};
use crate::sys::*;

/// Declares an ioctl's error type: its meaningful errno values as unit
/// variants with a message, anything else as `Failed`.
macro_rules! ioctl_error {
    ($(#[$doc:meta])* $name:ident, $call:literal $(, $errno:ident => $variant:ident : $msg:literal)*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant,)*
            /// Any other errno.
            Failed(Errno),
        }

        impl From<Errno> for $name {
            fn from(e: Errno) -> Self {
                match e.0 {
                    $(libc::$errno => $name::$variant,)*
                    _ => $name::Failed(e),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($name::$variant => write!(f, "{}: {}", $call, $msg),)*
                    $name::Failed(e) => write!(f, "{}: {}", $call, e.describe()),
                }
            }
        }

        impl std::error::Error for $name {}
    };
}

/// A NUL-padded name from the kernel, as text.
pub fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

/// Ends an enumeration: `EINVAL` past the last index means "no more".
fn enumerated<T>(r: Result<T, Errno>) -> Result<Option<T>, Errno> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Errno(libc::EINVAL)) => Ok(None),
        Err(e) => Err(e),
    }
}

ioctl_error!(
    /// `VIDIOC_QUERYCAP`.
    QueryCapError, "VIDIOC_QUERYCAP", ENOTTY => NotV4l2: "not a V4L2 device"
);

#[derive(Debug)]
pub struct Caps {
    pub driver: String,
    pub card: String,
    pub bus_info: String,
    /// The capabilities of this device node.
    pub device_caps: u32,
}

pub fn query_cap(fd: BorrowedFd<'_>) -> Result<Caps, QueryCapError> {
    let mut c = Capability::ZERO;
    ioctl(fd, VIDIOC_QUERYCAP, &mut c)?;
    let device_caps = if c.capabilities & CAP_DEVICE_CAPS != 0 {
        c.device_caps
    } else {
        c.capabilities
    };
    Ok(Caps {
        driver: c_text(&c.driver),
        card: c_text(&c.card),
        bus_info: c_text(&c.bus_info),
        device_caps,
    })
}

ioctl_error!(
    /// `VIDIOC_ENUMINPUT`.
    EnumInputError, "VIDIOC_ENUMINPUT"
);

#[derive(Debug, Clone)]
pub struct InputInfo {
    pub index: u32,
    pub name: String,
    pub kind: u32,
    pub status: u32,
    pub capabilities: u32,
}

pub fn enum_input(fd: BorrowedFd<'_>, index: u32) -> Result<Option<InputInfo>, EnumInputError> {
    let mut i = Input {
        index,
        ..Input::ZERO
    };
    let found = enumerated(ioctl(fd, VIDIOC_ENUMINPUT, &mut i))?;
    Ok(found.map(|()| InputInfo {
        index,
        name: c_text(&i.name),
        kind: i.kind,
        status: i.status,
        capabilities: i.capabilities,
    }))
}

ioctl_error!(
    /// `VIDIOC_S_INPUT`.
    SInputError, "VIDIOC_S_INPUT",
    EINVAL => NoSuchInput: "no such input",
    EBUSY => Busy: "the device is streaming from another input"
);

pub fn s_input(fd: BorrowedFd<'_>, index: u32) -> Result<(), SInputError> {
    let mut i = index as i32;
    Ok(ioctl(fd, VIDIOC_S_INPUT, &mut i)?)
}

ioctl_error!(
    /// `VIDIOC_ENUM_FMT`.
    EnumFmtError, "VIDIOC_ENUM_FMT"
);

/// The fourcc of capture format `index`, or `None` past the last.
pub fn enum_fmt(fd: BorrowedFd<'_>, index: u32) -> Result<Option<u32>, EnumFmtError> {
    let mut d = FmtDesc {
        index,
        kind: BUF_TYPE_VIDEO_CAPTURE,
        ..FmtDesc::ZERO
    };
    Ok(enumerated(ioctl(fd, VIDIOC_ENUM_FMT, &mut d))?.map(|()| d.pixelformat))
}

ioctl_error!(
    /// `VIDIOC_G_FMT`.
    GFmtError, "VIDIOC_G_FMT"
);

pub fn g_fmt(fd: BorrowedFd<'_>) -> Result<PixFormat, GFmtError> {
    let mut f = Format {
        kind: BUF_TYPE_VIDEO_CAPTURE,
        ..Format::ZERO
    };
    ioctl(fd, VIDIOC_G_FMT, &mut f)?;
    Ok(pix_of(&f))
}

ioctl_error!(
    /// `VIDIOC_S_FMT`.
    SFmtError, "VIDIOC_S_FMT",
    EBUSY => Busy: "the device is busy (streaming)",
    EINVAL => Invalid: "the format was refused"
);

/// Asks for `pix`; returns what the driver chose, which may differ.
pub fn s_fmt(fd: BorrowedFd<'_>, pix: PixFormat) -> Result<PixFormat, SFmtError> {
    let mut f = Format {
        kind: BUF_TYPE_VIDEO_CAPTURE,
        fmt: FormatUnion { pix },
    };
    ioctl(fd, VIDIOC_S_FMT, &mut f)?;
    Ok(pix_of(&f))
}

fn pix_of(f: &Format) -> PixFormat {
    crate::ioctl::pix_format(f)
}

ioctl_error!(
    /// `VIDIOC_G_PARM` / `VIDIOC_S_PARM`.
    ParmError, "VIDIOC_S_PARM",
    EBUSY => Busy: "the device is busy (streaming)"
);

/// Sets the capture interval (1/fps); returns the one the driver chose, or
/// `None` when the device does not let applications choose (DV and
/// analog inputs: the source sets the rate).
pub fn s_parm(fd: BorrowedFd<'_>, interval: Fract) -> Result<Option<Fract>, ParmError> {
    let mut p = StreamParm {
        kind: BUF_TYPE_VIDEO_CAPTURE,
        parm: StreamParmUnion {
            capture: CaptureParm {
                capability: 0,
                capturemode: 0,
                timeperframe: interval,
                extendedmode: 0,
                readbuffers: 0,
                reserved: [0; 4],
            },
        },
    };
    match ioctl(fd, VIDIOC_S_PARM, &mut p) {
        Ok(()) => Ok(Some(crate::ioctl::capture_parm(&p.parm).timeperframe)),
        Err(Errno(libc::ENOTTY | libc::EINVAL | libc::ENODATA)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

ioctl_error!(
    /// `VIDIOC_ENUM_FRAMESIZES`.
    EnumFrameSizesError, "VIDIOC_ENUM_FRAMESIZES"
);

/// Frame size `index` for `fourcc`: a discrete size, or for a stepwise
/// range its largest.
pub fn enum_framesize(
    fd: BorrowedFd<'_>,
    fourcc: u32,
    index: u32,
) -> Result<Option<(u32, u32)>, EnumFrameSizesError> {
    let mut s = FrmSizeEnum {
        index,
        pixel_format: fourcc,
        ..FrmSizeEnum::ZERO
    };
    let found = match ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &mut s) {
        Err(Errno(libc::ENOTTY)) => None,
        other => enumerated(other)?,
    };
    Ok(found.map(|()| match s.kind {
        FRMSIZE_TYPE_DISCRETE => (s.size[0], s.size[1]),
        // Stepwise / continuous: min_w, max_w, step_w, min_h, max_h, step_h.
        _ => (s.size[1], s.size[4]),
    }))
}

ioctl_error!(
    /// `VIDIOC_ENUM_FRAMEINTERVALS`.
    EnumFrameIntervalsError, "VIDIOC_ENUM_FRAMEINTERVALS"
);

/// Frame interval `index` at one size: discrete, or the shortest of a range.
pub fn enum_frameinterval(
    fd: BorrowedFd<'_>,
    fourcc: u32,
    (width, height): (u32, u32),
    index: u32,
) -> Result<Option<Fract>, EnumFrameIntervalsError> {
    let mut v = FrmIvalEnum {
        index,
        pixel_format: fourcc,
        width,
        height,
        ..FrmIvalEnum::ZERO
    };
    let found = match ioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &mut v) {
        Err(Errno(libc::ENOTTY)) => None,
        other => enumerated(other)?,
    };
    Ok(found.map(|()| v.interval[0]))
}

ioctl_error!(
    /// `VIDIOC_ENUM_DV_TIMINGS`.
    EnumDvTimingsError, "VIDIOC_ENUM_DV_TIMINGS"
);

pub fn enum_dv_timings(
    fd: BorrowedFd<'_>,
    index: u32,
) -> Result<Option<BtTimings>, EnumDvTimingsError> {
    let mut e = EnumDvTimings {
        index,
        ..EnumDvTimings::ZERO
    };
    let found = match ioctl(fd, VIDIOC_ENUM_DV_TIMINGS, &mut e) {
        Err(Errno(libc::ENODATA | libc::ENOTTY)) => None,
        other => enumerated(other)?,
    };
    Ok(found.map(|()| e.timings.bt))
}

ioctl_error!(
    /// `VIDIOC_G_DV_TIMINGS`.
    GDvTimingsError, "VIDIOC_G_DV_TIMINGS",
    ENODATA => NotDigital: "this input has no DV timings"
);

pub fn g_dv_timings(fd: BorrowedFd<'_>) -> Result<BtTimings, GDvTimingsError> {
    let mut t = DvTimings::ZERO;
    ioctl(fd, VIDIOC_G_DV_TIMINGS, &mut t)?;
    Ok(t.bt)
}

ioctl_error!(
    /// `VIDIOC_S_DV_TIMINGS`.
    SDvTimingsError, "VIDIOC_S_DV_TIMINGS",
    EBUSY => Busy: "the device is streaming",
    EINVAL => Unsupported: "the device does not support these timings",
    ENODATA => NotDigital: "this input has no DV timings"
);

pub fn s_dv_timings(fd: BorrowedFd<'_>, bt: BtTimings) -> Result<(), SDvTimingsError> {
    let mut t = DvTimings {
        kind: DV_BT_656_1120,
        bt,
        pad: [0; 4],
    };
    Ok(ioctl(fd, VIDIOC_S_DV_TIMINGS, &mut t)?)
}

ioctl_error!(
    /// `VIDIOC_QUERY_DV_TIMINGS`: what the source sends.
    QueryDvTimingsError, "VIDIOC_QUERY_DV_TIMINGS",
    ENOLINK => NoLink: "no signal",
    ENOLCK => NoLock: "the signal is unstable",
    ERANGE => OutOfRange: "the signal's timings are out of range",
    ENODATA => NotDigital: "this input has no DV timings"
);

pub fn query_dv_timings(fd: BorrowedFd<'_>) -> Result<BtTimings, QueryDvTimingsError> {
    let mut t = DvTimings::ZERO;
    ioctl(fd, VIDIOC_QUERY_DV_TIMINGS, &mut t)?;
    Ok(t.bt)
}

ioctl_error!(
    /// `VIDIOC_ENUMSTD`.
    EnumStdError, "VIDIOC_ENUMSTD"
);

#[derive(Debug)]
pub struct StdInfo {
    pub id: u64,
    pub name: String,
    /// Seconds per frame.
    pub frameperiod: Fract,
    pub framelines: u32,
}

pub fn enum_std(fd: BorrowedFd<'_>, index: u32) -> Result<Option<StdInfo>, EnumStdError> {
    let mut s = Standard {
        index,
        ..Standard::ZERO
    };
    let found = match ioctl(fd, VIDIOC_ENUMSTD, &mut s) {
        Err(Errno(libc::ENODATA | libc::ENOTTY)) => None,
        other => enumerated(other)?,
    };
    Ok(found.map(|()| StdInfo {
        id: s.id,
        name: c_text(&s.name),
        frameperiod: s.frameperiod,
        framelines: s.framelines,
    }))
}

ioctl_error!(
    /// `VIDIOC_G_STD`.
    GStdError, "VIDIOC_G_STD", ENODATA => NotAnalog: "this input has no video standard"
);

pub fn g_std(fd: BorrowedFd<'_>) -> Result<u64, GStdError> {
    let mut id = 0u64;
    ioctl(fd, VIDIOC_G_STD, &mut id)?;
    Ok(id)
}

ioctl_error!(
    /// `VIDIOC_S_STD`.
    SStdError, "VIDIOC_S_STD",
    EBUSY => Busy: "the device is streaming",
    EINVAL => Unsupported: "the device does not support this standard"
);

pub fn s_std(fd: BorrowedFd<'_>, id: u64) -> Result<(), SStdError> {
    let mut id = id;
    Ok(ioctl(fd, VIDIOC_S_STD, &mut id)?)
}

ioctl_error!(
    /// `VIDIOC_REQBUFS`.
    ReqBufsError, "VIDIOC_REQBUFS",
    EBUSY => Busy: "buffers are in use (another process streams from this device)",
    EINVAL => NoMmap: "memory-mapped streaming is not supported"
);

/// Asks for `count` MMAP buffers; returns how many the driver made and
/// its buffer capability flags.
pub fn reqbufs(fd: BorrowedFd<'_>, count: u32) -> Result<(u32, u32), ReqBufsError> {
    let mut r = RequestBuffers {
        count,
        kind: BUF_TYPE_VIDEO_CAPTURE,
        memory: MEMORY_MMAP,
        ..RequestBuffers::ZERO
    };
    ioctl(fd, VIDIOC_REQBUFS, &mut r)?;
    Ok((r.count, r.capabilities))
}

ioctl_error!(
    /// `VIDIOC_QUERYBUF`.
    QueryBufError, "VIDIOC_QUERYBUF", EINVAL => NoSuchBuffer: "no such buffer"
);

/// Where buffer `index` is mapped: (offset, length).
pub fn querybuf(fd: BorrowedFd<'_>, index: u32) -> Result<(u64, usize), QueryBufError> {
    let mut b = capture_buffer(index);
    ioctl(fd, VIDIOC_QUERYBUF, &mut b)?;
    Ok((b.m & 0xffff_ffff, b.length as usize))
}

ioctl_error!(
    /// `VIDIOC_QBUF`.
    QBufError, "VIDIOC_QBUF", EINVAL => Refused: "the buffer was refused (already queued?)"
);

pub fn qbuf(fd: BorrowedFd<'_>, index: u32) -> Result<(), QBufError> {
    let mut b = capture_buffer(index);
    Ok(ioctl(fd, VIDIOC_QBUF, &mut b)?)
}

ioctl_error!(
    /// `VIDIOC_DQBUF`.
    DqBufError, "VIDIOC_DQBUF",
    EPIPE => Ended: "the device stopped streaming",
    ENODEV => Gone: "the device is gone"
);

/// One filled buffer.
#[derive(Debug)]
pub struct Dequeued {
    pub index: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub sequence: u32,
    /// Capture time on `CLOCK_MONOTONIC`, ns (when the driver says so).
    pub timestamp_ns: Option<u64>,
}

/// The next filled buffer, or `None` if none is ready (non-blocking fd).
pub fn dqbuf(fd: BorrowedFd<'_>) -> Result<Option<Dequeued>, DqBufError> {
    let mut b = capture_buffer(0);
    match ioctl(fd, VIDIOC_DQBUF, &mut b) {
        Ok(()) => {}
        Err(Errno(libc::EAGAIN)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let monotonic = b.flags & BUF_FLAG_TIMESTAMP_MASK == BUF_FLAG_TIMESTAMP_MONOTONIC;
    let ts = b.timestamp;
    Ok(Some(Dequeued {
        index: b.index,
        bytesused: b.bytesused,
        flags: b.flags,
        sequence: b.sequence,
        timestamp_ns: monotonic.then(|| ts.sec as u64 * 1_000_000_000 + ts.usec as u64 * 1000),
    }))
}

ioctl_error!(
    /// `VIDIOC_EXPBUF`.
    ExpBufError, "VIDIOC_EXPBUF", ENOTTY => Unsupported: "DMABUF export is not supported"
);

/// Buffer `index` exported as a DMABUF descriptor.
pub fn expbuf(fd: BorrowedFd<'_>, index: u32) -> Result<OwnedFd, ExpBufError> {
    let mut e = ExportBuffer {
        kind: BUF_TYPE_VIDEO_CAPTURE,
        index,
        flags: (libc::O_CLOEXEC | libc::O_RDONLY) as u32,
        ..ExportBuffer::ZERO
    };
    Ok(export_buffer(fd, &mut e)?)
}

ioctl_error!(
    /// `VIDIOC_STREAMON` / `VIDIOC_STREAMOFF`.
    StreamError, "VIDIOC_STREAMON",
    ENOLINK => NoLink: "no signal",
    EBUSY => Busy: "the device is busy"
);

pub fn streamon(fd: BorrowedFd<'_>) -> Result<(), StreamError> {
    let mut t = BUF_TYPE_VIDEO_CAPTURE as i32;
    Ok(ioctl(fd, VIDIOC_STREAMON, &mut t)?)
}

pub fn streamoff(fd: BorrowedFd<'_>) -> Result<(), StreamError> {
    let mut t = BUF_TYPE_VIDEO_CAPTURE as i32;
    Ok(ioctl(fd, VIDIOC_STREAMOFF, &mut t)?)
}

ioctl_error!(
    /// `VIDIOC_QUERYCTRL`.
    QueryCtrlError, "VIDIOC_QUERYCTRL"
);

#[derive(Debug)]
pub struct CtrlInfo {
    pub id: u32,
    pub kind: u32,
    pub name: String,
    pub minimum: i32,
    pub maximum: i32,
    pub default_value: i32,
    pub flags: u32,
}

/// The control after `id` (0 for the first), or `None` after the last.
pub fn queryctrl_next(fd: BorrowedFd<'_>, id: u32) -> Result<Option<CtrlInfo>, QueryCtrlError> {
    let mut q = QueryCtrl {
        id: id | CTRL_FLAG_NEXT_CTRL,
        ..QueryCtrl::ZERO
    };
    Ok(
        enumerated(ioctl(fd, VIDIOC_QUERYCTRL, &mut q))?.map(|()| CtrlInfo {
            id: q.id,
            kind: q.kind,
            name: c_text(&q.name),
            minimum: q.minimum,
            maximum: q.maximum,
            default_value: q.default_value,
            flags: q.flags,
        }),
    )
}

ioctl_error!(
    /// `VIDIOC_G_CTRL` / `VIDIOC_S_CTRL`.
    CtrlError, "VIDIOC_S_CTRL",
    EINVAL => NoSuchControl: "no such control",
    ERANGE => OutOfRange: "the value is out of the control's range",
    EBUSY => Busy: "the control cannot change now",
    EACCES => ReadOnly: "the control is read-only"
);

pub fn g_ctrl(fd: BorrowedFd<'_>, id: u32) -> Result<i32, CtrlError> {
    let mut c = Control { id, value: 0 };
    ioctl(fd, VIDIOC_G_CTRL, &mut c)?;
    Ok(c.value)
}

pub fn s_ctrl(fd: BorrowedFd<'_>, id: u32, value: i32) -> Result<(), CtrlError> {
    let mut c = Control { id, value };
    Ok(ioctl(fd, VIDIOC_S_CTRL, &mut c)?)
}

fn capture_buffer(index: u32) -> Buffer {
    Buffer {
        index,
        kind: BUF_TYPE_VIDEO_CAPTURE,
        memory: MEMORY_MMAP,
        ..Buffer::ZERO
    }
}
