//! What network transports report: a network input's receive counters,
//! an SRT link's statistics, and an output's state and health. Plain
//! data, filled by the transports and shown in a stream's statistics.

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
    /// Times the input stopped delivering since the stream started. The
    /// stream counts them, as it stores each report, so that a loss
    /// shorter than the interval between two looks is still seen.
    pub losses: u64,
}

/// One output's state: its links (for the outputs that have peers, SRT)
/// and, for every output, why it is not delivering and the health of what
/// it sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputReport {
    /// The output's name.
    pub name: String,
    /// One entry per connected peer (a caller of a listener output has
    /// several); empty while no peer is connected, and always for outputs
    /// without peers.
    pub links: Vec<SrtLinkStats>,
    /// Why the output does not deliver the stream; `None` while it does.
    pub last_error: Option<String>,
    /// What a receiver would make of the packets the output sent.
    pub health: OutputHealth,
}

/// The health of the transport stream one output sent, as a receiver
/// would judge it: counters since the output opened, and the PCR and
/// rate figures over the last seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OutputHealth {
    /// Bytes of whole 188-byte packets sent.
    pub bytes: u64,
    pub packets: u64,
    /// The rate over the last second, bits per second.
    pub bitrate_bps: u64,
    /// Continuity-counter errors (ETSI TR 101 290 1.4) in what was sent.
    pub cc_errors: u64,
    /// PCRs that came more than 40 ms after the previous one on their PID
    /// (TR 101 290 2.3a).
    pub pcr_interval_errors: u64,
    /// The longest gap between two PCRs of one PID, recently.
    pub pcr_interval_max_ms: f64,
    /// The largest deviation, recently, of a PCR's departure from what
    /// the PCR clock predicts for it.
    pub pcr_jitter_max_ms: f64,
    /// Since the last packet left; `None` before the first.
    pub since_last_packet_ms: Option<u64>,
}
