//! What the muxer reports about itself.

/// Per elementary stream: what was queued, sent and lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Units (access units, audio pushes, KLV units) accepted.
    pub units: u64,
    /// Packets that carried this stream's payload.
    pub packets: u64,
    /// Whole units dropped because the backlog was over its limit.
    pub dropped_units: u64,
    pub dropped_bytes: u64,
    /// Units whose first packet left after their DTS: a decoder gets them
    /// too late. The caller's DTS offset is too small, or the rate too low.
    pub late_units: u64,
}

/// What the muxer has done since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MuxCounters {
    /// Every slot filled, of any kind.
    pub packets: u64,
    pub pat_packets: u64,
    pub pmt_packets: u64,
    pub sdt_packets: u64,
    /// PCR values written, in payload or adaptation-only packets.
    pub pcrs: u64,
    /// Adaptation-only packets written just to carry a PCR.
    pub pcr_only_packets: u64,
    pub null_packets: u64,
    /// Slots a variable-rate stream left empty: the null packets it saved.
    pub idle_slots: u64,
    pub video: StreamCounters,
    pub audio: StreamCounters,
    pub klv: StreamCounters,
    /// Units refused at push: their stream is not configured, they are
    /// empty, or (audio, KLV) too large for one bounded PES packet.
    pub rejected_units: u64,
}
