//! A running stream's `<stats>`: live counters, an element of ours that the
//! contract allows (clients must allow for elements they do not know).
//! Names follow the contract's style: camelCase, units in the name.

use makara_supervisor::{InputReport, OutputHealth, OutputReport, SrtLinkStats, StreamStats};

use crate::xml::XmlWriter;

pub fn render(w: &mut XmlWriter, s: &StreamStats) {
    w.open("stats");
    w.text("inputFps", format!("{:.2}", s.input_fps));
    w.text("outputKbps", format!("{:.1}", s.output_kbps));
    w.text("framesEncoded", s.frames_encoded);
    w.text("framesDropped", s.frames_dropped);
    w.text("encodeLatencyMs", format!("{:.1}", s.encode_latency_ms));
    w.text("uptimeSecs", s.uptime_secs);
    w.text("bytesCopied", s.bytes_copied);
    if let Some(input) = &s.input {
        render_input(w, input);
    }
    if !s.outputs.is_empty() {
        w.open("outputs");
        for output in &s.outputs {
            render_output(w, output);
        }
        w.close();
    }
    w.close();
}

/// A network input's counters since the stream started.
fn render_input(w: &mut XmlWriter, input: &InputReport) {
    w.open("input");
    w.text("packets", input.packets);
    w.text("bytes", input.bytes);
    w.text("continuityErrors", input.continuity_errors);
    w.text("syncLosses", input.sync_losses);
    w.text("receiving", input.receiving);
    w.optional("lastError", input.last_error.as_deref());
    if let Some(link) = &input.srt {
        render_link(w, link);
    }
    w.close();
}

/// An output: how many peers are connected (SRT; 0 for other kinds), why
/// it does not deliver if it does not, the health of what it sent, and
/// each link.
fn render_output(w: &mut XmlWriter, output: &OutputReport) {
    w.open("output");
    w.text("name", &output.name);
    w.text("connections", output.links.len());
    w.optional("lastError", output.last_error.as_deref());
    render_health(w, &output.health);
    for link in &output.links {
        render_link(w, link);
    }
    w.close();
}

/// What a receiver would make of the output's packets (TR 101 290): totals
/// since the stream started, the bitrate over the last second, PCR figures
/// over the last 10 s; `sincePacketMs` once a packet has left.
fn render_health(w: &mut XmlWriter, h: &OutputHealth) {
    w.text("bytesSent", h.bytes);
    w.text("bitrate", h.bitrate_bps);
    w.text("ccErrors", h.cc_errors);
    w.text("pcrIntervalMaxMs", format!("{:.1}", h.pcr_interval_max_ms));
    w.text("pcrIntervalErrors", h.pcr_interval_errors);
    w.text("pcrJitterMaxMs", format!("{:.2}", h.pcr_jitter_max_ms));
    if let Some(ms) = h.since_last_packet_ms {
        w.text("sincePacketMs", ms);
    }
}

