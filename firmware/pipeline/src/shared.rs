//! What a stream's threads share: a stop flag and counters, all atomics so
//! that a GET never waits on the media path, and the state of every
//! output, each behind a lock held only to copy it.
//!
//! A stream is `active` while packets go out, its source delivers, and
//! every output delivers (has no `last_error`): a UDP output always does;
//! an SRT output does while at least one peer is connected. Otherwise it
//! is `waiting`, and its problem says why: the keeper's or the source's
//! reason first, else the first output that does not deliver, named.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use makara_engine::{StreamState, StreamStats};
use makara_media::InputReport;
use makara_mpegts::mux::MuxCounters;
use makara_output::OutputStatus;

use crate::thumbnail::LatestPicture;

#[derive(Debug)]
pub struct Shared {
    /// Set by `stop`: every thread of the stream ends within a tick.
    pub stop: AtomicBool,
    /// True once the first datagram of the current run went out.
    pub active: AtomicBool,
    /// False while a capture device delivers no frames (signal loss).
    pub signal: AtomicBool,
    pub frames_captured: AtomicU64,
    pub frames_encoded: AtomicU64,
    pub frames_dropped: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub bytes_copied: AtomicU64,
    /// Runs that failed and were retried (the keeper counts them).
    pub failures: AtomicU64,
    /// Encoded video bytes handed to the muxer.
    pub video_bytes: AtomicU64,
    /// Exponentially averaged capture-to-encoded latency, microseconds.
    pub encode_latency_us: AtomicU64,
    pub started: Instant,
    /// Why the stream is waiting, when it is retrying.
    pub problem: Mutex<Option<String>>,
    /// The muxer's counters when the sender last ended.
    pub mux: Mutex<MuxCounters>,
    /// The network input's latest report (the source thread writes it).
    pub input: Mutex<Option<InputReport>>,
    /// The frame the encoder last took, for thumbnails.
    pub picture: LatestPicture,
    /// Every output, in the stream's order, passthru last; each output's
    /// own threads keep its status.
    outputs: Vec<Arc<OutputStatus>>,
}

impl Shared {
    /// A stream without outputs.
    pub fn new() -> Shared {
        Shared::with_outputs(Vec::new())
    }

    pub fn with_outputs(outputs: Vec<Arc<OutputStatus>>) -> Shared {
        Shared {
            stop: AtomicBool::new(false),
            active: AtomicBool::new(false),
            signal: AtomicBool::new(true),
            frames_captured: AtomicU64::new(0),
            frames_encoded: AtomicU64::new(0),
            frames_dropped: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            bytes_copied: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            video_bytes: AtomicU64::new(0),
            encode_latency_us: AtomicU64::new(0),
            started: Instant::now(),
            problem: Mutex::new(None),
            mux: Mutex::new(MuxCounters::default()),
            input: Mutex::new(None),
            picture: LatestPicture::default(),
            outputs,
        }
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> StreamState {
        if self.active.load(Ordering::Relaxed)
            && self.signal.load(Ordering::Acquire)
            && self.outputs.iter().all(|o| o.delivering())
        {
            StreamState::Active
        } else {
            StreamState::Waiting
        }
    }

    pub fn set_problem(&self, problem: Option<String>) {
        let mut slot = self.problem.lock().unwrap_or_else(|e| e.into_inner());
        *slot = problem;
    }

    /// Why the stream waits: the keeper's or the source's reason, else the
    /// first output that does not deliver.
    pub fn problem(&self) -> Option<String> {
        lock(&self.problem).clone().or_else(|| {
            self.outputs.iter().find_map(|o| {
                let reason = o.waiting_reason()?;
                Some(format!("output '{}': {reason}", o.name()))
            })
        })
    }

    /// A network input being opened is not receiving, for `why`; its
    /// counters so far are kept. The source thread reports on it once it
    /// is open.
    pub fn input_waits(&self, why: &str) {
        let mut report = lock(&self.input).clone().unwrap_or_default();
        report.receiving = false;
        report.srt = None;
        report.last_error = Some(why.to_string());
        self.set_input(Some(report));
    }

    /// Stores the network input's latest report, counting in its `losses`
    /// each time it goes from receiving to not.
    pub fn set_input(&self, report: Option<InputReport>) {
        let mut slot = lock(&self.input);
        let (losses, was_receiving) = slot
            .as_ref()
            .map_or((0, false), |r| (r.losses, r.receiving));
        *slot = report.map(|mut report| {
            report.losses = losses + u64::from(was_receiving && !report.receiving);
            report
        });
    }

    pub fn set_mux(&self, counters: MuxCounters) {
        *self.mux.lock().unwrap_or_else(|e| e.into_inner()) = counters;
    }

    pub fn mux(&self) -> MuxCounters {
        *self.mux.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record_latency(&self, micros: u64) {
        // An average over about 16 frames: steady, yet quick to show a change.
        let old = self.encode_latency_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            micros
        } else {
            (old * 15 + micros) / 16
        };
        self.encode_latency_us.store(new, Ordering::Relaxed);
    }

    /// Rates are averages since the stream started.
    pub fn stats(&self) -> StreamStats {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        StreamStats {
            input_fps: self.frames_captured.load(Ordering::Relaxed) as f64 / secs,
            output_kbps: self.bytes_sent.load(Ordering::Relaxed) as f64 * 8.0 / 1000.0 / secs,
            frames_encoded: self.frames_encoded.load(Ordering::Relaxed),
            frames_dropped: self.frames_dropped.load(Ordering::Relaxed),
            encode_latency_ms: self.encode_latency_us.load(Ordering::Relaxed) as f64 / 1000.0,
            uptime_secs: self.started.elapsed().as_secs(),
            bytes_copied: self.bytes_copied.load(Ordering::Relaxed),
            input: lock(&self.input).clone(),
            failures: self.failures.load(Ordering::Relaxed),
            outputs: self.outputs.iter().map(|o| o.report()).collect(),
        }
    }
}

/// Counters are plain data: a thread that panicked holding the lock left
/// them whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(receiving: bool) -> Option<InputReport> {
        Some(InputReport {
            receiving,
            ..InputReport::default()
        })
    }

    #[test]
    fn each_stop_of_receiving_is_counted_once() {
        let shared = Shared::new();
        let losses = || lock(&shared.input).as_ref().unwrap().losses;
        shared.set_input(report(false));
        assert_eq!(losses(), 0, "not yet receiving is no loss");
        shared.set_input(report(true));
        shared.set_input(report(false));
        shared.set_input(report(false));
        assert_eq!(losses(), 1);
        shared.set_input(report(true));
        shared.input_waits("reopening udp://127.0.0.1:5000");
        assert_eq!(losses(), 2);
        assert_eq!(
            lock(&shared.input).as_ref().unwrap().last_error.as_deref(),
            Some("reopening udp://127.0.0.1:5000")
        );
    }
}
