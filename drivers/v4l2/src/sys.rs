//! The kernel's V4L2 ABI (`linux/videodev2.h`) for the calls this driver
//! makes: structures laid out as the kernel lays them out on 64-bit Linux,
//! request numbers and flags. No `unsafe` here; the tests pin every size the
//! kernel's request numbers encode.
//!
//! Two things here are what `ioctl` relies on, and only this module can
//! make them: a [`Request`] (its number and structure paired by the
//! constants below), and the sealed [`Zeroed`] trait, implemented only for
//! the kernel's structures and integers.

#![allow(dead_code)]
// the ABI is spelled out whole, not only what is read
// Raw mirrors of kernel structures (some are unions): printing them is
// the business of the safe types built from them.
#![allow(missing_debug_implementations)]

use std::marker::PhantomData;

/// `_IOC(dir, 'V', nr, size)`, as `asm-generic/ioctl.h` builds it (x86-64
/// and arm64 both use the generic layout).
const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((b'V' as u64) << 8) | nr
}

/// A request number typed by the structure it carries: the size in the
/// number is that structure's, so a request cannot be made with another.
/// Only this module makes requests (the `VIDIOC_*` constants), and a
/// request cannot be changed once made:
///
/// ```compile_fail,E0616
/// let mut request = makara_v4l2::sys::VIDIOC_G_STD;
/// request.code = 0xc0d0_5605;
/// ```
pub struct Request<T> {
    code: u64,
    arg: PhantomData<fn() -> T>,
}

impl<T> Request<T> {
    /// The request number, as `ioctl(2)` takes it.
    pub const fn code(self) -> u64 {
        self.code
    }
}

impl<T> Clone for Request<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Request<T> {}

impl<T> std::fmt::Debug for Request<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Request({:#x})", self.code)
    }
}

const fn request<T: Zeroed>(dir: u64, nr: u64) -> Request<T> {
    Request {
        code: ioc(dir, nr, std::mem::size_of::<T>()),
        arg: PhantomData,
    }
}
const fn iowr<T: Zeroed>(nr: u64) -> Request<T> {
    request(3, nr)
}
const fn ior<T: Zeroed>(nr: u64) -> Request<T> {
    request(2, nr)
}
const fn iow<T: Zeroed>(nr: u64) -> Request<T> {
    request(1, nr)
}

pub const VIDIOC_QUERYCAP: Request<Capability> = ior(0);
pub const VIDIOC_ENUM_FMT: Request<FmtDesc> = iowr(2);
pub const VIDIOC_G_FMT: Request<Format> = iowr(4);
pub const VIDIOC_S_FMT: Request<Format> = iowr(5);
pub const VIDIOC_REQBUFS: Request<RequestBuffers> = iowr(8);
pub const VIDIOC_QUERYBUF: Request<Buffer> = iowr(9);
pub const VIDIOC_QBUF: Request<Buffer> = iowr(15);
pub const VIDIOC_EXPBUF: Request<ExportBuffer> = iowr(16);
pub const VIDIOC_DQBUF: Request<Buffer> = iowr(17);
pub const VIDIOC_STREAMON: Request<i32> = iow(18);
pub const VIDIOC_STREAMOFF: Request<i32> = iow(19);
pub const VIDIOC_G_PARM: Request<StreamParm> = iowr(21);
pub const VIDIOC_S_PARM: Request<StreamParm> = iowr(22);
pub const VIDIOC_G_STD: Request<u64> = ior(23);
pub const VIDIOC_S_STD: Request<u64> = iow(24);
pub const VIDIOC_ENUMSTD: Request<Standard> = iowr(25);
pub const VIDIOC_ENUMINPUT: Request<Input> = iowr(26);
pub const VIDIOC_G_CTRL: Request<Control> = iowr(27);
pub const VIDIOC_S_CTRL: Request<Control> = iowr(28);
pub const VIDIOC_QUERYCTRL: Request<QueryCtrl> = iowr(36);
pub const VIDIOC_G_INPUT: Request<i32> = ior(38);
pub const VIDIOC_S_INPUT: Request<i32> = iowr(39);
pub const VIDIOC_QUERYSTD: Request<u64> = ior(63);
pub const VIDIOC_ENUM_FRAMESIZES: Request<FrmSizeEnum> = iowr(74);
pub const VIDIOC_ENUM_FRAMEINTERVALS: Request<FrmIvalEnum> = iowr(75);
pub const VIDIOC_S_DV_TIMINGS: Request<DvTimings> = iowr(87);
pub const VIDIOC_G_DV_TIMINGS: Request<DvTimings> = iowr(88);
pub const VIDIOC_ENUM_DV_TIMINGS: Request<EnumDvTimings> = iowr(98);
pub const VIDIOC_QUERY_DV_TIMINGS: Request<DvTimings> = ior(99);

