//! [`DeckLinkCapture`]: one DeckLink input as a live source. The driver's
//! thread hands each frame to a [`Sink`], which writes it into a slot of
//! the capture's pool (the slate while the card sees no signal), stamps it
//! on the monotonic clock, and puts its sound on a [`SoundLine`]; the
//! source thread takes the frames from a short queue.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use makara_capture::{
    monotonic_now, AudioSource, DeviceError, LineSound, LiveCapture, SharedLine, Slate, SoundLine,
};
use makara_framering::{Frame, FrameMut, FramePool};
use makara_media::{InputReport, MonotonicNs, PixelFormat, Timecode, VideoFormat};

use crate::ffi::{self, CardBuffers, InputSink, RawFormat, RawFrame, RawSound};
use crate::pixels::{self, Picture};
use crate::ports::Claim;
use crate::{DeckLinkApi, DisplayMode, ModeCode};

/// Slots of a capture's pool, which are also the buffers the card
/// captures into: the driver's few in flight, the queue, and the
/// encoder's hold.
const SLOTS: usize = 10;
/// Frames waiting for the source thread; more are dropped (and counted by
/// the sequence numbers' jump) rather than held in the driver's thread.
const QUEUE: usize = 4;

/// How a capture's pictures come from the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapturePixels {
    /// 8-bit 4:2:2, copied as it is.
    Uyvy,
    /// 10-bit 4:2:2 (v210), cut to 8 bits: for cards or modes without
    /// 8-bit capture.
    V210,
}

impl CapturePixels {
    fn code(self) -> u32 {
        match self {
            CapturePixels::Uyvy => pixels::FORMAT_UYVY,
            CapturePixels::V210 => pixels::FORMAT_V210,
        }
    }
}

/// What [`DeckLinkCapture::start`] starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureSettings {
    /// The device, by its index in [`DeckLinkApi::devices`].
    pub device: usize,
    /// The mode to capture in; with `detect`, the one to start in until
    /// the card says what the signal is.
    pub mode: DisplayMode,
    /// Follow the signal's format (the card must detect it).
    pub detect: bool,
    pub pixels: CapturePixels,
    /// Embedded audio channels to capture: 2, 8 or 16. Channels 1 and 2
    /// go to the stream.
    pub audio_channels: u32,
    /// How messages name the input, e.g. `decklinkPort 0`.
    pub label: String,
}

/// [`DeckLinkCapture::start`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("{label}: mode {mode} is not a picture the pipeline takes: {why}")]
    Mode {
        label: String,
        mode: String,
        why: String,
    },
    #[error("{label}: audio channels must be 2, 8 or 16, not {channels}")]
    AudioChannels { label: String, channels: u32 },
    #[error("{label}: the card refused the capture: {why}")]
    Refused { label: String, why: String },
}

/// What the driver's thread tells the capture.
#[derive(Debug)]
struct Status {
    frames: AtomicU64,
    bytes: AtomicU64,
    /// Frames written into a slot here (v210, another layout, the slate)
    /// rather than captured into it by the card.
    copied: AtomicU64,
    no_signal: AtomicBool,
    /// No-signal episodes since the start.
    losses: AtomicU64,
    /// The format the card switched to, once it did.
    changed_to: Mutex<Option<RawFormat>>,
    sound: SharedLine,
}

/// A DeckLink input, capturing. Dropping it stops the card's streams.
pub struct DeckLinkCapture {
    format: VideoFormat,
    buffers: Arc<CardBuffers>,
    /// Whether the card captures into the pool's slots.
    uses_card_buffers: bool,
    frames: Receiver<Frame>,
    status: Arc<Status>,
    label: String,
    /// The port's mark of being in use, for captures made by
    /// [`crate::DeckLinkPorts`].
    claim: Option<Claim>,
    /// Last: stops the driver's deliveries before the rest goes.
    _input: ffi::Input,
}

impl Drop for DeckLinkCapture {
    fn drop(&mut self) {
        if let Some(claim) = &self.claim {
            claim.release(self.detected_mode());
        }
    }
}

