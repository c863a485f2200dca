//! The decoder thread of a capture: decodes what the receiver feeds it,
//! stamps pictures and sound on the monotonic clock, writes pictures into
//! the capture's pool, and sends the slate while pictures do not come.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use ff::frame;
use ffmpeg_next as ff;
use makara_capture::{monotonic_now, MetadataUnit, Slate};
use makara_framering::{Frame, FramePool};
use makara_media::{CaptionBacklog, MonotonicNs, PixelFormat, VideoFormat};

use crate::decode::{codec_name, AudioDecoder, Decoded, Pictures, VideoDecoder};
use crate::feed::{mpeg_audio_layer, AudioCodec, Feed, Streams};
use crate::sound::RATE;
use crate::state::State;
use crate::timing::{Clock, TICKS_PER_SEC};
use makara_capture::SoundLine;

/// Slots in a capture's pool: the encoder's queue and the one it works on
/// (four, as the ring requires), the frames waiting for the source thread,
/// and one being written.
pub(crate) const POOL_SLOTS: usize = 8;
/// Frames waiting for the source thread; more are dropped, counted by a
/// jump in the sequence.
pub(crate) const FRAME_QUEUE: usize = 2;
/// The longest wait for the receiver, so a stop is seen promptly.
const TICK: Duration = Duration::from_millis(50);
/// Pictures are lost after this many frame periods without one...
const LOSS_PERIODS: u64 = 3;
/// ...or this long, whichever is longer.
const LOSS_MIN_NS: u64 = 300_000_000;
/// The rate assumed when neither the stream nor its timestamps tell.
const DEFAULT_RATE: (u32, u32) = (25, 1);
/// How long the first picture waits for a second to measure the rate.
const RATE_WAIT_NS: u64 = 1_000_000_000;
/// Sound decoded but not yet placed: at most 3 s of it...
const PENDING_SOUND_FRAMES: usize = 3 * RATE as usize;
/// ...each piece for at most 1 s, waiting for the pictures' anchor.
const PENDING_SOUND_NS: u64 = 1_000_000_000;

/// How the decoder thread keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pace {
    /// A network input: pictures are stamped against the monotonic clock,
    /// a full pool or queue drops a picture, a silent input gets the slate.
    Live,
    /// A file (the bench), mirroring the pipeline's as-fast-as-encoded
    /// pace: every picture is kept (the thread waits for a free slot and
    /// for room in the queue), stamps follow the input's timestamps
    /// whatever the wall clock says, there is no slate, and at the end of
    /// the input the decoder gives up the pictures it still holds.
    AsFastAsEncoded,
}

/// How long the as-fast-as-encoded pace sleeps between looks for a free
/// slot (the encoder frees them; with the pipeline's queues full a slot is
/// still free, so this is a safeguard, not the common path).
const SLOT_WAIT: Duration = Duration::from_millis(1);

/// What `open` gets when the first picture has fixed the format.
pub(crate) struct Ready {
    pub(crate) format: VideoFormat,
    pub(crate) pool: Arc<FramePool>,
}

/// Where pictures go once the format is fixed.
struct Output {
    format: VideoFormat,
    pool: Arc<FramePool>,
    pictures: Pictures,
    slate: Slate,
    sequence: u64,
    /// Closed captions for the next frame sent: the picture's, and those
    /// of pictures that found no room.
    captions: CaptionBacklog,
}

/// A decoded piece of sound waiting for the anchor.
struct PendingSound {
    ticks: i64,
    samples: Vec<i16>,
    decoded_at: MonotonicNs,
}

pub(crate) struct Worker {
    pub(crate) feed: Receiver<Feed>,
    pub(crate) state: Arc<State>,
    pub(crate) frames: SyncSender<Frame>,
    pub(crate) ready: Option<SyncSender<Ready>>,
    pub(crate) clock: Clock,
    pace: Pace,
    video: Option<VideoDecoder>,
    audio: Option<AudioDecoder>,
    /// The input's sound is MPEG audio of a layer not known yet.
    audio_layer_pending: bool,
    frame_rate_hint: Option<(u32, u32)>,
    output: Option<Output>,
    /// The first picture, held until a second tells the frame rate.
    first: Option<(frame::Video, Option<i64>, MonotonicNs)>,
    decoded: frame::Video,
    last_picture_at: MonotonicNs,
    slate: bool,
    /// Where the next decoded sound continues, in ticks.
    sound_next: Option<i64>,
    pending: VecDeque<PendingSound>,
    pending_frames: usize,
    pieces: Vec<Decoded>,
}

