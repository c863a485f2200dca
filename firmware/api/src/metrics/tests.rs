//! The document, golden, from made-up views.

use makara_config::{Id, OutputType, StreamConfig, StreamMode};
use makara_supervisor::{OutputHealth, OutputReport, StreamOutputView, StreamState, StreamView};

use super::families::{render, Snapshot};

fn id(n: u8) -> Id {
    Id::parse(&format!("00000000-0000-4000-8000-0000000000{n:02x}")).unwrap()
}

fn stream(n: u8, name: &str, state: StreamState, outputs: Vec<StreamOutputView>) -> StreamView {
    StreamView {
        id: id(n),
        config: StreamConfig {
            name: name.into(),
            description: None,
            auto_start: false,
            mode: StreamMode::Transcoder,
            input: id(0xee),
            transcoder: None,
            outputs: outputs.iter().map(|o| o.id.clone()).collect(),
            passthru: None,
        },
        state,
        last_error: None,
        stats: None,
        input_name: "in".into(),
        transcoder_name: None,
        output_names: outputs.iter().map(|o| o.name.clone()).collect(),
        passthru_name: None,
        output_reports: outputs,
    }
}

fn output(
    n: u8,
    name: &str,
    output_type: OutputType,
    report: Option<OutputReport>,
) -> StreamOutputView {
    StreamOutputView {
        id: id(n),
        name: name.into(),
        output_type,
        report,
    }
}

fn delivering() -> OutputReport {
    OutputReport {
        name: "udp".into(),
        health: OutputHealth {
            bytes: 1_880_000,
            packets: 10_000,
            bitrate_bps: 5_000_000,
            cc_errors: 2,
            pcr_interval_errors: 1,
            pcr_interval_max_ms: 41.5,
            pcr_jitter_max_ms: 1.25,
            since_last_packet_ms: Some(3),
        },
        ..OutputReport::default()
    }
}

fn waiting() -> OutputReport {
    OutputReport {
        name: "srt \"studio\"".into(),
        last_error: Some("no caller connected".into()),
        ..OutputReport::default()
    }
}

const GOLDEN: &str = r#"# HELP makara_build_info The firmware's version, as a label; always 1.
# TYPE makara_build_info gauge
makara_build_info{version="1.2.3"} 1
# HELP makara_uptime_seconds Time since makarad started.
# TYPE makara_uptime_seconds gauge
makara_uptime_seconds 61
# HELP makara_metrics_streams_omitted Streams left out of this document to keep it within its size limit.
# TYPE makara_metrics_streams_omitted gauge
makara_metrics_streams_omitted 0
# HELP makara_stream_state 1 for the state the stream is in (stopped, waiting: started but not delivering, active), 0 for the others.
# TYPE makara_stream_state gauge
makara_stream_state{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",state="stopped"} 0
makara_stream_state{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",state="waiting"} 1
makara_stream_state{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",state="active"} 0
makara_stream_state{stream_id="00000000-0000-4000-8000-000000000002",stream_name="off",state="stopped"} 1
makara_stream_state{stream_id="00000000-0000-4000-8000-000000000002",stream_name="off",state="waiting"} 0
makara_stream_state{stream_id="00000000-0000-4000-8000-000000000002",stream_name="off",state="active"} 0
# HELP makara_output_up 1 while the output delivers the stream (an SRT output: a peer is connected), 0 while it waits.
# TYPE makara_output_up gauge
makara_output_up{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",output_id="00000000-0000-4000-8000-000000000011",output_name="udp",output_type="udp"} 1
makara_output_up{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",output_id="00000000-0000-4000-8000-000000000012",output_name="srt \"studio\"\nB",output_type="srt"} 0
# HELP makara_output_bytes_total Bytes of transport stream packets the output sent since the stream started.
# TYPE makara_output_bytes_total counter
makara_output_bytes_total{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",output_id="00000000-0000-4000-8000-000000000011",output_name="udp",output_type="udp"} 1880000
makara_output_bytes_total{stream_id="00000000-0000-4000-8000-000000000001",stream_name="News \\ 1",output_id="00000000-0000-4000-8000-000000000012",output_name="srt \"studio\"\nB",output_type="srt"} 0
"#;

#[test]
fn streams_and_outputs_with_escaped_labels() {
    let streams = vec![
        stream(
            1,
            "News \\ 1",
            StreamState::Waiting,
            vec![
                output(0x11, "udp", OutputType::Udp, Some(delivering())),
                output(0x12, "srt \"studio\"\nB", OutputType::Srt, Some(waiting())),
                // Disabled: not run, no report, no samples.
                output(0x13, "spare", OutputType::Rtmp, None),
            ],
        ),
        stream(
            2,
            "off",
            StreamState::Stopped,
            vec![output(0x14, "x", OutputType::Udp, None)],
        ),
    ];
    let doc = render(
        &Snapshot {
            version: "1.2.3",
            uptime_secs: 61,
            streams: &streams,
        },
        super::MAX_BYTES,
    );
    assert!(doc.starts_with(GOLDEN), "{doc}");
    let rest = &doc[GOLDEN.len()..];
    let udp = "{stream_id=\"00000000-0000-4000-8000-000000000001\",stream_name=\"News \\\\ 1\",\
               output_id=\"00000000-0000-4000-8000-000000000011\",output_name=\"udp\",output_type=\"udp\"}";
    for line in [
        format!("makara_output_packets_total{udp} 10000\n"),
        format!("makara_output_cc_errors_total{udp} 2\n"),
        format!("makara_output_pcr_interval_errors_total{udp} 1\n"),
        format!("makara_output_pcr_interval_max_seconds{udp} 0.0415\n"),
        format!("makara_output_pcr_jitter_max_seconds{udp} 0.00125\n"),
        format!("makara_output_bitrate_bits_per_second{udp} 5000000\n"),
        format!("makara_output_seconds_since_last_packet{udp} 0.003\n"),
    ] {
        assert!(rest.contains(&line), "{line} missing from\n{rest}");
    }
    // The waiting output never sent: no time since its last packet.
    assert_eq!(
        rest.matches("makara_output_seconds_since_last_packet{")
            .count(),
        1
    );
    assert!(!doc.contains("spare") && !doc.contains("0000000000000014"));
    // Every family once, with help and type.
    assert_eq!(doc.matches("# TYPE ").count(), 13);
    assert_eq!(doc.matches("# HELP ").count(), 13);
}

#[test]
fn streams_past_the_limit_are_left_out_whole_and_counted() {
    let streams: Vec<_> = (0..40)
        .map(|n| {
            let outputs = (0..4)
                .map(|o| output(100 + o, "an output", OutputType::Udp, Some(delivering())))
                .collect();
            stream(n, "a stream", StreamState::Active, outputs)
        })
        .collect();
    let snapshot = Snapshot {
        version: "1",
        uptime_secs: 1,
        streams: &streams,
    };
    let whole = render(&snapshot, super::MAX_BYTES);
    assert!(whole.contains("makara_metrics_streams_omitted 0\n"));
    let limit = 64 * 1024;
    let cut = render(&snapshot, limit);
    assert!(cut.len() <= limit, "{} bytes", cut.len());
    let kept = cut.matches("state=\"active\"} 1").count();
    assert!(kept > 0 && kept < 40, "{kept}");
    assert!(cut.contains(&format!("makara_metrics_streams_omitted {}\n", 40 - kept)));
    // A stream kept is kept with every output.
    assert_eq!(cut.matches("makara_output_up{").count(), kept * 4);
}