impl std::fmt::Debug for DeckLinkCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeckLinkCapture")
            .field("input", &self.label)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl DeckLinkCapture {
    /// Starts capturing from the card as `settings` say.
    pub fn start(
        api: &DeckLinkApi,
        settings: &CaptureSettings,
    ) -> Result<DeckLinkCapture, CaptureError> {
        let label = settings.label.clone();
        if ![2, 8, 16].contains(&settings.audio_channels) {
            return Err(CaptureError::AudioChannels {
                label,
                channels: settings.audio_channels,
            });
        }
        let mode = &settings.mode;
        let format = VideoFormat::new(
            mode.width,
            mode.height,
            PixelFormat::Uyvy,
            mode.frame_rate.num,
            mode.frame_rate.den,
        )
        .map_err(|e| CaptureError::Mode {
            label: label.clone(),
            mode: mode.name.clone(),
            why: e.to_string(),
        })?;
        let buffers =
            Arc::new(
                CardBuffers::new(format, SLOTS).ok_or_else(|| CaptureError::Mode {
                    label: label.clone(),
                    mode: mode.name.clone(),
                    why: format!("no memory for {SLOTS} frames"),
                })?,
            );
        let (tx, frames) = sync_channel(QUEUE);
        let status = Arc::new(Status {
            frames: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            copied: AtomicU64::new(0),
            no_signal: AtomicBool::new(false),
            losses: AtomicU64::new(0),
            changed_to: Mutex::new(None),
            sound: Arc::new(Mutex::new(None)),
        });
        let sink = Sink {
            buffers: Arc::clone(&buffers),
            format,
            queue: tx,
            slate: Slate::new(format, "NO SIGNAL", &label),
            status: Arc::clone(&status),
            base_ns: None,
            sequence: 0,
        };
        let request = ffi::InputRequest {
            device: settings.device,
            mode_code: mode.code.0,
            pixel_format: settings.pixels.code(),
            detect_format: settings.detect,
            audio_channels: settings.audio_channels,
        };
        // Only 8-bit frames have the pool's layout: v210 ones are
        // converted into it, so the card keeps its own memory for them.
        let offered = (settings.pixels == CapturePixels::Uyvy).then_some(&*buffers);
        let opened =
            ffi::Input::open(api.library(), request, offered, Box::new(sink)).map_err(|f| {
                CaptureError::Refused {
                    label: label.clone(),
                    why: f.message,
                }
            })?;
        let input = opened.input;
        Ok(DeckLinkCapture {
            format,
            buffers,
            uses_card_buffers: opened.uses_buffers,
            frames,
            status,
            label,
            claim: None,
            _input: input,
        })
    }

    pub(crate) fn with_claim(mut self, claim: Claim) -> DeckLinkCapture {
        self.claim = Some(claim);
        self
    }

    /// Whether the card captures into the pool's slots (no copy), as it
    /// does for 8-bit frames when its driver takes a custom allocator.
    pub fn uses_card_buffers(&self) -> bool {
        self.uses_card_buffers
    }

    /// Frames written into the pool here (converted, copied, or the slate)
    /// rather than captured into it by the card.
    pub fn copied_frames(&self) -> u64 {
        self.status.copied.load(Ordering::Relaxed)
    }

    /// The mode the card switched to, if it reported one: where a new
    /// capture should start.
    pub fn detected_mode(&self) -> Option<ModeCode> {
        let changed = self
            .status
            .changed_to
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        changed.map(|f| ModeCode(f.mode_code))
    }

    fn changed_error(&self, f: &RawFormat) -> DeviceError {
        DeviceError::Device {
            device: self.label.clone(),
            what: format!(
                "the signal changed to {} ({}x{}); the capture restarts in it",
                ModeCode(f.mode_code),
                f.width,
                f.height
            ),
        }
    }
}

impl LiveCapture for DeckLinkCapture {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn pool(&self) -> &Arc<FramePool> {
        self.buffers.pool()
    }

    /// The next picture, or the slate while the card sees no signal. A
    /// change of the signal's format ends the capture with an error that
    /// says so: the stream's keeper starts it again in the new format.
    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, DeviceError> {
        if let Some(f) = *self
            .status
            .changed_to
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            return Err(self.changed_error(&f));
        }
        match self.frames.recv_timeout(timeout) {
            Ok(frame) => Ok(Some(frame)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(DeviceError::Device {
                device: self.label.clone(),
                what: "the driver stopped delivering".into(),
            }),
        }
    }

    /// Channels 1 and 2 of the embedded audio, on the pictures' clock;
    /// silence where the card delivers none.
    fn audio(&self, _origin: MonotonicNs) -> Box<dyn AudioSource> {
        Box::new(LineSound {
            line: Arc::clone(&self.status.sound),
        })
    }

    /// Frames received, and whether the card sees a signal: without one
    /// the input waits, with the reason, while the slate goes out.
    fn report(&self) -> Option<InputReport> {
        let no_signal = self.status.no_signal.load(Ordering::Relaxed);
        Some(InputReport {
            packets: self.status.frames.load(Ordering::Relaxed),
            bytes: self.status.bytes.load(Ordering::Relaxed),
            receiving: !no_signal,
            last_error: no_signal.then(|| {
                format!(
                    "no signal on {}: the card reports no input source",
                    self.label
                )
            }),
            losses: self.status.losses.load(Ordering::Relaxed),
            ..InputReport::default()
        })
    }
}