pub const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
pub const MEMORY_MMAP: u32 = 1;
pub const FIELD_ANY: u32 = 0;
pub const FIELD_NONE: u32 = 1;
pub const FIELD_INTERLACED: u32 = 4;

pub const CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
pub const CAP_STREAMING: u32 = 0x0400_0000;
pub const CAP_DEVICE_CAPS: u32 = 0x8000_0000;

pub const INPUT_TYPE_CAMERA: u32 = 2;
pub const IN_CAP_DV_TIMINGS: u32 = 0x2;
pub const IN_CAP_STD: u32 = 0x4;
pub const IN_ST_NO_POWER: u32 = 0x1;
pub const IN_ST_NO_SIGNAL: u32 = 0x2;

pub const BUF_FLAG_ERROR: u32 = 0x40;
pub const BUF_FLAG_TIMESTAMP_MASK: u32 = 0xe000;
pub const BUF_FLAG_TIMESTAMP_MONOTONIC: u32 = 0x2000;
pub const BUF_CAP_SUPPORTS_DMABUF: u32 = 0x4;

pub const FRMSIZE_TYPE_DISCRETE: u32 = 1;
pub const FRMIVAL_TYPE_DISCRETE: u32 = 1;
pub const DV_BT_656_1120: u32 = 0;
pub const CAP_TIMEPERFRAME: u32 = 0x1000;

pub const CTRL_FLAG_NEXT_CTRL: u32 = 0x8000_0000;
pub const CTRL_FLAG_DISABLED: u32 = 0x0001;
pub const CTRL_TYPE_INTEGER: u32 = 1;
pub const CTRL_TYPE_BOOLEAN: u32 = 2;
pub const CTRL_TYPE_MENU: u32 = 3;
pub const CTRL_TYPE_INTEGER_MENU: u32 = 9;

