//! Every call into the C++ shim (`shim/makara_decklink.h`), behind owning
//! types and a safe API.
//!
//! This is the crate's only module with `unsafe` code (the crate root
//! denies it everywhere else, and `tests/tidy` allow-lists this file). The
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
//! tests' fake, built from the same headers).

#![allow(unsafe_code)]

use std::ffi::{c_char, c_void, CStr};
use std::ptr::{self, NonNull};
use std::sync::Mutex;

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

// ---- Capture ----------------------------------------------------------

/// `mkdl_input`: a running capture (opaque).
#[repr(C)]
struct MkdlInput {
    _opaque: [u8; 0],
}

/// `mkdl_frame`.
#[repr(C)]
struct MkdlFrame {
    has_video: i32,
    bytes: *const u8,
    row_bytes: i64,
    width: i64,
    height: i64,
    pixel_format: u32,
    no_signal: i32,
    stream_time: i64,
    stream_duration: i64,
    time_scale: i64,
    has_timecode: i32,
    timecode_bcd: u32,
    audio: *const i32,
    audio_frames: i64,
    audio_channels: i32,
    audio_time: i64,
}

/// `mkdl_format`.
#[repr(C)]
struct MkdlFormat {
    mode_code: u32,
    width: i64,
    height: i64,
    frame_duration: i64,
    time_scale: i64,
    field_dominance: u32,
    pixel_format: u32,
}

/// `mkdl_callbacks`.
#[repr(C)]
struct MkdlCallbacks {
    context: *mut c_void,
    frame: extern "C" fn(*mut c_void, *const MkdlFrame),
    format_changed: extern "C" fn(*mut c_void, *const MkdlFormat),
}

extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn mkdl_input_open(
        api: *const MkdlApi,
        device: usize,
        mode_code: u32,
        pixel_format: u32,
        detect_format: i32,
        audio_channels: u32,
        callbacks: *const MkdlCallbacks,
        input: *mut *mut MkdlInput,
        message: *mut c_char,
        message_len: usize,
    ) -> i32;
    fn mkdl_input_close(input: *mut MkdlInput);
}

/// One delivery of the driver, borrowed for the length of the callback.
#[derive(Debug)]
pub(crate) struct RawFrame<'a> {
    pub(crate) picture: Option<RawPicture<'a>>,
    /// The frame's time since the streams started, in units of
    /// `time_scale`.
    pub(crate) stream_time: i64,
    pub(crate) time_scale: i64,
    pub(crate) timecode_bcd: Option<u32>,
    pub(crate) sound: Option<RawSound<'a>>,
}

/// A picture as the driver lays it out.
#[derive(Debug)]
pub(crate) struct RawPicture<'a> {
    /// `height` rows of `row_bytes`.
    pub(crate) bytes: &'a [u8],
    pub(crate) row_bytes: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) pixel_format: u32,
    pub(crate) no_signal: bool,
}

/// Interleaved 32-bit samples of `channels` channels at 48 kHz.
#[derive(Debug)]
pub(crate) struct RawSound<'a> {
    pub(crate) samples: &'a [i32],
    pub(crate) channels: usize,
    /// The first sample's time, in the frame's `time_scale`.
    pub(crate) time: i64,
}

/// A format the card switched to (the shim already follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawFormat {
    pub(crate) mode_code: u32,
    pub(crate) width: i64,
    pub(crate) height: i64,
    pub(crate) frame_duration: i64,
    pub(crate) time_scale: i64,
    pub(crate) field_dominance: u32,
    pub(crate) pixel_format: u32,
}

/// What receives a capture's deliveries, on the driver's thread.
pub(crate) trait InputSink: Send {
    fn frame(&mut self, frame: &RawFrame<'_>);
    fn format_changed(&mut self, format: RawFormat);
}

/// What a capture is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputRequest {
    pub(crate) device: usize,
    pub(crate) mode_code: u32,
    pub(crate) pixel_format: u32,
    pub(crate) detect_format: bool,
    pub(crate) audio_channels: u32,
}

/// The context the callbacks get: the sink behind a lock, so that a
/// driver calling from several threads at once still gets one call at a
/// time.
type Context = Mutex<Box<dyn InputSink>>;

/// A running capture. Dropping it closes the input, after which no
/// callback runs, and only then frees the sink.
pub(crate) struct Input {
    raw: NonNull<MkdlInput>,
    /// Made by `Box::into_raw` in `open`; freed in `drop` after the close.
    context: NonNull<Context>,
}

// SAFETY: the input handle is only used by `drop`, once; the shim's
// close may be called from any thread. The context is a `Mutex` over a
// `Send` sink, reached by the driver's thread only through the lock.
unsafe impl Send for Input {}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").finish_non_exhaustive()
    }
}