/// The capture's side on the driver's thread.
struct Sink {
    buffers: Arc<CardBuffers>,
    format: VideoFormat,
    queue: SyncSender<Frame>,
    slate: Slate,
    status: Arc<Status>,
    /// Monotonic time minus stream time, fixed at the first frame, so that
    /// every stamp keeps the card's own spacing.
    base_ns: Option<i128>,
    /// The least number the next frame may have.
    sequence: u64,
}

impl Sink {
    /// `time` in units of `scale`, on the monotonic clock.
    fn stamp(&mut self, time: i64, scale: i64) -> MonotonicNs {
        let ns = if scale > 0 {
            i128::from(time) * 1_000_000_000 / i128::from(scale)
        } else {
            0
        };
        let base = *self
            .base_ns
            .get_or_insert_with(|| i128::from(monotonic_now().0) - ns);
        MonotonicNs((base + ns).clamp(0, i128::from(u64::MAX)) as u64)
    }

    fn picture(&mut self, frame: &RawFrame<'_>, picture: &ffi::RawPicture<'_>) {
        let pts = self.stamp(frame.stream_time, frame.time_scale);
        let sequence = self.sequence_of(frame);
        let status = &self.status;
        status.frames.fetch_add(1, Ordering::Relaxed);
        status
            .bytes
            .fetch_add(picture.bytes.len() as u64, Ordering::Relaxed);
        let was_lost = status.no_signal.swap(picture.no_signal, Ordering::Relaxed);
        if picture.no_signal && !was_lost {
            status.losses.fetch_add(1, Ordering::Relaxed);
        }
        let Some(mut slot) = self.slot_for(picture) else {
            // No free slot, or a picture of another size (the old mode's
            // last frames after a format change) or layout: lost, and the
            // next frame's sequence number jumps.
            return;
        };
        if let Some(timecode) = frame.timecode_bcd.and_then(Timecode::from_bcd) {
            slot.set_timecode(timecode);
        }
        let _ = self.queue.try_send(slot.freeze(pts, sequence));
    }

    /// The frame's number from its stream time, so that frames the card
    /// dropped (no buffer free) show as a jump; never back or repeated.
    fn sequence_of(&mut self, frame: &RawFrame<'_>) -> u64 {
        let counted = u64::try_from(frame.stream_time)
            .ok()
            .zip(u64::try_from(frame.stream_duration).ok())
            .filter(|(_, duration)| *duration > 0)
            .map(|(time, duration)| (time + duration / 2) / duration);
        let sequence = counted.unwrap_or(0).max(self.sequence);
        self.sequence = sequence + 1;
        sequence
    }

    /// A slot holding `picture`: the one the card captured it into, or a
    /// free one it is written into (copied, converted, or the slate).
    fn slot_for(&self, picture: &ffi::RawPicture<'_>) -> Option<FrameMut> {
        let (width, height) = (self.format.width as usize, self.format.height as usize);
        let in_place = !picture.no_signal
            && picture.pixel_format == pixels::FORMAT_UYVY
            && (picture.width, picture.height) == (width, height)
            && picture.row_bytes == 2 * width;
        if in_place {
            if let Some(slot) = self.buffers.take_delivered(picture) {
                return Some(slot);
            }
        }
        let mut slot = self.buffers.take_free()?;
        let written = if picture.no_signal {
            self.slate.render(slot.data_mut()).is_ok()
        } else {
            let source = Picture {
                bytes: picture.bytes,
                row_bytes: picture.row_bytes,
                width: picture.width,
                height: picture.height,
                pixel_format: picture.pixel_format,
            };
            pixels::to_uyvy(&source, width, height, slot.data_mut()).is_ok()
        };
        if !written {
            return None;
        }
        self.status.copied.fetch_add(1, Ordering::Relaxed);
        Some(slot)
    }

    /// Channels 1 and 2 as 16-bit stereo, placed on the line by their time.
    fn sound(&mut self, sound: &RawSound<'_>, scale: i64) {
        let at = self.stamp(sound.time, scale);
        let stereo: Vec<i16> = sound
            .samples
            .chunks_exact(sound.channels)
            .flat_map(|s| [(s[0] >> 16) as i16, (s[1] >> 16) as i16])
            .collect();
        let mut line = self.status.sound.lock().unwrap_or_else(|e| e.into_inner());
        line.get_or_insert_with(|| SoundLine::new(at))
            .push(at, &stereo, monotonic_now());
    }
}

impl InputSink for Sink {
    fn frame(&mut self, frame: &RawFrame<'_>) {
        if let Some(picture) = &frame.picture {
            self.picture(frame, picture);
        }
        if let Some(sound) = &frame.sound {
            if sound.channels >= 2 {
                self.sound(sound, frame.time_scale);
            }
        }
    }

    fn format_changed(&mut self, format: RawFormat) {
        let mut changed = self
            .status
            .changed_to
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *changed = Some(format);
    }
}
