//! Calls into the kernel through raw pointers: `ioctl(2)` with a typed
//! request, the export of a buffer as a descriptor, `poll(2)` and the
//! absolute monotonic clock, and reading the unions of `sys`. With
//! `buffers` (the mapping of capture buffers), the only `unsafe` code of
//! this driver. No function here leaves a precondition to its caller: what
//! each `unsafe` block relies on is made true by the types of `sys` or by
//! this module.

#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::sys::{
    CaptureParm, ExportBuffer, Format, PixFormat, Request, StreamParmUnion, Zeroed, VIDIOC_EXPBUF,
};

/// An `errno` from a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub(crate) fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    pub fn describe(self) -> String {
        std::io::Error::from_raw_os_error(self.0).to_string()
    }
}

/// Runs `request` on `fd` with `arg` in and out, retrying on `EINTR`.
/// `EINVAL` without a call if `arg` would make the kernel touch memory
/// beyond it ([`Zeroed::is_self_contained`]).
pub fn ioctl<T: Zeroed>(fd: BorrowedFd<'_>, request: Request<T>, arg: &mut T) -> Result<(), Errno> {
    if !arg.is_self_contained() {
        return Err(Errno(libc::EINVAL));
    }
    loop {
        // SAFETY: `fd` is an open descriptor for the borrow's length. Only
        // `sys` makes a `Request<T>`, and it encodes `size_of::<T>()` in the
        // number as `_IOC` does. V4L2 copies exactly that many bytes in and
        // out (and these numbers are V4L2's in the kernel's registry; a
        // driver that does not know one fails with ENOTTY), all inside
        // `*arg`, which is exclusively borrowed and lives past the call;
        // and `arg` names no other memory (checked above). `T` is
        // one of `sys`'s `repr(C)` ABI structures or integers (`Zeroed` is
        // sealed there), laid out as the kernel expects and valid for every
        // bit pattern the kernel may write.
        let rc = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                request.code() as libc::c_ulong,
                arg as *mut T,
            )
        };
        if rc >= 0 {
            return Ok(());
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

/// Exports capture buffer `arg.index` as a DMABUF descriptor
/// (`VIDIOC_EXPBUF`), owned by the caller from here on.
pub fn export_buffer(fd: BorrowedFd<'_>, arg: &mut ExportBuffer) -> Result<OwnedFd, Errno> {
    ioctl(fd, VIDIOC_EXPBUF, arg)?;
    if arg.fd < 0 {
        return Err(Errno(libc::EBADF));
    }
    // SAFETY: `VIDIOC_EXPBUF` succeeded just now, so `arg.fd` is a new
    // descriptor the kernel made for this call; nothing else has seen it,
    // so this is its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(arg.fd) })
}

/// Waits up to `timeout_ms` for `fd` to have a buffer ready. `Ok(false)` on
/// timeout; `Err` also when the device reports an error (`POLLERR`, e.g.
/// after it was unplugged or stopped streaming).
pub fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> Result<bool, Errno> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN | libc::POLLPRI,
        revents: 0,
    };
    loop {
        // SAFETY: one valid `pollfd`, exclusively borrowed for the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if rc >= 0 {
            if pfd.revents & libc::POLLERR != 0 {
                return Err(Errno(libc::EIO));
            }
            return Ok(rc > 0 && pfd.revents & libc::POLLIN != 0);
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds since boot: the clock V4L2 stamps
/// buffers with.
pub fn clock_monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one `timespec` we own; CLOCK_MONOTONIC always exists.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// The `pix` member of a capture format.
pub fn pix_format(f: &Format) -> PixFormat {
    // SAFETY: safe code can only make a `FormatUnion` through one of its two
    // members, and either one initialises the 48 bytes `pix` reads: `pix`
    // is those bytes, `raw` covers all 200. Every bit pattern of them is a
    // valid `PixFormat` (twelve `u32`s).
    unsafe { f.fmt.pix }
}

/// The `capture` member of stream parameters.
pub fn capture_parm(p: &StreamParmUnion) -> CaptureParm {
    // SAFETY: as for `pix_format`: `capture` (40 bytes) and `raw` (200)
    // both initialise the bytes `capture` reads, and `CaptureParm` is all
    // `u32`s.
    unsafe { p.capture }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;
    use crate::sys::*;

    const VIDEO_CAPTURE_MPLANE: u32 = 9;
    const VIDEO_OVERLAY: u32 = 3;
    const MEMORY_USERPTR: u32 = 2;

    fn refused<T: Zeroed>(request: Request<T>, mut arg: T) -> Result<(), Errno> {
        let null = std::fs::File::open("/dev/null").unwrap();
        ioctl(null.as_fd(), request, &mut arg)
    }

    #[test]
    fn an_argument_the_kernel_would_follow_out_of_is_refused() {
        let mplane = Buffer {
            kind: VIDEO_CAPTURE_MPLANE,
            memory: MEMORY_MMAP,
            ..Buffer::ZERO
        };
        assert_eq!(refused(VIDIOC_QBUF, mplane), Err(Errno(libc::EINVAL)));
        let userptr = Buffer {
            kind: BUF_TYPE_VIDEO_CAPTURE,
            memory: MEMORY_USERPTR,
            ..Buffer::ZERO
        };
        assert_eq!(refused(VIDIOC_QBUF, userptr), Err(Errno(libc::EINVAL)));
        let overlay = Format {
            kind: VIDEO_OVERLAY,
            ..Format::ZERO
        };
        assert_eq!(refused(VIDIOC_S_FMT, overlay), Err(Errno(libc::EINVAL)));
        let reqbufs = RequestBuffers {
            kind: BUF_TYPE_VIDEO_CAPTURE,
            memory: MEMORY_USERPTR,
            ..RequestBuffers::ZERO
        };
        assert_eq!(refused(VIDIOC_REQBUFS, reqbufs), Err(Errno(libc::EINVAL)));
        // A self-contained argument reaches the kernel, and /dev/null is no V4L2 device.
        let mmap = Buffer {
            kind: BUF_TYPE_VIDEO_CAPTURE,
            memory: MEMORY_MMAP,
            ..Buffer::ZERO
        };
        assert_eq!(refused(VIDIOC_QBUF, mmap), Err(Errno(libc::ENOTTY)));
    }
}