impl Worker {
    pub(crate) fn new(
        feed: Receiver<Feed>,
        state: Arc<State>,
        frames: SyncSender<Frame>,
        ready: SyncSender<Ready>,
        origin: MonotonicNs,
        pace: Pace,
    ) -> Worker {
        Worker {
            feed,
            state,
            frames,
            ready: Some(ready),
            clock: match pace {
                Pace::Live => Clock::new(origin),
                Pace::AsFastAsEncoded => Clock::on_input_time(origin),
            },
            pace,
            video: None,
            audio: None,
            audio_layer_pending: false,
            frame_rate_hint: None,
            output: None,
            first: None,
            decoded: frame::Video::empty(),
            last_picture_at: MonotonicNs(0),
            slate: false,
            sound_next: None,
            pending: VecDeque::new(),
            pending_frames: 0,
            pieces: Vec::new(),
        }
    }

    pub(crate) fn run(mut self) {
        while !self.state.stopped() {
            match self.feed.recv_timeout(self.wait(monotonic_now())) {
                Ok(feed) => self.take(feed),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    if self.pace == Pace::AsFastAsEncoded {
                        self.drain();
                    }
                    break;
                }
            }
            self.tick(monotonic_now());
        }
    }

    /// The input ended: the pictures the decoder holds back for reordering
    /// come out.
    fn drain(&mut self) {
        if let Some(decoder) = self.video.as_mut() {
            if let Err(e) = decoder.drain() {
                tracing::debug!(input = %self.state.label, "video decoder: {e}");
            }
            self.receive_pictures();
        }
        if let Some((first, ticks, _)) = self.first.take() {
            // A one-picture input: no second picture tells the rate.
            self.begin(&first, DEFAULT_RATE);
            self.picture(first, ticks, monotonic_now());
        }
        if self.output.is_none() {
            let why = self.state.problem().unwrap_or_else(|| {
                format!(
                    "{}: the input ended before a picture was decoded",
                    self.state.label
                )
            });
            self.state.fail(why);
        }
    }

    /// How long to wait for the receiver: until the next slate picture or
    /// the moment pictures count as lost, at most a tick.
    fn wait(&self, now: MonotonicNs) -> Duration {
        let Some(output) = &self.output else {
            return TICK;
        };
        let due = if self.slate {
            self.clock.next_slate_due(now, output.format.frame_ns())
        } else {
            MonotonicNs(self.last_picture_at.0 + loss_ns(&output.format))
        };
        Duration::from_nanos(
            due.saturating_sub(now)
                .clamp(1_000_000, TICK.as_nanos() as u64),
        )
    }

    fn take(&mut self, feed: Feed) {
        match feed {
            Feed::Streams(streams) => self.streams(streams),
            Feed::Video(unit) => {
                let Some(decoder) = self.video.as_mut() else {
                    return;
                };
                if let Err(e) = decoder.send(&unit.data, unit.pts, unit.dts) {
                    tracing::debug!(input = %self.state.label, "video decoder: {e}");
                }
                self.receive_pictures();
            }
            Feed::Audio { data, pts } => self.sound(&data, pts),
            Feed::Metadata { data, pts } => {
                let now = monotonic_now();
                let pts = pts.and_then(|t| self.clock.map(t)).unwrap_or(now);
                self.state.push_metadata(MetadataUnit { data, pts });
            }
        }
    }

    /// Opens the decoders the input's streams need.
    fn streams(&mut self, streams: Streams) {
        self.frame_rate_hint = streams.frame_rate;
        self.state.set_carries_metadata(streams.metadata);
        match streams.video {
            Ok(codec) => {
                if self.video.as_ref().map(VideoDecoder::id) != Some(codec.id) {
                    match VideoDecoder::open(codec.id, codec.params) {
                        Ok(decoder) => {
                            self.video = Some(decoder);
                            self.state.set_decoder_problem(None);
                        }
                        Err(why) => {
                            self.video = None;
                            self.state
                                .set_decoder_problem(Some(format!("{}: {why}", self.state.label)));
                        }
                    }
                }
            }
            Err(why) => {
                self.video = None;
                self.state
                    .set_decoder_problem(Some(format!("{}: {why}", self.state.label)));
            }
        }
        self.audio_layer_pending = false;
        match streams.audio {
            Some(AudioCodec::Known(codec)) => {
                if self.audio.as_ref().map(AudioDecoder::id) != Some(codec.id) {
                    self.open_audio(codec.id, codec.params);
                }
            }
            Some(AudioCodec::MpegAudio) => {
                self.audio = None;
                self.audio_layer_pending = true;
            }
            None => self.audio = None,
        }
    }

    fn open_audio(&mut self, id: ff::codec::Id, params: Option<ff::codec::Parameters>) {
        self.sound_next = None;
        self.audio = match AudioDecoder::open(id, params) {
            Ok(decoder) => Some(decoder),
            Err(why) => {
                tracing::warn!(input = %self.state.label, "no sound: {why}");
                None
            }
        };
    }

    fn receive_pictures(&mut self) {
        loop {
            let Some(decoder) = self.video.as_mut() else {
                return;
            };
            match decoder.receive(&mut self.decoded) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::debug!(input = %self.state.label, "video decoder: {e}");
                    return;
                }
            }
            let picture = std::mem::replace(&mut self.decoded, frame::Video::empty());
            let ticks = picture.pts().or(picture.timestamp());
            self.picture(picture, ticks, monotonic_now());
        }
    }

    /// One decoded picture: fixes the format if it is the first, stamps it
    /// and sends it; then places the sound that waited for the anchor.
    fn picture(&mut self, picture: frame::Video, ticks: Option<i64>, now: MonotonicNs) {
        if self.output.is_none() && !self.start_output(&picture, ticks, now) {
            return;
        }
        let Some(output) = self.output.as_mut() else {
            return;
        };
        let stamp = self.clock.picture(ticks, now, output.format.frame_ns());
        // The sound line starts with the first picture.
        self.state
            .sound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| SoundLine::new(stamp));
        if self.slate {
            self.slate = false;
            self.state.set_pictures(true);
            tracing::info!(input = %self.state.label, "pictures again: the slate ends");
        }
        self.last_picture_at = now;
        output.captions.add(&crate::decode::captions(&picture));
        let state = &self.state;
        let sent = send(output, &self.frames, stamp, self.pace, state, |out, buf| {
            out.pictures.write(&picture, buf)
        });
        let label = &state.label;
        if let Err(why) = sent {
            tracing::warn!(input = %label, "{why}");
        }
        self.place_sound(now);
    }

    /// Fixes the format from the first picture (and the frame rate from
    /// the stream, or from the first two pictures' timestamps). False while
    /// the first picture waits for a second.
    fn start_output(
        &mut self,
        picture: &frame::Video,
        ticks: Option<i64>,
        now: MonotonicNs,
    ) -> bool {
        let declared = self
            .video
            .as_ref()
            .and_then(VideoDecoder::frame_rate)
            .or(self.frame_rate_hint);
        let rate = match (declared, self.first.take()) {
            (Some(rate), _) => rate,
            (None, None) => {
                self.first = Some((picture.clone(), ticks, now));
                return false;
            }
            (None, Some((first, first_ticks, _))) => {
                let rate = match (first_ticks, ticks) {
                    (Some(a), Some(b)) if b > a => rate_from_ticks(b - a),
                    _ => DEFAULT_RATE,
                };
                self.begin(&first, rate);
                // The held picture goes out first.
                self.picture(first, first_ticks, now);
                return self.output.is_some();
            }
        };
        self.begin(picture, rate);
        self.output.is_some()
    }

    /// Makes the pool for pictures of `picture`'s size at `rate`, starts
    /// the sound line and tells `open`.
    fn begin(&mut self, picture: &frame::Video, rate: (u32, u32)) {
        let (width, height) = (picture.width() & !1, picture.height() & !1);
        let format = match VideoFormat::new(width, height, PixelFormat::I420, rate.0, rate.1) {
            Ok(format) => format,
            Err(e) => {
                let why = format!(
                    "{}: the input's pictures cannot be used: {e}",
                    self.state.label
                );
                self.state.set_decoder_problem(Some(why));
                return;
            }
        };
        let pool = FramePool::new(format, POOL_SLOTS);
        let slate = Slate::new(format, "NO INPUT", &self.state.label);
        tracing::info!(
            input = %self.state.label,
            "first picture: {width}x{height} at {}/{} fps from {}",
            rate.0,
            rate.1,
            self.video.as_ref().map_or_else(String::new, |v| codec_name(v.id()))
        );
        self.output = Some(Output {
            format,
            pool: Arc::clone(&pool),
            pictures: Pictures::new(format),
            slate,
            sequence: 0,
            captions: CaptionBacklog::default(),
        });
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ready { format, pool });
        }
    }

    /// Decodes sound and queues it for placing on the line.
    fn sound(&mut self, data: &[u8], pts: Option<i64>) {
        if self.audio_layer_pending {
            if let Some(id) = mpeg_audio_layer(data) {
                self.audio_layer_pending = false;
                self.open_audio(id, None);
            }
        }
        let Some(decoder) = self.audio.as_mut() else {
            return;
        };
        let mut pieces = std::mem::take(&mut self.pieces);
        if let Err(why) = decoder.decode(data, pts, &mut pieces) {
            tracing::debug!(input = %self.state.label, "{why}");
        }
        let now = monotonic_now();
        for piece in pieces.drain(..) {
            let Some(ticks) = self.sound_ticks(&piece) else {
                continue;
            };
            self.sound_next = Some(ticks + piece.duration);
            self.pending_frames += piece.samples.len() / 2;
            self.pending.push_back(PendingSound {
                ticks,
                samples: piece.samples,
                decoded_at: now,
            });
            while self.pending_frames > PENDING_SOUND_FRAMES {
                if let Some(old) = self.pending.pop_front() {
                    self.pending_frames -= old.samples.len() / 2;
                }
            }
        }
        self.pieces = pieces;
        self.place_sound(now);
    }

    /// The input time of a decoded piece: its own timestamp, unless it is
    /// one the decoder repeated for the frames after the first of a packet
    /// (then where the last piece ended).
    fn sound_ticks(&self, piece: &Decoded) -> Option<i64> {
        match (piece.pts, self.sound_next) {
            (Some(p), Some(next)) if p < next - 45 && p > next - TICKS_PER_SEC => Some(next),
            (Some(p), _) => Some(p),
            (None, next) => next,
        }
    }

    /// Puts the sound whose time the anchor tells on the line, in order;
    /// sound on another timeline than the pictures' waits for them to
    /// re-anchor, for a while.
    fn place_sound(&mut self, now: MonotonicNs) {
        let mut line = self.state.sound.lock().unwrap_or_else(|e| e.into_inner());
        let Some(line) = line.as_mut() else {
            return;
        };
        while let Some(piece) = self.pending.front() {
            match self.clock.map(piece.ticks) {
                Some(at) if at.0 + 1_000_000_000 >= now.0 && at.0 <= now.0 + 3_000_000_000 => {
                    line.push(at, &piece.samples, piece.decoded_at);
                }
                _ if now.saturating_sub(piece.decoded_at) > PENDING_SOUND_NS => {}
                _ => break,
            }
            if let Some(done) = self.pending.pop_front() {
                self.pending_frames -= done.samples.len() / 2;
            }
        }
    }

    /// Time passing without input: the first picture stops waiting for a
    /// second, pictures count as lost, slate pictures fall due.
    fn tick(&mut self, now: MonotonicNs) {
        if let Some((_, _, at)) = &self.first {
            if now.saturating_sub(*at) > RATE_WAIT_NS {
                if let Some((first, ticks, _)) = self.first.take() {
                    self.begin(&first, DEFAULT_RATE);
                    self.picture(first, ticks, now);
                }
            }
        }
        let Some(output) = self.output.as_mut() else {
            return;
        };
        if self.pace == Pace::AsFastAsEncoded {
            // A file is never lost: it ends.
            return;
        }
        let period = output.format.frame_ns();
        if !self.slate && now.saturating_sub(self.last_picture_at) >= loss_ns(&output.format) {
            self.slate = true;
            self.clock.lost();
            if let Some(video) = self.video.as_mut() {
                video.flush();
            }
            self.state.set_pictures(false);
            tracing::warn!(
                input = %self.state.label,
                "no picture for {} ms: sending the slate",
                loss_ns(&output.format) / 1_000_000
            );
        }
        if self.slate {
            while let Some(stamp) = self.clock.slate(now, period) {
                let sent = send(
                    output,
                    &self.frames,
                    stamp,
                    Pace::Live,
                    &self.state,
                    |out, buf| out.slate.render(buf).map_err(|e| e.to_string()),
                );
                if let Err(why) = sent {
                    tracing::warn!(input = %self.state.label, "{why}");
                }
            }
        }
    }
}

