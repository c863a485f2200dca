//! The receiver of a transport-stream input (MPEG2TS over UDP, SRT):
//! packets through `makara-input` (or, for the bench, from a file), a copy
//! of each to the passthru tap, demuxed by our own parser, the first
//! program's streams fed to the decoder thread.

use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use makara_input::{Packet, TsInput};
use makara_media::InputReport;
use makara_mpegts::demux::Demuxer;

use crate::feed::Feed;
use crate::file::TsFile;
use crate::program::Program;
use crate::state::State;

/// The longest read, so a stop is seen promptly.
const READ_WAIT: Duration = Duration::from_millis(50);

/// A copy of every received packet, for passthru.
pub(crate) type Tap = SyncSender<Vec<[u8; 188]>>;

/// Where the transport packets come from.
pub(crate) enum Packets {
    /// A network input, read with a bounded wait.
    Network(TsInput),
    /// A file (the bench): read as fast as the decoder takes it; it ends.
    File(TsFile),
}

impl Packets {
    /// Appends what arrived to `out`; false once the input has ended.
    fn read(&mut self, out: &mut Vec<Packet>) -> Result<bool, String> {
        match self {
            Packets::Network(input) => input
                .read(READ_WAIT, out)
                .map(|()| true)
                .map_err(|e| e.to_string()),
            Packets::File(file) => file.read(out),
        }
    }

    fn report(&self) -> InputReport {
        match self {
            Packets::Network(input) => input.report(),
            Packets::File(file) => file.report(),
        }
    }
}

pub(crate) struct TsReceiver {
    pub(crate) input: Packets,
    pub(crate) feed: SyncSender<Feed>,
    pub(crate) state: Arc<State>,
    pub(crate) tap: Option<Tap>,
}

impl TsReceiver {
    pub(crate) fn run(mut self) {
        let mut demuxer = Demuxer::new();
        let mut program = Program::new();
        let mut packets: Vec<Packet> = Vec::new();
        let mut out = Vec::new();
        while !self.state.stopped() {
            packets.clear();
            let more = match self.input.read(&mut packets) {
                Ok(more) => more,
                Err(e) => {
                    self.state.fail(e);
                    return;
                }
            };
            let report = self.input.report();
            let receiving = report.receiving;
            self.state.set_transport(report);
            if packets.is_empty() && more {
                continue;
            }
            if !packets.is_empty() {
                self.tap(&packets);
            }
            for packet in &packets {
                demuxer.push(packet);
                while let Some(event) = demuxer.poll() {
                    program.handle(event, &mut out);
                }
            }
            if !more {
                // A file's end: the PES packets and the picture still open
                // are complete.
                demuxer.finish();
                while let Some(event) = demuxer.poll() {
                    program.handle(event, &mut out);
                }
                program.finish(&mut out);
            }
            self.state
                .set_receiver_problem((receiving && !program.mapped()).then(|| {
                    format!(
                        "{}: packets arrive, but no program table (PAT and PMT) yet",
                        self.state.label
                    )
                }));
            for feed in out.drain(..) {
                // The decoder thread takes its time; it ends on a stop.
                if self.feed.send(feed).is_err() {
                    return;
                }
            }
            if !more {
                // Dropping the feed tells the decoder thread the input ended.
                return;
            }
        }
    }

    /// Offers a copy of the packets to the passthru tap; a full tap drops
    /// them, counted, and never holds up decoding.
    fn tap(&mut self, packets: &[Packet]) {
        let Some(tap) = &self.tap else {
            return;
        };
        match tap.try_send(packets.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let dropped = self
                    .state
                    .tap_dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if (dropped + 1).is_power_of_two() {
                    tracing::warn!(
                        input = %self.state.label,
                        "the passthru output falls behind: {} batches of packets dropped",
                        dropped + 1
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => self.tap = None,
        }
    }
}
