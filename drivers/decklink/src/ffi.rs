//! Every call into the C++ shim (`shim/makara_decklink.h`), behind owning
//! types and a safe API.
//!
//! This is the crate's only module with `unsafe` code, with its two
//! submodules: `input` (a running capture and its callbacks) and `buffers`
//! (the pool slots the card captures into). The crate root denies it
//! everywhere else, and `tests/tidy` allow-lists these three files. The
//! rule here: every safe function is sound for any arguments.
//!
//! - The shim's handles ([`Library`], [`DeviceList`]) are owned: each is
//!   made only from a non-null pointer a successful call returned, freed
//!   once, on drop, and never handed out.
//! - What the shim returns through pointers (device and mode records, their
//!   strings) lives inside a [`DeviceList`] and is copied into Rust values
//!   while the list is borrowed, so nothing outlives it.
//! - Failure messages are written into a zeroed buffer whose length the
//!   shim is told, so they are NUL-terminated whatever the shim writes.
//! - The shim catches every C++ exception; none unwinds into Rust.
//!
//! The one thing taken on trust, as with any C library: that the library
//! [`Library::open`] loads is what its exported entry point
//! (`CreateDeckLinkIteratorInstance_0003`) says it is, a DeckLink API
//! implementing the SDK 10.9.12 interfaces (Blackmagic's driver or the
//! tests' fake, built from the same headers), which keeps their contracts:
//! a frame's bytes and audio packet are what their getters say while the
//! callback runs, and a buffer it allocated is written only until the
//! frame in it is delivered.

#![allow(unsafe_code)]

mod buffers;
mod input;

pub(crate) use buffers::CardBuffers;
pub(crate) use input::{Input, InputRequest, InputSink, RawFormat, RawFrame, RawPicture, RawSound};

use std::ffi::{c_char, CStr};
use std::ptr::{self, NonNull};

/// `mkdl_api`: the opened library (opaque).
#[repr(C)]
struct MkdlApi {
    _opaque: [u8; 0],
}

/// `mkdl_devices`: a snapshot of the devices (opaque).
#[repr(C)]
struct MkdlDevices {
    _opaque: [u8; 0],
}

/// `mkdl_device_info`.
#[repr(C)]
struct DeviceInfo {
    model_name: *const c_char,
    display_name: *const c_char,
    has_input: i32,
    input_connections: u32,
    detects_input_format: i32,
    max_audio_channels: i64,
    mode_count: usize,
}

/// `mkdl_mode_info`.
#[repr(C)]
struct ModeInfo {
    name: *const c_char,
    code: u32,
    width: i64,
    height: i64,
    frame_duration: i64,
    time_scale: i64,
    field_dominance: u32,
}

// `enum mkdl_status`.
const MKDL_OK: i32 = 0;
const MKDL_LOAD_FAILED: i32 = 1;
const MKDL_NO_ENTRY_POINT: i32 = 2;
const MKDL_NO_ITERATOR: i32 = 3;
const MKDL_CALL_FAILED: i32 = 4;
const MKDL_EXCEPTION: i32 = 5;

extern "C" {
    fn mkdl_open(
        library: *const c_char,
        api: *mut *mut MkdlApi,
        message: *mut c_char,
        message_len: usize,
    ) -> i32;
    fn mkdl_close(api: *mut MkdlApi);
    fn mkdl_enumerate(
        api: *const MkdlApi,
        devices: *mut *mut MkdlDevices,
        message: *mut c_char,
        message_len: usize,
    ) -> i32;
    fn mkdl_device_count(devices: *const MkdlDevices) -> usize;
    fn mkdl_device(devices: *const MkdlDevices, index: usize) -> *const DeviceInfo;
    fn mkdl_mode(devices: *const MkdlDevices, device: usize, mode: usize) -> *const ModeInfo;
    fn mkdl_devices_free(devices: *mut MkdlDevices);
}

/// Why a shim call failed (`enum mkdl_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    LoadFailed,
    NoEntryPoint,
    NoIterator,
    CallFailed,
    Exception,
    /// A status this module does not know: the shim and `ffi.rs` disagree.
    Unknown(i32),
}

impl Status {
    fn from_raw(raw: i32) -> Status {
        match raw {
            MKDL_LOAD_FAILED => Status::LoadFailed,
            MKDL_NO_ENTRY_POINT => Status::NoEntryPoint,
            MKDL_NO_ITERATOR => Status::NoIterator,
            MKDL_CALL_FAILED => Status::CallFailed,
            MKDL_EXCEPTION => Status::Exception,
            other => Status::Unknown(other),
        }
    }
}

/// A failed shim call: its status and the shim's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: Status,
    pub(crate) message: String,
}

/// Room for the shim's failure messages (dlerror's are the longest:
/// a path and a reason).
const MESSAGE_LEN: usize = 1024;

fn failure(raw: i32, message: &[u8; MESSAGE_LEN]) -> Failure {
    let text = CStr::from_bytes_until_nul(message)
        .map(|m| m.to_string_lossy().into_owned())
        .unwrap_or_default();
    Failure {
        status: Status::from_raw(raw),
        message: text,
    }
}

/// A device as the shim reported it, before the crate checks its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawDevice {
    pub(crate) model_name: String,
    pub(crate) display_name: String,
    pub(crate) has_input: bool,
    pub(crate) input_connections: u32,
    pub(crate) detects_input_format: bool,
    pub(crate) max_audio_channels: i64,
    pub(crate) modes: Vec<RawMode>,
}

