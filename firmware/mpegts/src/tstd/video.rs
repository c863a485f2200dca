//! A video stream through its T-STD buffers (see [`super::buffers`]):
//! whole packets enter TBn, which drains at Rxn into MBn (transport
//! packet headers and adaptation fields are dropped on the way); MBn
//! leaks at Rbxn into EBn while EBn has room; each access unit leaves
//! EBn whole at its decoding time. PES headers are counted as payload,
//! which errs strict by a few bytes a unit.
//!
//! The flows are stepped in slices of at most 64 bytes at the faster
//! rate, so levels are exact to within that.

use std::collections::VecDeque;

use makara_media::PCR_HZ;

use super::buffers::VideoBuffers;
use crate::packet::PACKET_LEN;

/// What one video PID delivered, for the simulation at the end.
#[derive(Debug, Default)]
pub(super) struct VideoTrace {
    /// (time its last byte is in, payload bytes) of each packet.
    packets: Vec<(u64, usize)>,
    /// (decoding time, payload bytes up to the unit's end) of each unit.
    units: Vec<(u64, u64)>,
    /// Payload bytes of the PID so far, from the first unit on.
    bytes: u64,
    open: Option<u64>,
}

impl VideoTrace {
    /// A packet whose last byte is in at `end`, starting a unit decoded
    /// at `removal` if it starts one.
    pub fn packet(&mut self, end: u64, payload: usize, starts: Option<Option<u64>>) {
        if let Some(removal) = starts {
            self.close();
            self.open = removal;
        }
        if self.open.is_none() {
            return; // before the first unit, or a unit without a time
        }
        self.bytes += payload as u64;
        self.packets.push((end, payload));
    }

    pub fn close(&mut self) {
        if let Some(removal) = self.open.take() {
            self.units.push((removal, self.bytes));
        }
    }
}

/// How full each buffer got, and how often a unit was not whole in EBn
/// at its decoding time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VideoBufferUse {
    pub max_tb: u64,
    pub max_mb: u64,
    pub max_eb: u64,
    pub eb_underflows: u64,
}

struct Flow {
    b: VideoBuffers,
    /// Packets in TBn: (header bytes left, payload bytes left).
    tb: VecDeque<(f64, f64)>,
    tb_level: f64,
    mb: f64,
    /// Bytes that entered EBn, and bytes removed from it, since the start.
    into_eb: f64,
    removed: f64,
    at: u64,
    step: u64,
    usage: VideoBufferUse,
}

pub(super) fn simulate(trace: &VideoTrace, buffers: VideoBuffers) -> VideoBufferUse {
    let fastest = buffers.rx_bps.max(buffers.rbx_bps).max(1);
    let mut flow = Flow {
        b: buffers,
        tb: VecDeque::new(),
        tb_level: 0.0,
        mb: 0.0,
        into_eb: 0.0,
        removed: 0.0,
        at: trace.packets.first().map_or(0, |p| p.0),
        step: (64 * 8 * PCR_HZ / fastest).max(1),
        usage: VideoBufferUse::default(),
    };
    let mut units = trace.units.iter().peekable();
    for &(end, payload) in &trace.packets {
        while let Some(&&(removal, through)) = units.peek().filter(|u| u.0 < end) {
            flow.advance(removal);
            flow.remove(through);
            units.next();
        }
        flow.advance(end);
        flow.arrive(payload);
    }
    for &(removal, through) in units {
        flow.advance(removal);
        flow.remove(through);
    }
    flow.usage
}

impl Flow {
    fn arrive(&mut self, payload: usize) {
        let header = (PACKET_LEN - payload) as f64;
        self.tb.push_back((header, payload as f64));
        self.tb_level += PACKET_LEN as f64;
        self.usage.max_tb = self.usage.max_tb.max(whole(self.tb_level));
    }