/// No picture for this long is a lost input.
fn loss_ns(format: &VideoFormat) -> u64 {
    (LOSS_PERIODS * format.frame_ns()).max(LOSS_MIN_NS)
}

/// Writes one frame into a free slot of the output's pool with `fill`,
/// stamps it and offers it to the source thread. Live, a full pool or
/// queue drops it (the sequence jumps, so the loss is counted downstream);
/// as fast as encoded, it waits for a slot and for room in the queue, until
/// a stop or until the source thread lets go of its end.
fn send(
    output: &mut Output,
    frames: &SyncSender<Frame>,
    stamp: MonotonicNs,
    pace: Pace,
    state: &State,
    fill: impl FnOnce(&mut Output, &mut [u8]) -> Result<(), String>,
) -> Result<(), String> {
    let sequence = output.sequence;
    output.sequence += 1;
    let slot = match pace {
        Pace::Live => output.pool.try_acquire(),
        Pace::AsFastAsEncoded => wait_for_slot(&output.pool, state),
    };
    let Some(mut slot) = slot else {
        return Ok(());
    };
    fill(output, &mut slot)?;
    slot.set_captions(output.captions.take());
    let frame = slot.freeze(stamp, sequence);
    match pace {
        Pace::Live => match frames.try_send(frame) {
            // The next frame carries the dropped one's captions.
            Err(TrySendError::Full(dropped)) => {
                output.captions.add(dropped.captions());
                Ok(())
            }
            Ok(()) | Err(TrySendError::Disconnected(_)) => Ok(()),
        },
        // Disconnected: the capture is being dropped, and the stop follows.
        Pace::AsFastAsEncoded => {
            let _ = frames.send(frame);
            Ok(())
        }
    }
}