/// `v4l2_fourcc(a, b, c, d)`.
pub const fn fourcc(code: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*code)
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Capability {
    pub driver: [u8; 16],
    pub card: [u8; 32],
    pub bus_info: [u8; 32],
    pub version: u32,
    pub capabilities: u32,
    pub device_caps: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Input {
    pub index: u32,
    pub name: [u8; 32],
    pub kind: u32,
    pub audioset: u32,
    pub tuner: u32,
    pub std: u64,
    pub status: u32,
    pub capabilities: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct FmtDesc {
    pub index: u32,
    pub kind: u32,
    pub flags: u32,
    pub description: [u8; 32],
    pub pixelformat: u32,
    pub mbus_code: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PixFormat {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
    pub private: u32,
    pub flags: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

/// `struct v4l2_format`: the union holds pointers (`v4l2_window`), so it
/// starts at offset 8 and is 200 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Format {
    pub kind: u32,
    pub fmt: FormatUnion,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union FormatUnion {
    pub pix: PixFormat,
    pub raw: [u64; 25],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct RequestBuffers {
    pub count: u32,
    pub kind: u32,
    pub memory: u32,
    pub capabilities: u32,
    pub flags: u8,
    pub reserved: [u8; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Timecode {
    pub kind: u32,
    pub flags: u32,
    pub frames: u8,
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub userbits: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Buffer {
    pub index: u32,
    pub kind: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: Timeval,
    pub timecode: Timecode,
    pub sequence: u32,
    pub memory: u32,
    /// `m.offset` for MMAP buffers (the union is pointer-sized).
    pub m: u64,
    pub length: u32,
    pub reserved2: u32,
    pub request_fd: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExportBuffer {
    pub kind: u32,
    pub index: u32,
    pub plane: u32,
    pub flags: u32,
    pub fd: i32,
    pub reserved: [u32; 11],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fract {
    pub numerator: u32,
    pub denominator: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct CaptureParm {
    pub capability: u32,
    pub capturemode: u32,
    pub timeperframe: Fract,
    pub extendedmode: u32,
    pub readbuffers: u32,
    pub reserved: [u32; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct StreamParm {
    pub kind: u32,
    pub parm: StreamParmUnion,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union StreamParmUnion {
    pub capture: CaptureParm,
    pub raw: [u8; 200],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Standard {
    pub index: u32,
    pub id: u64,
    pub name: [u8; 24],
    pub frameperiod: Fract,
    pub framelines: u32,
    pub reserved: [u32; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Control {
    pub id: u32,
    pub value: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct QueryCtrl {
    pub id: u32,
    pub kind: u32,
    pub name: [u8; 32],
    pub minimum: i32,
    pub maximum: i32,
    pub step: i32,
    pub default_value: i32,
    pub flags: u32,
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct FrmSizeEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub kind: u32,
    /// Discrete: width, height. Stepwise: min/max/step of each.
    pub size: [u32; 6],
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct FrmIvalEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub width: u32,
    pub height: u32,
    pub kind: u32,
    /// Discrete: one fraction. Stepwise: min, max, step.
    pub interval: [Fract; 3],
    pub reserved: [u32; 2],
}

/// `struct v4l2_bt_timings`, packed as the kernel declares it.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct BtTimings {
    pub width: u32,
    pub height: u32,
    pub interlaced: u32,
    pub polarities: u32,
    pub pixelclock: u64,
    pub hfrontporch: u32,
    pub hsync: u32,
    pub hbackporch: u32,
    pub vfrontporch: u32,
    pub vsync: u32,
    pub vbackporch: u32,
    pub il_vfrontporch: u32,
    pub il_vsync: u32,
    pub il_vbackporch: u32,
    pub standards: u32,
    pub flags: u32,
    pub picture_aspect: Fract,
    pub cea861_vic: u8,
    pub hdmi_vic: u8,
    pub reserved: [u8; 46],
}

/// `struct v4l2_dv_timings`: a type and a 128-byte union, packed.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct DvTimings {
    pub kind: u32,
    pub bt: BtTimings,
    pub pad: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct EnumDvTimings {
    pub index: u32,
    pub pad: u32,
    pub reserved: [u32; 2],
    pub timings: DvTimings,
}

/// A structure of the kernel's ABI, or an integer argument: `repr(C)` and
/// made of integers only (arrays, unions and packed structures of them), so
/// every bit pattern the kernel may write is a valid value. `ZERO` is the
/// all-zero value, as the kernel wants unused fields.
///
/// Sealed: only this module implements it, for the types above. A type
/// with pointers, references or enums cannot be one:
///
/// ```compile_fail,E0277
/// struct Pointer(&'static u8);
/// impl makara_v4l2::sys::Zeroed for Pointer {
///     const ZERO: Self = Pointer(&0);
/// }
/// ```
pub trait Zeroed: Sized + sealed::Abi {
    const ZERO: Self;

    /// Whether the kernel, given this value, touches no memory beyond it.
    /// Some structures can name other memory, depending on a field: a
    /// multi-planar or user-pointer `Buffer` (the kernel follows
    /// `m.planes` / `m.userptr`), an overlay `Format` (its clip list). This
    /// driver uses single-planar capture with MMAP buffers only, and
    /// `ioctl` refuses any other value before the kernel sees it.
    fn is_self_contained(&self) -> bool {
        true
    }
}

mod sealed {
    /// Unnameable outside `sys`, so no other module can implement `Zeroed`.
    pub trait Abi {}
}

macro_rules! zeroed {
    ($($t:ty = $v:expr;)*) => {$(
        impl sealed::Abi for $t {}
        impl Zeroed for $t { const ZERO: Self = $v; }
    )*};
}

/// The structures that can name other memory, and the one value of each
/// that does not: single-planar capture, MMAP buffers.
macro_rules! zeroed_if {
    ($($t:ty = $v:expr, if |$arg:ident| $check:expr;)*) => {$(
        impl sealed::Abi for $t {}
        impl Zeroed for $t {
            const ZERO: Self = $v;
            fn is_self_contained(&self) -> bool {
                let $arg = self;
                $check
            }
        }
    )*};
}

const FRACT0: Fract = Fract {
    numerator: 0,
    denominator: 0,
};
const PIX0: PixFormat = PixFormat {
    width: 0,
    height: 0,
    pixelformat: 0,
    field: 0,
    bytesperline: 0,
    sizeimage: 0,
    colorspace: 0,
    private: 0,
    flags: 0,
    ycbcr_enc: 0,
    quantization: 0,
    xfer_func: 0,
};
const BT0: BtTimings = BtTimings {
    width: 0,
    height: 0,
    interlaced: 0,
    polarities: 0,
    pixelclock: 0,
    hfrontporch: 0,
    hsync: 0,
    hbackporch: 0,
    vfrontporch: 0,
    vsync: 0,
    vbackporch: 0,
    il_vfrontporch: 0,
    il_vsync: 0,
    il_vbackporch: 0,
    standards: 0,
    flags: 0,
    picture_aspect: FRACT0,
    cea861_vic: 0,
    hdmi_vic: 0,
    reserved: [0; 46],
};

zeroed! {
    Capability = Capability { driver: [0; 16], card: [0; 32], bus_info: [0; 32], version: 0,
        capabilities: 0, device_caps: 0, reserved: [0; 3] };
    Input = Input { index: 0, name: [0; 32], kind: 0, audioset: 0, tuner: 0, std: 0, status: 0,
        capabilities: 0, reserved: [0; 3] };
    FmtDesc = FmtDesc { index: 0, kind: 0, flags: 0, description: [0; 32], pixelformat: 0,
        mbus_code: 0, reserved: [0; 3] };
    ExportBuffer = ExportBuffer { kind: 0, index: 0, plane: 0, flags: 0, fd: 0, reserved: [0; 11] };
    StreamParm = StreamParm { kind: 0, parm: StreamParmUnion { raw: [0; 200] } };
    Standard = Standard { index: 0, id: 0, name: [0; 24], frameperiod: FRACT0, framelines: 0,
        reserved: [0; 4] };
    Control = Control { id: 0, value: 0 };
    QueryCtrl = QueryCtrl { id: 0, kind: 0, name: [0; 32], minimum: 0, maximum: 0, step: 0,
        default_value: 0, flags: 0, reserved: [0; 2] };
    FrmSizeEnum = FrmSizeEnum { index: 0, pixel_format: 0, kind: 0, size: [0; 6], reserved: [0; 2] };
    FrmIvalEnum = FrmIvalEnum { index: 0, pixel_format: 0, width: 0, height: 0, kind: 0,
        interval: [FRACT0; 3], reserved: [0; 2] };
    DvTimings = DvTimings { kind: 0, bt: BT0, pad: [0; 4] };
    EnumDvTimings = EnumDvTimings { index: 0, pad: 0, reserved: [0; 2],
        timings: DvTimings { kind: 0, bt: BT0, pad: [0; 4] } };
    PixFormat = PIX0;
    BtTimings = BT0;
    i32 = 0;
    u64 = 0;
}

zeroed_if! {
    Format = Format { kind: 0, fmt: FormatUnion { raw: [0; 25] } },
        if |f| f.kind == BUF_TYPE_VIDEO_CAPTURE;
    RequestBuffers = RequestBuffers { count: 0, kind: 0, memory: 0, capabilities: 0, flags: 0,
        reserved: [0; 3] },
        if |r| r.kind == BUF_TYPE_VIDEO_CAPTURE && r.memory == MEMORY_MMAP;
    Buffer = Buffer { index: 0, kind: 0, bytesused: 0, flags: 0, field: 0,
        timestamp: Timeval { sec: 0, usec: 0 },
        timecode: Timecode { kind: 0, flags: 0, frames: 0, seconds: 0, minutes: 0, hours: 0,
            userbits: [0; 4] },
        sequence: 0, memory: 0, m: 0, length: 0, reserved2: 0, request_fd: 0 },
        if |b| b.kind == BUF_TYPE_VIDEO_CAPTURE && b.memory == MEMORY_MMAP;
}

#[cfg(test)]
mod tests {
    use std::mem::{offset_of, size_of};

    use super::*;

    /// Sizes from `pahole` of the 6.1 kernel's structures (64-bit); each one
    /// is part of its request number, so a wrong one is a wrong ioctl.
    #[test]
    fn structures_have_the_kernels_sizes() {
        assert_eq!(size_of::<Capability>(), 104);
        assert_eq!(size_of::<Input>(), 80);
        assert_eq!(size_of::<FmtDesc>(), 64);
        assert_eq!(size_of::<PixFormat>(), 48);
        assert_eq!(size_of::<Format>(), 208);
        assert_eq!(offset_of!(Format, fmt), 8);
        assert_eq!(size_of::<RequestBuffers>(), 20);
        assert_eq!(size_of::<Buffer>(), 88);
        assert_eq!(offset_of!(Buffer, timestamp), 24);
        assert_eq!(offset_of!(Buffer, sequence), 56);
        assert_eq!(offset_of!(Buffer, m), 64);
        assert_eq!(offset_of!(Buffer, length), 72);
        assert_eq!(size_of::<ExportBuffer>(), 64);
        assert_eq!(size_of::<StreamParm>(), 204);
        assert_eq!(size_of::<Standard>(), 72);
        assert_eq!(offset_of!(Standard, id), 8);
        assert_eq!(size_of::<QueryCtrl>(), 68);
        assert_eq!(size_of::<FrmSizeEnum>(), 44);
        assert_eq!(size_of::<FrmIvalEnum>(), 52);
        assert_eq!(size_of::<BtTimings>(), 124);
        assert_eq!(size_of::<DvTimings>(), 132);
        assert_eq!(size_of::<EnumDvTimings>(), 148);
    }

    /// Request numbers as `videodev2.h` expands them on x86-64 and arm64.
    #[test]
    fn request_numbers_match_the_headers() {
        assert_eq!(VIDIOC_QUERYCAP.code(), 0x8068_5600);
        assert_eq!(VIDIOC_S_FMT.code(), 0xc0d0_5605);
        assert_eq!(VIDIOC_REQBUFS.code(), 0xc014_5608);
        assert_eq!(VIDIOC_QBUF.code(), 0xc058_560f);
        assert_eq!(VIDIOC_DQBUF.code(), 0xc058_5611);
        assert_eq!(VIDIOC_STREAMON.code(), 0x4004_5612);
        assert_eq!(VIDIOC_S_INPUT.code(), 0xc004_5627);
        assert_eq!(VIDIOC_S_DV_TIMINGS.code(), 0xc084_5657);
        assert_eq!(VIDIOC_ENUM_DV_TIMINGS.code(), 0xc094_5662);
        assert_eq!(VIDIOC_QUERY_DV_TIMINGS.code(), 0x8084_5663);
        assert_eq!(VIDIOC_ENUMSTD.code(), 0xc048_5619);
        assert_eq!(VIDIOC_QUERYCTRL.code(), 0xc044_5624);
    }

    #[test]
    fn fourcc_is_little_endian() {
        assert_eq!(fourcc(b"YUYV"), 0x5659_5559);
    }
}
