//! What a capture's threads share: the stop flag, the receiver's report,
//! the reasons pictures do not come, and the sound and metadata on their
//! way to the source thread. Every collection is bounded.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use makara_capture::MetadataUnit;
use makara_media::InputReport;

use makara_capture::SharedLine;

/// KLV units kept for the source thread; older ones are dropped.
const METADATA_QUEUE: usize = 64;

#[derive(Debug)]
pub(crate) struct State {
    /// The input in messages: "udp://127.0.0.1:5000", "rtsp://cam/live".
    pub(crate) label: String,
    pub(crate) stop: Arc<AtomicBool>,
    /// The receiver's counters and transport trouble.
    transport: Mutex<InputReport>,
    /// Why the receiver has nothing to decode (no program table yet).
    receiver_problem: Mutex<Option<String>>,
    /// Why the decoder has no pictures (a codec it does not decode).
    decoder_problem: Mutex<Option<String>>,
    /// False while the slate goes out.
    pictures: AtomicBool,
    /// Why the capture ended for good, when it did.
    failure: Mutex<Option<String>>,
    pub(crate) sound: SharedLine,
    metadata: Mutex<VecDeque<MetadataUnit>>,
    carries_metadata: AtomicBool,
    /// Packet batches the passthru tap could not take.
    pub(crate) tap_dropped: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    pub(crate) fn new(label: String) -> State {
        State {
            label,
            stop: Arc::new(AtomicBool::new(false)),
            transport: Mutex::new(InputReport::default()),
            receiver_problem: Mutex::new(None),
            decoder_problem: Mutex::new(None),
            pictures: AtomicBool::new(true),
            failure: Mutex::new(None),
            sound: Arc::new(Mutex::new(None)),
            metadata: Mutex::new(VecDeque::new()),
            carries_metadata: AtomicBool::new(false),
            tap_dropped: AtomicU64::new(0),
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn set_transport(&self, report: InputReport) {
        *lock(&self.transport) = report;
    }

    pub(crate) fn set_receiver_problem(&self, problem: Option<String>) {
        *lock(&self.receiver_problem) = problem;
    }

    pub(crate) fn set_decoder_problem(&self, problem: Option<String>) {
        *lock(&self.decoder_problem) = problem;
    }

    pub(crate) fn set_pictures(&self, flowing: bool) {
        self.pictures.store(flowing, Ordering::Relaxed);
    }

    pub(crate) fn fail(&self, why: String) {
        lock(&self.failure).get_or_insert(why);
    }

    pub(crate) fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    pub(crate) fn set_carries_metadata(&self, carries: bool) {
        self.carries_metadata.store(carries, Ordering::Relaxed);
    }

    pub(crate) fn push_metadata(&self, unit: MetadataUnit) {
        let mut queue = lock(&self.metadata);
        if queue.len() == METADATA_QUEUE {
            queue.pop_front();
        }
        queue.push_back(unit);
    }

    /// Moves the queued KLV units to `out`; whether the input carries KLV.
    pub(crate) fn take_metadata(&self, out: &mut Vec<MetadataUnit>) -> bool {
        out.extend(lock(&self.metadata).drain(..));
        self.carries_metadata.load(Ordering::Relaxed)
    }

    /// Why no pictures come, most basic cause first: the transport, the
    /// program, the codec; or `None` if nothing is known to be wrong.
    pub(crate) fn problem(&self) -> Option<String> {
        let transport = lock(&self.transport);
        if !transport.receiving {
            if let Some(why) = &transport.last_error {
                return Some(why.clone());
            }
        }
        drop(transport);
        lock(&self.receiver_problem)
            .clone()
            .or_else(|| lock(&self.decoder_problem).clone())
    }

    /// What `open` tells its caller while no picture has come yet.
    pub(crate) fn waiting_reason(&self) -> String {
        self.problem()
            .unwrap_or_else(|| format!("{}: waiting for the first picture", self.label))
    }

    /// The input's report: the receiver's counters, not receiving while
    /// the slate goes out, with the reason.
    pub(crate) fn report(&self) -> InputReport {
        let mut report = lock(&self.transport).clone();
        if !self.pictures.load(Ordering::Relaxed) {
            report.receiving = false;
            // The transport counts itself receiving for a second after
            // its last packet, longer than the slate waits, so these words
            // claim nothing about packets.
            report.last_error = Some(self.problem().unwrap_or_else(|| {
                format!(
                    "{}: no picture decoded for a while; sending the slate",
                    self.label
                )
            }));
        }
        report
    }
}