/// A free slot of `pool`, waited for; `None` on a stop.
fn wait_for_slot(pool: &Arc<FramePool>, state: &State) -> Option<makara_framering::FrameMut> {
    loop {
        if let Some(slot) = pool.try_acquire() {
            return Some(slot);
        }
        if state.stopped() {
            return None;
        }
        std::thread::sleep(SLOT_WAIT);
    }
}

/// The frame rate whose period is `ticks` (90 kHz): a common broadcast
/// rate within 3%, else the exact one.
pub(crate) fn rate_from_ticks(ticks: i64) -> (u32, u32) {
    const COMMON: [(u32, u32); 8] = [
        (24_000, 1_001),
        (24, 1),
        (25, 1),
        (30_000, 1_001),
        (30, 1),
        (50, 1),
        (60_000, 1_001),
        (60, 1),
    ];
    let Ok(ticks) = u32::try_from(ticks) else {
        return DEFAULT_RATE;
    };
    if ticks == 0 {
        return DEFAULT_RATE;
    }
    let period = |(n, d): (u32, u32)| f64::from(d) * 90_000.0 / f64::from(n);
    let nearest = COMMON.into_iter().min_by(|a, b| {
        (period(*a) - f64::from(ticks))
            .abs()
            .total_cmp(&(period(*b) - f64::from(ticks)).abs())
    });
    match nearest {
        Some(rate) if (period(rate) - f64::from(ticks)).abs() <= 0.03 * f64::from(ticks) => rate,
        _ if 90_000 / ticks <= 240 && ticks <= 90_000 => (90_000, ticks),
        _ => DEFAULT_RATE,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;

    #[test]
    fn klv_units_go_to_the_source_thread_bounded() {
        let (_feed_tx, feed_rx) = sync_channel(1);
        let (frames_tx, _frames_rx) = sync_channel(1);
        let (ready_tx, _ready_rx) = sync_channel(1);
        let state = Arc::new(State::new("udp://127.0.0.1:5000".into()));
        let mut worker = Worker::new(
            feed_rx,
            Arc::clone(&state),
            frames_tx,
            ready_tx,
            MonotonicNs(0),
            Pace::Live,
        );
        let mut out = Vec::new();
        assert!(!state.take_metadata(&mut out));
        worker.take(Feed::Streams(Streams {
            video: Err("no video".into()),
            audio: None,
            frame_rate: None,
            metadata: true,
        }));
        let before = monotonic_now();
        for k in 0..100u8 {
            worker.take(Feed::Metadata {
                data: vec![k],
                pts: None,
            });
        }
        assert!(state.take_metadata(&mut out));
        // The newest 64 are kept, stamped when they came (no anchor yet).
        assert_eq!(out.len(), 64);
        assert_eq!(out[0].data, [36]);
        assert!(out.iter().all(|u| u.pts >= before));
        assert_eq!(
            state.problem().as_deref(),
            Some("udp://127.0.0.1:5000: no video")
        );
    }

    #[test]
    fn rates_from_picture_spacing() {
        assert_eq!(rate_from_ticks(3_600), (25, 1));
        assert_eq!(rate_from_ticks(3_003), (30_000, 1_001));
        assert_eq!(rate_from_ticks(1_500), (60, 1));
        assert_eq!(rate_from_ticks(1_800), (50, 1));
        assert_eq!(rate_from_ticks(9_000), (90_000, 9_000));
        assert_eq!(rate_from_ticks(0), DEFAULT_RATE);
        assert_eq!(rate_from_ticks(-5), DEFAULT_RATE);
        assert_eq!(rate_from_ticks(10_000_000), DEFAULT_RATE);
    }
}
