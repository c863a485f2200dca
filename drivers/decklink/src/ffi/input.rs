//! A running capture: the shim's input handle, the callbacks' context and
//! their trampolines. Part of `ffi`, the crate's one `unsafe` module.

#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use super::buffers::{BuffersRef, CardBuffers, MkdlBuffers};
use super::{failure, Failure, Library, MkdlApi, Status, MESSAGE_LEN, MKDL_OK};

/// `mkdl_input`: a running capture (opaque).
#[repr(C)]
struct MkdlInput {
    _opaque: [u8; 0],
}

/// `mkdl_frame`.
#[repr(C)]
struct MkdlFrame {
    has_video: i32,
    video_frame: *mut c_void,
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
        buffers: *mut MkdlBuffers,
        callbacks: *const MkdlCallbacks,
        input: *mut *mut MkdlInput,
        uses_buffers: *mut i32,
        message: *mut c_char,
        message_len: usize,
    ) -> i32;
    fn mkdl_input_close(input: *mut MkdlInput);
}

/// One delivery of the driver, borrowed for the length of the callback.
#[derive(Debug)]
pub(crate) struct RawFrame<'a> {
    pub(crate) picture: Option<RawPicture<'a>>,
    /// The frame's time since the streams started, and how long it lasts,
    /// in units of `time_scale`.
    pub(crate) stream_time: i64,
    pub(crate) stream_duration: i64,
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
    /// The driver's frame object, for `CardBuffers::take_delivered`.
    pub(super) video_frame: *mut c_void,
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

/// A capture that runs, and whether the card captures into the buffers it
/// was offered.
pub(crate) struct Opened {
    pub(crate) input: Input,
    pub(crate) uses_buffers: bool,
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
    /// The buffers offered to the card, held while it may use them.
    _buffers: Option<BuffersRef>,
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
        buffers: Option<&CardBuffers>,
        sink: Box<dyn InputSink>,
    ) -> Result<Opened, Failure> {
        let context = NonNull::from(Box::leak(Box::new(Mutex::new(sink))));
        let callbacks = MkdlCallbacks {
            context: context.as_ptr().cast(),
            frame: on_frame,
            format_changed: on_format_changed,
        };
        let mut input: *mut MkdlInput = ptr::null_mut();
        let mut uses_buffers = 0i32;
        let buffers = buffers.map(|b| b.raw().clone());
        let offered = buffers.as_ref().map_or(ptr::null_mut(), BuffersRef::as_ptr);
        let mut message = [0u8; MESSAGE_LEN];
        // SAFETY: `library.0` is live (borrowed); `callbacks` is read
        // during the call only (the shim copies it); its context is a live
        // `Context` that stays allocated until the input is closed (below,
        // or in `drop`); the trampolines match the C signatures; `input`
        // and `uses_buffers` are live out-pointers and `message` a buffer of
        // the length given; `offered` is null or buffers `buffers` holds a
        // reference to for as long as the input runs.
        let raw = unsafe {
            mkdl_input_open(
                library.0.as_ptr(),
                request.device,
                request.mode_code,
                request.pixel_format,
                i32::from(request.detect_format),
                request.audio_channels,
                offered,
                &callbacks,
                &mut input,
                &mut uses_buffers,
                message.as_mut_ptr().cast(),
                MESSAGE_LEN - 1,
            )
        };
        match (raw, NonNull::new(input)) {
            (MKDL_OK, Some(raw)) => Ok(Opened {
                input: Input {
                    raw,
                    context,
                    _buffers: buffers,
                },
                uses_buffers: uses_buffers != 0,
            }),
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
        stream_duration: frame.stream_duration,
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
        video_frame: frame.video_frame,
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