    /// Unit removal at its decoding time: everything up to `through`
    /// leaves EBn, whether or not it all arrived.
    fn remove(&mut self, through: u64) {
        let through = through as f64;
        if self.into_eb + 0.5 < through {
            self.usage.eb_underflows += 1;
        }
        self.removed = self.removed.max(through);
    }

    fn advance(&mut self, to: u64) {
        while self.at < to {
            if self.frozen() {
                // Nothing moves until the next arrival or removal: skip to
                // it rather than step through what may be hours of a
                // hostile recording's clock.
                self.at = to;
                break;
            }
            let dt = (to - self.at).min(self.step);
            let seconds = dt as f64 / PCR_HZ as f64;
            let mut out = self.b.rx_bps as f64 * seconds / 8.0;
            while out > 0.0 {
                let Some(front) = self.tb.front_mut() else {
                    break;
                };
                let header = front.0.min(out);
                front.0 -= header;
                let payload = front.1.min(out - header);
                front.1 -= payload;
                self.mb += payload;
                self.tb_level -= header + payload;
                out -= header + payload;
                if front.0 <= 0.0 && front.1 <= 0.0 {
                    self.tb.pop_front();
                }
            }
            self.usage.max_mb = self.usage.max_mb.max(whole(self.mb));
            let eb = self.into_eb - self.removed;
            let room = (self.b.ebs as f64 - eb).max(0.0);
            let leak = (self.b.rbx_bps as f64 * seconds / 8.0)
                .min(self.mb)
                .min(room);
            self.mb -= leak;
            self.into_eb += leak;
            let eb = self.into_eb - self.removed;
            self.usage.max_eb = self.usage.max_eb.max(whole(eb));
            self.at += dt;
        }
    }
}

impl Flow {
    /// TBn is empty and MBn can send nothing on: it is empty, or EBn has
    /// no room, which only a removal makes.
    fn frozen(&self) -> bool {
        let eb = self.into_eb - self.removed;
        self.tb.is_empty() && (self.mb <= 0.0 || eb >= self.b.ebs as f64)
    }
}

/// Bytes held, rounded up, less the rounding of the flows' arithmetic.
fn whole(bytes: f64) -> u64 {
    (bytes - 1e-6).max(0.0).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUFFERS: VideoBuffers = VideoBuffers {
        tbs: 512,
        rx_bps: 1_200_000,
        mbs: 1_000,
        rbx_bps: 1_000_000,
        ebs: 10_000,
    };
    /// One byte at 1 Mbit/s: 216 ticks.
    const BYTE_AT_RBX: u64 = 216;

    #[test]
    fn a_paced_stream_keeps_every_buffer_small() {
        // 20 packets of 184 payload bytes, one every 188 bytes at Rbx,
        // one unit decoded a second after the last.
        let mut trace = VideoTrace::default();
        for i in 0..20u64 {
            let start = (i == 0).then_some(Some(27_000_000));
            trace.packet((i + 1) * 188 * BYTE_AT_RBX, 184, start);
        }
        trace.close();
        let usage = simulate(&trace, BUFFERS);
        assert_eq!(usage.eb_underflows, 0);
        assert!(usage.max_tb <= 188 && usage.max_mb <= 184, "{usage:?}");
        assert_eq!(usage.max_eb, 20 * 184);
    }

    #[test]
    fn a_burst_overflows_tb_and_mb_and_a_late_unit_underflows() {
        // 20 packets at once: TB holds them all; MB fills at 1.2 and
        // drains at 1 Mbit/s, so after 25 ms it holds about 3 750 · 184 /
        // 188 − 3 125 bytes; the unit, due then, has not all gone through.
        let mut trace = VideoTrace::default();
        for i in 0..20 {
            let start = (i == 0).then_some(Some(675_000));
            trace.packet(1, 184, start);
        }
        trace.close();
        let usage = simulate(&trace, BUFFERS);
        assert_eq!(usage.max_tb, 20 * 188);
        assert!(usage.max_mb > 500, "{usage:?}");
        assert_eq!(usage.eb_underflows, 1);
    }
}