fn render_link(w: &mut XmlWriter, l: &SrtLinkStats) {
    w.open("srt");
    w.text("rttMs", format!("{:.1}", l.rtt_ms));
    w.text("sendRateKbps", format!("{:.1}", l.send_rate_kbps));
    w.text("receiveRateKbps", format!("{:.1}", l.receive_rate_kbps));
    w.text("packetsSent", l.packets_sent);
    w.text("packetsReceived", l.packets_received);
    w.text("packetsLost", l.packets_lost);
    w.text("packetsRetransmitted", l.packets_retransmitted);
    w.text("packetsDropped", l.packets_dropped);
    w.text("bufferDelayMs", l.buffer_delay_ms);
    w.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(stats: &StreamStats) -> String {
        let mut w = XmlWriter::new();
        render(&mut w, stats);
        w.finish()
    }

    fn counters() -> StreamStats {
        StreamStats {
            input_fps: 29.97,
            output_kbps: 3012.34,
            frames_encoded: 900,
            frames_dropped: 2,
            encode_latency_ms: 41.26,
            uptime_secs: 30,
            bytes_copied: 0,
            ..StreamStats::default()
        }
    }

    const COUNTERS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <stats>\n  <inputFps>29.97</inputFps>\n  <outputKbps>3012.3</outputKbps>\n  \
        <framesEncoded>900</framesEncoded>\n  <framesDropped>2</framesDropped>\n  \
        <encodeLatencyMs>41.3</encodeLatencyMs>\n  <uptimeSecs>30</uptimeSecs>\n  \
        <bytesCopied>0</bytesCopied>\n";

    fn link(n: u64) -> SrtLinkStats {
        SrtLinkStats {
            rtt_ms: 0.5 + n as f64,
            send_rate_kbps: 20000.04,
            receive_rate_kbps: 12.5,
            packets_sent: 1000 * n,
            packets_received: 10 * n,
            packets_lost: 3,
            packets_retransmitted: 4,
            packets_dropped: 1,
            buffer_delay_ms: 120,
        }
    }

    #[test]
    fn a_capture_stream_shows_only_its_counters() {
        assert_eq!(rendered(&counters()), format!("{COUNTERS}</stats>\n"));
    }

    #[test]
    fn an_srt_input_shows_its_counters_and_link() {
        let stats = StreamStats {
            input: Some(InputReport {
                packets: 70_000,
                bytes: 13_160_000,
                continuity_errors: 5,
                sync_losses: 1,
                receiving: true,
                srt: Some(link(1)),
                last_error: None,
                losses: 0,
            }),
            ..counters()
        };
        let golden = format!(
            "{COUNTERS}  <input>\n    <packets>70000</packets>\n    <bytes>13160000</bytes>\n    \
             <continuityErrors>5</continuityErrors>\n    <syncLosses>1</syncLosses>\n    \
             <receiving>true</receiving>\n    <srt>\n      <rttMs>1.5</rttMs>\n      \
             <sendRateKbps>20000.0</sendRateKbps>\n      <receiveRateKbps>12.5</receiveRateKbps>\n      \
             <packetsSent>1000</packetsSent>\n      <packetsReceived>10</packetsReceived>\n      \
             <packetsLost>3</packetsLost>\n      <packetsRetransmitted>4</packetsRetransmitted>\n      \
             <packetsDropped>1</packetsDropped>\n      <bufferDelayMs>120</bufferDelayMs>\n    \
             </srt>\n  </input>\n</stats>\n"
        );
        assert_eq!(rendered(&stats), golden);
    }

    #[test]
    fn a_lost_input_says_why() {
        let stats = StreamStats {
            input: Some(InputReport {
                last_error: Some("no packet on udp://239.1.1.1:5000 for 2 s".into()),
                ..InputReport::default()
            }),
            ..counters()
        };
        let golden = format!(
            "{COUNTERS}  <input>\n    <packets>0</packets>\n    <bytes>0</bytes>\n    \
             <continuityErrors>0</continuityErrors>\n    <syncLosses>0</syncLosses>\n    \
             <receiving>false</receiving>\n    \
             <lastError>no packet on udp://239.1.1.1:5000 for 2 s</lastError>\n  \
             </input>\n</stats>\n"
        );
        assert_eq!(rendered(&stats), golden);
    }

    #[test]
    fn outputs_show_connections_errors_and_one_srt_per_link() {
        let stats = StreamStats {
            outputs: vec![
                OutputReport {
                    name: "to <studio>".into(),
                    links: vec![],
                    last_error: Some("srt://127.0.0.1:9000: connection refused".into()),
                    ..OutputReport::default()
                },
                OutputReport {
                    name: "listener".into(),
                    links: vec![link(1), link(2)],
                    last_error: None,
                    ..OutputReport::default()
                },
            ],
            ..counters()
        };
        let out = rendered(&stats);
        // An output that never sent: zeros, and no sincePacketMs.
        let health = "<bytesSent>0</bytesSent>\n      <bitrate>0</bitrate>\n      \
             <ccErrors>0</ccErrors>\n      <pcrIntervalMaxMs>0.0</pcrIntervalMaxMs>\n      \
             <pcrIntervalErrors>0</pcrIntervalErrors>\n      \
             <pcrJitterMaxMs>0.00</pcrJitterMaxMs>\n";
        let golden_first = format!(
            "  <outputs>\n    <output>\n      <name>to &lt;studio&gt;</name>\n      \
             <connections>0</connections>\n      \
             <lastError>srt://127.0.0.1:9000: connection refused</lastError>\n      \
             {health}    </output>\n    \
             <output>\n      <name>listener</name>\n      <connections>2</connections>\n      \
             {health}      <srt>\n        <rttMs>1.5</rttMs>\n"
        );
        assert!(
            out.starts_with(&format!("{COUNTERS}{golden_first}")),
            "{out}"
        );
        assert_eq!(out.matches("<srt>").count(), 2, "{out}");
        assert!(out.contains("<rttMs>2.5</rttMs>"), "{out}");
        assert!(
            out.ends_with("    </output>\n  </outputs>\n</stats>\n"),
            "{out}"
        );
        assert!(!out.contains("<input>"), "{out}");
    }

    #[test]
    fn every_output_shows_the_health_of_what_it_sent() {
        let stats = StreamStats {
            outputs: vec![OutputReport {
                name: "to VMS".into(),
                health: OutputHealth {
                    bytes: 18_800_000,
                    packets: 100_000,
                    bitrate_bps: 5_012_345,
                    cc_errors: 3,
                    pcr_interval_errors: 1,
                    pcr_interval_max_ms: 41.26,
                    pcr_jitter_max_ms: 1.234,
                    since_last_packet_ms: Some(7),
                },
                ..OutputReport::default()
            }],
            ..counters()
        };
        let golden = format!(
            "{COUNTERS}  <outputs>\n    <output>\n      <name>to VMS</name>\n      \
             <connections>0</connections>\n      <bytesSent>18800000</bytesSent>\n      \
             <bitrate>5012345</bitrate>\n      <ccErrors>3</ccErrors>\n      \
             <pcrIntervalMaxMs>41.3</pcrIntervalMaxMs>\n      \
             <pcrIntervalErrors>1</pcrIntervalErrors>\n      \
             <pcrJitterMaxMs>1.23</pcrJitterMaxMs>\n      <sincePacketMs>7</sincePacketMs>\n    \
             </output>\n  </outputs>\n</stats>\n"
        );
        assert_eq!(rendered(&stats), golden);
    }
}
