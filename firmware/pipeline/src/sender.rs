//! The sender thread: the transport stream multiplexer and every UDP output
//! of the stream. Packets leave at their departure time (pacing), so a
//! frame is spread over its interval instead of sent in one burst.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use makara_capture::monotonic_now;
use makara_media::{Clock90k, EncodedAudio, EncodedVideo, MonotonicNs, Pcr27M};
use makara_mpegts::mux::Muxer;
use makara_output::{Datagrams, UdpSender};

use crate::keeper::Worker;

/// What the encoders hand the sender.
#[derive(Debug)]
pub enum Unit {
    Video(EncodedVideo),
    Audio(EncodedAudio),
    Klv { data: Vec<u8>, pts: Clock90k },
}

pub struct Sender {
    pub mux: Muxer,
    pub outputs: Vec<(UdpSender, Datagrams)>,
    pub units: Receiver<Unit>,
    pub origin: MonotonicNs,
    pub pacing: bool,
    pub tick: Duration,
}

impl Sender {
    pub fn run(mut self, worker: &Worker) -> Result<(), String> {
        let mut packets = Vec::new();
        // Without pacing, everything due within the next frame goes at once.
        let burst = if self.pacing { 0 } else { 27_000_000 / 25 };
        while !worker.should_stop() {
            match self.units.recv_timeout(self.tick) {
                Ok(unit) => self.push(unit),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            while let Ok(unit) = self.units.try_recv() {
                self.push(unit);
            }
            let now = monotonic_now().to_pcr(self.origin);
            self.mux.fill_until(Pcr27M(now.0 + burst), &mut packets);
            self.send(&packets, worker)?;
            packets.clear();
        }
        Ok(())
    }

    fn push(&mut self, unit: Unit) {
        match unit {
            Unit::Video(v) => self.mux.push_video(&v),
            Unit::Audio(a) => self.mux.push_audio(&a),
            Unit::Klv { data, pts } => self.mux.push_klv(&data, pts),
        }
    }

    /// The same packets to every output, grouped by each output's MTU.
    fn send(&mut self, packets: &[(Pcr27M, [u8; 188])], worker: &Worker) -> Result<(), String> {
        let shared = worker.shared();
        for (_, packet) in packets {
            for (index, (sender, datagrams)) in self.outputs.iter_mut().enumerate() {
                if let Some(datagram) = datagrams.push(packet) {
                    sender.send(datagram).map_err(|e| e.to_string())?;
                    // The stream's rate: the first output's bytes only.
                    if index == 0 {
                        shared
                            .bytes_sent
                            .fetch_add(datagram.len() as u64, Ordering::Relaxed);
                    }
                    shared.active.store(true, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }
}
