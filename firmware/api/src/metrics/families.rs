//! What `/metrics` says, from one list of streams (one snapshot of the
//! supervisor's): the state of every stream, and for every output of a
//! running stream whether it delivers and the health of what it sent.

use makara_config::OutputType;
use makara_supervisor::{OutputReport, StreamState, StreamView};

use super::exposition::{labels, Exposition, Type, Value};

/// Room kept for the process families and every family's help and type
/// lines.
const HEADER_ROOM: usize = 8 * 1024;
/// A sample's name, separators and value beyond its labels, at most.
const SAMPLE_ROOM: usize = 72;

/// What the document is made from.
#[derive(Debug)]
pub struct Snapshot<'a> {
    pub version: &'a str,
    pub uptime_secs: u64,
    pub streams: &'a [StreamView],
}

/// One family of output samples: name, type, help, and the value from a
/// report (`None`: no sample).
type OutputFamily = (
    &'static str,
    Type,
    &'static str,
    fn(&OutputReport) -> Option<Value>,
);

const OUTPUT_FAMILIES: [OutputFamily; 9] = [
    (
        "makara_output_up",
        Type::Gauge,
        "1 while the output delivers the stream (an SRT output: a peer is connected), 0 while it waits.",
        |r| Some(r.last_error.is_none().into()),
    ),
    (
        "makara_output_bytes_total",
        Type::Counter,
        "Bytes of transport stream packets the output sent since the stream started.",
        |r| Some(r.health.bytes.into()),
    ),
    (
        "makara_output_packets_total",
        Type::Counter,
        "188-byte transport stream packets the output sent since the stream started.",
        |r| Some(r.health.packets.into()),
    ),
    (
        "makara_output_cc_errors_total",
        Type::Counter,
        "Continuity counter errors in what the output sent (ETSI TR 101 290 1.4).",
        |r| Some(r.health.cc_errors.into()),
    ),
    (
        "makara_output_pcr_interval_errors_total",
        Type::Counter,
        "PCRs sent more than 40 ms after the previous one of their PID (ETSI TR 101 290 2.3a).",
        |r| Some(r.health.pcr_interval_errors.into()),
    ),
    (
        "makara_output_pcr_interval_max_seconds",
        Type::Gauge,
        "The longest time between two PCRs of one PID in the last 10 s.",
        |r| Some(seconds(r.health.pcr_interval_max_ms)),
    ),
    (
        "makara_output_pcr_jitter_max_seconds",
        Type::Gauge,
        "The largest deviation of a PCR's departure from what the PCR clock predicts, in the last 10 s.",
        |r| Some(seconds(r.health.pcr_jitter_max_ms)),
    ),
    (
        "makara_output_bitrate_bits_per_second",
        Type::Gauge,
        "The rate the output sent at over the last second.",
        |r| Some(r.health.bitrate_bps.into()),
    ),
    (
        "makara_output_seconds_since_last_packet",
        Type::Gauge,
        "Time since the output sent its last packet (no sample before the first).",
        |r| r.health.since_last_packet_ms.map(|ms| Value::Float(ms as f64 / 1e3)),
    ),
];

const STATES: [(StreamState, &str); 3] = [
    (StreamState::Stopped, "stopped"),
    (StreamState::Waiting, "waiting"),
    (StreamState::Active, "active"),
];

/// The document, at most `max_bytes` long: streams that would take it
/// past are left out whole, and counted.
pub fn render(snapshot: &Snapshot, max_bytes: usize) -> String {
    let budget = max_bytes.saturating_sub(HEADER_ROOM);
    let mut used = 0;
    let mut streams = Vec::new();
    let mut omitted = 0u64;
    for view in snapshot.streams {
        let stream = StreamSeries::of(view);
        let cost = stream.cost();
        if used + cost <= budget {
            used += cost;
            streams.push(stream);
        } else {
            omitted += 1;
        }
    }
    let mut e = Exposition::default();
    process(&mut e, snapshot, omitted);
    e.family(
        "makara_stream_state",
        Type::Gauge,
        "1 for the state the stream is in (stopped, waiting: started but not delivering, active), 0 for the others.",
    );
    for stream in &streams {
        for (state, word) in STATES {
            let l = format!("{},state=\"{word}\"}}", stream.labels.trim_end_matches('}'));
            e.sample("makara_stream_state", &l, stream.state == state);
        }
    }
    for (name, kind, help, value) in OUTPUT_FAMILIES {
        e.family(name, kind, help);
        for (labels, report) in streams.iter().flat_map(|s| &s.outputs) {
            if let Some(v) = value(report) {
                e.sample(name, labels, v);
            }
        }
    }
    e.finish()
}

fn process(e: &mut Exposition, snapshot: &Snapshot, omitted: u64) {
    e.family(
        "makara_build_info",
        Type::Gauge,
        "The firmware's version, as a label; always 1.",
    );
    e.sample(
        "makara_build_info",
        &labels(&[("version", snapshot.version)]),
        1u64,
    );
    e.family(
        "makara_uptime_seconds",
        Type::Gauge,
        "Time since makarad started.",
    );
    e.sample("makara_uptime_seconds", "", snapshot.uptime_secs);
    e.family(
        "makara_metrics_streams_omitted",
        Type::Gauge,
        "Streams left out of this document to keep it within its size limit.",
    );
    e.sample("makara_metrics_streams_omitted", "", omitted);
}

/// One stream's labels, and each of its reported outputs' labels.
struct StreamSeries<'a> {
    labels: String,
    state: StreamState,
    outputs: Vec<(String, &'a OutputReport)>,
}

impl<'a> StreamSeries<'a> {
    fn of(view: &'a StreamView) -> StreamSeries<'a> {
        let id = view.id.to_string();
        let name = view.config.name.as_str();
        let outputs = view
            .output_reports
            .iter()
            .filter_map(|o| {
                let report = o.report.as_ref()?;
                let output_id = o.id.to_string();
                let l = labels(&[
                    ("stream_id", &id),
                    ("stream_name", name),
                    ("output_id", &output_id),
                    ("output_name", &o.name),
                    ("output_type", type_word(o.output_type)),
                ]);
                Some((l, report))
            })
            .collect();
        StreamSeries {
            labels: labels(&[("stream_id", &id), ("stream_name", name)]),
            state: view.state,
            outputs,
        }
    }

    /// The bytes its samples take, at most.
    fn cost(&self) -> usize {
        let state = STATES.len() * (self.labels.len() + 16 + SAMPLE_ROOM);
        let outputs: usize = self
            .outputs
            .iter()
            .map(|(l, _)| OUTPUT_FAMILIES.len() * (l.len() + SAMPLE_ROOM))
            .sum();
        state + outputs
    }
}

fn type_word(t: OutputType) -> &'static str {
    match t {
        OutputType::Udp => "udp",
        OutputType::Srt => "srt",
        OutputType::Rtmp => "rtmp",
        OutputType::Rtsp => "rtsp",
    }
}

fn seconds(ms: f64) -> Value {
    Value::Float(ms / 1e3)
}