/// A display mode as the shim reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawMode {
    pub(crate) name: String,
    pub(crate) code: u32,
    pub(crate) width: i64,
    pub(crate) height: i64,
    pub(crate) frame_duration: i64,
    pub(crate) time_scale: i64,
    pub(crate) field_dominance: u32,
}

/// The DeckLink API library, opened through the shim's dispatch.
#[derive(Debug)]
pub(crate) struct Library(NonNull<MkdlApi>);

// SAFETY: the shim's `mkdl_api` holds only the entry point's address,
// written once by `mkdl_open` and read-only afterwards, and each call made
// through it (enumeration, opening an input) builds its own SDK objects:
// nothing is shared between threads but that immutable pointer.
unsafe impl Send for Library {}
// SAFETY: as above; `&Library` gives no way to change it.
unsafe impl Sync for Library {}

impl Library {
    /// dlopens `library` (a path, or a name the loader searches for) and
    /// finds its iterator entry point.
    pub(crate) fn open(library: &CStr) -> Result<Library, Failure> {
        let mut api: *mut MkdlApi = ptr::null_mut();
        let mut message = [0u8; MESSAGE_LEN];
        // SAFETY: `library` is a NUL-terminated string, `api` a live
        // out-pointer and `message` a buffer of the length passed; the shim
        // keeps none of them after it returns.
        let raw = unsafe {
            mkdl_open(
                library.as_ptr(),
                &mut api,
                message.as_mut_ptr().cast(),
                MESSAGE_LEN - 1,
            )
        };
        match (raw, NonNull::new(api)) {
            (MKDL_OK, Some(api)) => Ok(Library(api)),
            (MKDL_OK, None) => Err(Failure {
                status: Status::Unknown(MKDL_OK),
                message: "mkdl_open succeeded without a handle".to_owned(),
            }),
            (raw, _) => Err(failure(raw, &message)),
        }
    }

    /// Every device the library reports, copied out of the SDK's objects.
    pub(crate) fn enumerate(&self) -> Result<Vec<RawDevice>, Failure> {
        let mut devices: *mut MkdlDevices = ptr::null_mut();
        let mut message = [0u8; MESSAGE_LEN];
        // SAFETY: `self.0` came from a successful `mkdl_open` and is freed
        // only when `self` drops; `devices` is a live out-pointer and
        // `message` a buffer of the length passed.
        let raw = unsafe {
            mkdl_enumerate(
                self.0.as_ptr(),
                &mut devices,
                message.as_mut_ptr().cast(),
                MESSAGE_LEN - 1,
            )
        };
        match (raw, NonNull::new(devices)) {
            (MKDL_OK, Some(list)) => Ok(DeviceList(list).read()),
            (MKDL_OK, None) => Err(Failure {
                status: Status::Unknown(MKDL_OK),
                message: "mkdl_enumerate succeeded without a list".to_owned(),
            }),
            (raw, _) => Err(failure(raw, &message)),
        }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from a successful `mkdl_open` and this is
        // the only place it is freed.
        unsafe { mkdl_close(self.0.as_ptr()) }
    }
}

/// A shim's device snapshot, freed on drop.
struct DeviceList(NonNull<MkdlDevices>);

impl DeviceList {
    fn read(&self) -> Vec<RawDevice> {
        // SAFETY: `self.0` is a live list from a successful `mkdl_enumerate`.
        let count = unsafe { mkdl_device_count(self.0.as_ptr()) };
        (0..count).filter_map(|i| self.device(i)).collect()
    }

    fn device(&self, index: usize) -> Option<RawDevice> {
        // SAFETY: `self.0` is a live list; the shim checks `index` and
        // returns null when it is out of range.
        let info = unsafe { mkdl_device(self.0.as_ptr(), index) };
        // SAFETY: a non-null record points into the list, which `self`
        // keeps alive for this borrow; it is only read.
        let info = unsafe { info.as_ref() }?;
        let modes = (0..info.mode_count)
            .filter_map(|m| self.mode(index, m))
            .collect();
        Some(RawDevice {
            // SAFETY: the record's strings live in the list (see `copy_text`).
            model_name: unsafe { copy_text(info.model_name) },
            // SAFETY: as above.
            display_name: unsafe { copy_text(info.display_name) },
            has_input: info.has_input != 0,
            input_connections: info.input_connections,
            detects_input_format: info.detects_input_format != 0,
            max_audio_channels: info.max_audio_channels,
            modes,
        })
    }

    fn mode(&self, device: usize, mode: usize) -> Option<RawMode> {
        // SAFETY: `self.0` is a live list; the shim checks both indices and
        // returns null when either is out of range.
        let info = unsafe { mkdl_mode(self.0.as_ptr(), device, mode) };
        // SAFETY: as for device records: points into the live list.
        let info = unsafe { info.as_ref() }?;
        Some(RawMode {
            // SAFETY: the record's string lives in the list (see `copy_text`).
            name: unsafe { copy_text(info.name) },
            code: info.code,
            width: info.width,
            height: info.height,
            frame_duration: info.frame_duration,
            time_scale: info.time_scale,
            field_dominance: info.field_dominance,
        })
    }
}

/// Copies a string of the shim's records (null reads as empty).
///
/// # Safety
///
/// `text` is null or a NUL-terminated string that stays alive and
/// unchanged during the call: a record string of a [`DeviceList`] the
/// caller borrows.
unsafe fn copy_text(text: *const c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    // SAFETY: the caller promises a live NUL-terminated string.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

impl Drop for DeviceList {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from a successful `mkdl_enumerate` and this
        // is the only place it is freed.
        unsafe { mkdl_devices_free(self.0.as_ptr()) }
    }
}
