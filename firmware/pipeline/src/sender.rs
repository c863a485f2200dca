//! The sender thread: the transport stream multiplexer and the packet
//! sink (every output of the stream, a file, or nothing), which it
//! borrows for the run: the outputs outlive a run, so a retry keeps an
//! SRT output's peers connected. In real time
//! packets leave at their departure time (pacing), so a frame is spread
//! over its interval instead of sent in one burst; as fast as encoded, the
//! muxer runs on the stream's own timeline (each frame's capture time)
//! and packets leave as soon as they are made.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use makara_capture::monotonic_now;
use makara_media::{Clock90k, EncodedAudio, EncodedVideo, MonotonicNs, Pcr27M};
use makara_mpegts::mux::Muxer;

use crate::keeper::Worker;
use crate::setup::Pace;
use crate::sink::PacketSink;

/// How far the muxer runs ahead per step when it drains at the end.
const DRAIN_STEP_27M: u64 = 27_000_000 / 100;
/// The most a stop waits for the units already part-sent. A picture at
/// most the default VBV buffer (500 ms at the peak rate) leaves within it
/// at the mux rate; a larger one is cut at the bound, and that is logged.
const FINISH_BOUND: Duration = Duration::from_millis(500);

/// What the encoders hand the sender.
#[derive(Debug)]
pub enum Unit {
    Video(EncodedVideo),
    Audio(EncodedAudio),
    Klv { data: Vec<u8>, pts: Clock90k },
}

pub struct Sender<'s> {
    pub mux: Muxer,
    pub sink: &'s mut PacketSink,
    pub units: Receiver<Unit>,
    pub origin: MonotonicNs,
    pub pace: Pace,
    pub pacing: bool,
    pub tick: Duration,
    /// Capture to presentation, on the 27 MHz clock: how far a unit's
    /// timestamps lie after the moment it was captured.
    pub delay_27m: u64,
}

impl Sender<'_> {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let result = match self.pace {
            Pace::RealTime => self.run_real_time(worker),
            Pace::AsFastAsEncoded => self.run_fast(worker),
        };
        worker.shared().set_mux(self.mux.counters());
        result
    }

    fn run_real_time(&mut self, worker: &Worker) -> Result<(), String> {
        let mut packets = Vec::new();
        // Without pacing, everything due within the next frame goes at once.
        let burst = if self.pacing { 0 } else { 27_000_000 / 25 };
        while !worker.should_stop() {
            match self.units.recv_timeout(self.tick) {
                Ok(unit) => self.push(unit, worker),
                Err(RecvTimeoutError::Timeout) => {}
                // The encoders are gone: a stop, or a failure.
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Ok(unit) = self.units.try_recv() {
                self.push(unit, worker);
            }
            let now = monotonic_now().to_pcr(self.origin);
            self.mux.fill_until(Pcr27M(now.0 + burst), &mut packets);
            self.sink.send(&packets, worker.shared())?;
            packets.clear();
        }
        self.finish_real_time(burst, &mut packets, worker)
    }

    /// The end of a real-time run: no new unit is taken, and the rest of
    /// every PES packet already started leaves at its departure time, so a
    /// receiver's last access units are whole. Bounded by [`FINISH_BOUND`]
    /// (the stop flag is set: the other threads are ending meanwhile).
    fn finish_real_time(
        &mut self,
        burst: u64,
        packets: &mut Vec<(Pcr27M, [u8; 188])>,
        worker: &Worker,
    ) -> Result<(), String> {
        let bound = MonotonicNs(monotonic_now().0 + FINISH_BOUND.as_nanos() as u64);
        let whole = self.mux.finish_until(bound.to_pcr(self.origin), packets);
        if !whole {
            tracing::warn!(
                "the stream ended part-way through a unit: it did not fit in {FINISH_BOUND:?}"
            );
        }
        let mut rest = &packets[..];
        while !rest.is_empty() {
            let now = monotonic_now().to_pcr(self.origin).0 + burst;
            let due = rest.partition_point(|(departure, _)| departure.0 <= now);
            self.sink.send(&rest[..due], worker.shared())?;
            rest = &rest[due..];
            if let Some((next, _)) = rest.first() {
                let wait = (next.0 - now) * 1000 / 27;
                std::thread::sleep(Duration::from_nanos(wait).min(self.tick));
            }
        }
        packets.clear();
        self.sink.finish()
    }

    /// Muxes each unit as it comes; after a frame's video, sends what a
    /// live sender would have sent by its capture time. When the encoders
    /// are done, drains the muxer to its last packet.
    fn run_fast(&mut self, worker: &Worker) -> Result<(), String> {
        let mut packets = Vec::with_capacity(4096);
        loop {
            if worker.should_stop() {
                return Ok(());
            }
            let unit = match self.units.recv_timeout(self.tick) {
                Ok(unit) => unit,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let captured = match &unit {
                Unit::Video(v) => Some(v.dts.to_pcr().0.saturating_sub(self.delay_27m)),
                Unit::Audio(_) | Unit::Klv { .. } => None,
            };
            self.push(unit, worker);
            if let Some(captured) = captured {
                self.mux.fill_until(Pcr27M(captured), &mut packets);
                self.sink.send(&packets, worker.shared())?;
                packets.clear();
            }
        }
        while self.mux.queued_bytes() > 0 {
            let until = self.mux.next_departure().0 + DRAIN_STEP_27M;
            self.mux.fill_until(Pcr27M(until), &mut packets);
            self.sink.send(&packets, worker.shared())?;
            packets.clear();
        }
        self.sink.finish()
    }

    fn push(&mut self, unit: Unit, worker: &Worker) {
        match unit {
            Unit::Video(v) => {
                worker
                    .shared()
                    .video_bytes
                    .fetch_add(v.data.len() as u64, Ordering::Relaxed);
                self.mux.push_video(&v);
            }
            Unit::Audio(a) => self.mux.push_audio(&a),
            Unit::Klv { data, pts } => self.mux.push_klv(&data, pts),
        }
    }
}
