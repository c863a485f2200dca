//! The transport stream parser (`demux::Demuxer`) on fuzzed packets: the
//! input is cut into 188-byte packets (the last may be short), pushed one
//! by one, every event polled, then the stream finished. The parser must
//! never panic and keep its bound on reassembled PES packets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_mpegts::demux::{DemuxEvent, Demuxer, MAX_PES_LEN};
use makara_mpegts::packet::PACKET_LEN;

fuzz_target!(|data: &[u8]| {
    let mut demuxer = Demuxer::new();
    for packet in data.chunks(PACKET_LEN) {
        demuxer.push(packet);
        drain(&mut demuxer);
    }
    demuxer.finish();
    drain(&mut demuxer);
});

fn drain(demuxer: &mut Demuxer) {
    while let Some(event) = demuxer.poll() {
        if let DemuxEvent::Pes(unit) = event {
            assert!(unit.payload.len() <= MAX_PES_LEN);
        }
    }
}