impl Input {
    /// Starts capturing as `request` says, delivering to `sink` on the
    /// driver's thread until the returned value drops.
    pub(crate) fn open(
        library: &Library,
        request: InputRequest,
        sink: Box<dyn InputSink>,
    ) -> Result<Input, Failure> {
        let context = NonNull::from(Box::leak(Box::new(Mutex::new(sink))));
        let callbacks = MkdlCallbacks {
            context: context.as_ptr().cast(),
            frame: on_frame,
            format_changed: on_format_changed,
        };
        let mut input: *mut MkdlInput = ptr::null_mut();
        let mut message = [0u8; MESSAGE_LEN];
        // SAFETY: `library.0` is live (borrowed); `callbacks` is read
        // during the call only (the shim copies it); its context is a live
        // `Context` that stays allocated until the input is closed (below,
        // or in `drop`); the trampolines match the C signatures; `input`
        // is a live out-pointer and `message` a buffer of the length given.
        let raw = unsafe {
            mkdl_input_open(
                library.0.as_ptr(),
                request.device,
                request.mode_code,
                request.pixel_format,
                i32::from(request.detect_format),
                request.audio_channels,
                &callbacks,
                &mut input,
                message.as_mut_ptr().cast(),
                MESSAGE_LEN - 1,
            )
        };
        match (raw, NonNull::new(input)) {
            (MKDL_OK, Some(raw)) => Ok(Input { raw, context }),
            (raw, _) => {
                // SAFETY: the open failed (or gave no handle, which the
                // shim never does on success): the shim stopped and
                // released its capture before returning, so no callback
                // holds the context; it came from `Box::leak` above.
                drop(unsafe { Box::from_raw(context.as_ptr()) });
                if raw == MKDL_OK {
                    return Err(Failure {
                        status: Status::Unknown(MKDL_OK),
                        message: "mkdl_input_open succeeded without a handle".to_owned(),
                    });
                }
                Err(failure(raw, &message))
            }
        }
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from a successful `mkdl_input_open` and is
        // closed only here. When the close returns no callback runs or
        // will run, so the context, from `Box::leak` in `open`, is freed
        // exactly once with nobody left to reach it.
        unsafe {
            mkdl_input_close(self.raw.as_ptr());
            drop(Box::from_raw(self.context.as_ptr()));
        }
    }
}

/// Runs `call` on the context's sink, unless its lock is poisoned (a sink
/// that panicked gets no more calls).
fn with_sink(context: *mut c_void, call: impl FnOnce(&mut dyn InputSink)) {
    // SAFETY: the shim passes back the context `Input::open` gave it, a
    // live `Context` until the input is closed, and calls no callback
    // after that; only shared references are made to it.
    let Some(context) = (unsafe { context.cast::<Context>().as_ref() }) else {
        return;
    };
    let Ok(mut sink) = context.lock() else {
        return;
    };
    // Nothing may unwind into C++: a panic is caught and the lock, left
    // poisoned, keeps the sink from further calls.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(sink.as_mut())));
}

extern "C" fn on_frame(context: *mut c_void, frame: *const MkdlFrame) {
    // SAFETY: the shim passes a frame record valid for this call.
    let Some(frame) = (unsafe { frame.as_ref() }) else {
        return;
    };
    let raw = RawFrame {
        picture: picture_of(frame),
        stream_time: frame.stream_time,
        time_scale: frame.time_scale,
        timecode_bcd: (frame.has_timecode != 0).then_some(frame.timecode_bcd),
        sound: sound_of(frame),
    };
    with_sink(context, |sink| sink.frame(&raw));
}

extern "C" fn on_format_changed(context: *mut c_void, format: *const MkdlFormat) {
    // SAFETY: the shim passes a format record valid for this call.
    let Some(f) = (unsafe { format.as_ref() }) else {
        return;
    };
    let format = RawFormat {
        mode_code: f.mode_code,
        width: f.width,
        height: f.height,
        frame_duration: f.frame_duration,
        time_scale: f.time_scale,
        field_dominance: f.field_dominance,
        pixel_format: f.pixel_format,
    };
    with_sink(context, |sink| sink.format_changed(format));
}

/// The frame's picture, when it has one of a size that makes sense.
fn picture_of(frame: &MkdlFrame) -> Option<RawPicture<'_>> {
    if frame.has_video == 0 || frame.bytes.is_null() {
        return None;
    }
    let row_bytes = usize::try_from(frame.row_bytes).ok()?;
    let height = usize::try_from(frame.height).ok()?;
    let width = usize::try_from(frame.width).ok()?;
    let len = row_bytes.checked_mul(height)?;
    // SAFETY: the driver's frame buffer holds `height` rows of
    // `row_bytes` (GetBytes/GetRowBytes/GetHeight of one frame), valid
    // and unchanged while the callback, which this borrow cannot outlive,
    // runs.
    let bytes = unsafe { std::slice::from_raw_parts(frame.bytes, len) };
    Some(RawPicture {
        bytes,
        row_bytes,
        width,
        height,
        pixel_format: frame.pixel_format,
        no_signal: frame.no_signal != 0,
    })
}

/// The frame's sound, when it has some.
fn sound_of(frame: &MkdlFrame) -> Option<RawSound<'_>> {
    if frame.audio.is_null() {
        return None;
    }
    let channels = usize::try_from(frame.audio_channels).ok()?;
    let frames = usize::try_from(frame.audio_frames).ok()?;
    let len = frames.checked_mul(channels)?;
    if len == 0 {
        return None;
    }
    // SAFETY: the driver's audio packet holds `audio_frames` sample frames
    // of the enabled channel count of 32-bit samples (GetBytes and
    // GetSampleFrameCount of one packet), valid while the callback runs.
    let samples = unsafe { std::slice::from_raw_parts(frame.audio, len) };
    Some(RawSound {
        samples,
        channels,
        time: frame.audio_time,
    })
}
