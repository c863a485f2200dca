//! An open V4L2 device node.

use std::fs::OpenOptions;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use crate::calls::{self, Caps, InputInfo};
use crate::sys::{CAP_STREAMING, CAP_VIDEO_CAPTURE};

/// A device node opened for capture, non-blocking: waiting is `poll`'s job.
#[derive(Debug)]
pub struct Device {
    fd: OwnedFd,
    path: String,
}

impl Device {
    pub fn open(path: &str) -> std::io::Result<Device> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Device {
            fd: file.into(),
            path: path.to_string(),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The node's capabilities, if it is a V4L2 node at all.
    pub fn caps(&self) -> Result<Caps, calls::QueryCapError> {
        calls::query_cap(self.fd())
    }

    /// Whether the node captures video by streaming I/O (a metadata or
    /// output node of the same device does not).
    pub fn is_streaming_capture(&self) -> bool {
        self.caps().is_ok_and(|c| {
            c.device_caps & CAP_VIDEO_CAPTURE != 0 && c.device_caps & CAP_STREAMING != 0
        })
    }

    pub fn inputs(&self) -> Result<Vec<InputInfo>, calls::EnumInputError> {
        let mut inputs = Vec::new();
        while let Some(i) = calls::enum_input(self.fd(), inputs.len() as u32)? {
            inputs.push(i);
        }
        Ok(inputs)
    }

    /// The capture pixel formats offered, as fourcc codes.
    pub fn formats(&self) -> Result<Vec<u32>, calls::EnumFmtError> {
        let mut formats = Vec::new();
        while let Some(f) = calls::enum_fmt(self.fd(), formats.len() as u32)? {
            formats.push(f);
        }
        Ok(formats)
    }
}

/// A fourcc code as text, e.g. `YUYV`.
pub fn fourcc_text(code: u32) -> String {
    code.to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}
