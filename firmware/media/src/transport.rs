//! What network transports report: a network input's receive counters and
//! an SRT link's statistics. Plain data, filled by the transports and
//! shown in a stream's statistics.

/// One SRT connection's statistics, as libsrt measures them (totals since
/// the connection was made; rates over the last second).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SrtLinkStats {
    /// Smoothed round-trip time.
    pub rtt_ms: f64,
    pub send_rate_kbps: f64,
    pub receive_rate_kbps: f64,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Packets the receiver found missing (before any retransmission).
    pub packets_lost: u64,
    /// Packets sent again after a loss report.
    pub packets_retransmitted: u64,
    /// Packets given up on: too late to be played, at either end.
    pub packets_dropped: u64,
    /// The receive buffer's delay: the latency the peers agreed on.
    pub buffer_delay_ms: u32,
}

/// A network input's counters since the stream started.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputReport {
    /// Whole 188-byte transport packets received (or, for inputs that are
    /// not transport streams, media packets).
    pub packets: u64,
    pub bytes: u64,
    /// Continuity-counter errors: packets lost or reordered on the way.
    pub continuity_errors: u64,
    /// Times the packet sync was lost and found again after garbage.
    pub sync_losses: u64,
    /// True while the input delivers (a peer connected, packets arriving).
    pub receiving: bool,
    /// The SRT link, for an SRT input with a peer connected.
    pub srt: Option<SrtLinkStats>,
    /// Why the input is not delivering, if it is not.
    pub last_error: Option<String>,
}

/// One output's state, for the outputs that have peers (SRT).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputReport {
    /// The output's name.
    pub name: String,
    /// One entry per connected peer (a caller of a listener output has
    /// several); empty while no peer is connected.
    pub links: Vec<SrtLinkStats>,
    /// Why no peer is connected, if none is.
    pub last_error: Option<String>,
}
