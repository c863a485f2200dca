//! Opening a hardware device through libavutil, to learn whether FFmpeg
//! can use it. The one module of this crate that calls FFmpeg's C API
//! directly (ffmpeg-next has no safe `av_hwdevice_ctx_create`); it is
//! allow-listed in tests/tidy.
//!
//! The device is created and released at once: nothing here encodes on it.

// The calls below are the only unsafe code in makara-ffvideo.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;

use ff::ffi::{av_buffer_unref, av_hwdevice_ctx_create, AVBufferRef, AVHWDeviceType};
use ff::Dictionary;
use ffmpeg_next as ff;

/// The FFmpeg devices this crate probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// VA-API on the render node itself.
    Vaapi,
    /// Intel oneVPL / Media SDK, over a VA-API child device on the node.
    Qsv,
}

/// Creates an FFmpeg device of `kind` on the DRM render node `node` and
/// releases it; `Err` carries FFmpeg's reason.
pub(crate) fn probe(kind: DeviceKind, node: &Path) -> Result<(), String> {
    let node_c = CString::new(node.as_os_str().as_bytes())
        .map_err(|_| format!("{} contains a NUL byte", node.display()))?;
    // VAAPI opens the node named as the device; QSV names its
    // implementation as the device ("auto": hardware if there is one) and
    // takes the node for its VAAPI child in its options.
    let mut options = Dictionary::new();
    let (device_type, device) = match kind {
        DeviceKind::Vaapi => (AVHWDeviceType::AV_HWDEVICE_TYPE_VAAPI, node_c),
        DeviceKind::Qsv => {
            options.set("child_device", &node.to_string_lossy());
            let auto = CString::new("auto").expect("no NUL in a literal");
            (AVHWDeviceType::AV_HWDEVICE_TYPE_QSV, auto)
        }
    };
    let mut device_ref: *mut AVBufferRef = ptr::null_mut();
    // SAFETY: `device_ref` is a valid place for the out-pointer; `device`
    // is a NUL-terminated string that outlives the call; the options
    // dictionary is owned by `options`, which outlives the call, and
    // av_hwdevice_ctx_create only reads it (it neither frees nor keeps it).
    let code = unsafe {
        av_hwdevice_ctx_create(
            &mut device_ref,
            device_type,
            device.as_ptr(),
            options.as_mut_ptr(),
            0,
        )
    };
    if code < 0 {
        return Err(ff::Error::from(code).to_string());
    }
    // SAFETY: on success `device_ref` is the one reference to the new
    // device, owned by us; av_buffer_unref frees it and nulls the pointer.
    unsafe { av_buffer_unref(&mut device_ref) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The FFI path itself, on a machine without a GPU: the device cannot
    /// be created, and the failure comes back as FFmpeg's reason rather
    /// than a crash or a leak.
    #[test]
    fn a_missing_node_is_an_ffmpeg_error() {
        let missing = Path::new("/nonexistent/dri/renderD128");
        for kind in [DeviceKind::Vaapi, DeviceKind::Qsv] {
            let why = probe(kind, missing).unwrap_err();
            assert!(!why.is_empty(), "{kind:?}");
        }
    }
}
