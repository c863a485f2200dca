//! The only code of this driver that talks to the kernel through raw
//! pointers: `ioctl(2)` with a typed request, the mapping of a capture
//! buffer, `poll(2)` and the absolute monotonic clock. Everything above
//! this module is safe Rust.

#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use crate::sys::{Request, Zeroed};

/// An `errno` from a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    pub fn describe(self) -> String {
        std::io::Error::from_raw_os_error(self.0).to_string()
    }
}

/// Runs `request` on `fd` with `arg` in and out, retrying on `EINTR`.
pub fn ioctl<T: Zeroed>(fd: BorrowedFd<'_>, request: Request<T>, arg: &mut T) -> Result<(), Errno> {
    loop {
        // SAFETY: `fd` is an open descriptor for the borrow's length. The
        // request number encodes `size_of::<T>()` (see `sys::Request`), so
        // the kernel reads and writes at most that many bytes, all inside
        // `*arg`, which is exclusively borrowed and lives past the call.
        // `T` is one of the `repr(C)` ABI structures of `sys` (the `Zeroed`
        // bound), laid out as the kernel expects.
        let rc =
            unsafe { libc::ioctl(fd.as_raw_fd(), request.code as libc::c_ulong, arg as *mut T) };
        if rc >= 0 {
            return Ok(());
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

/// A capture buffer mapped into this process (`mmap` of a V4L2 buffer's
/// offset), unmapped on drop.
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value; who may
// read or write it when is decided by the frame pool (one writer or many
// readers), exactly as for heap memory.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` only gives out `&[u8]`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `fd` at `offset`, readable and writable, shared.
    pub fn new(fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping, Errno> {
        if len == 0 {
            return Err(Errno(libc::EINVAL));
        }
        let offset = libc::off_t::try_from(offset).map_err(|_| Errno(libc::EOVERFLOW))?;
        // SAFETY: a new mapping at an address the kernel chooses: it cannot
        // overlap memory Rust already uses. The result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(Errno(libc::EFAULT))?;
        Ok(Mapping { ptr, len })
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` is mapped for as long as `self` lives, and
        // the shared borrow of `self` keeps `bytes_mut` from being called.
        // The device writes only into buffers queued to it, and the frame
        // pool never hands out a slot while its buffer is queued.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes this the only view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped; no slice of it outlives
        // `self` (they borrow it).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
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

/// Takes ownership of a descriptor the kernel just returned (`EXPBUF`).
pub fn own_fd(raw: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: `raw` was created for us by the call that returned it and is
    // owned by nothing else; a negative value is refused.
    (raw >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) })
}

/// The `pix` member of a capture format.
pub fn pix_format(f: &crate::sys::Format) -> crate::sys::PixFormat {
    // SAFETY: the union is always fully initialised (built from zeroed raw
    // words, then written by the kernel), and every bit pattern is a valid
    // `PixFormat` (twelve `u32`s).
    unsafe { f.fmt.pix }
}

/// The `capture` member of stream parameters.
pub fn capture_parm(p: &crate::sys::StreamParmUnion) -> crate::sys::CaptureParm {
    // SAFETY: as for `pix_format`: fully initialised, and `CaptureParm` is
    // all `u32`s.
    unsafe { p.capture }
}
