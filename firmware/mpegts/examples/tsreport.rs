//! `tsreport FILE`: a recorded transport stream judged by the project's
//! parser against the T-STD's buffers (see `makara_mpegts::tstd`), as
//! one line of JSON for scripts and the integration tests.

use std::process::ExitCode;

use makara_mpegts::tstd::{analyse, EsReport};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: tsreport FILE.ts");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("tsreport: {}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let Ok(report) = analyse(&bytes) else {
        eprintln!("tsreport: fewer than two PCRs, so no clock to judge by");
        return ExitCode::FAILURE;
    };
    let streams: Vec<String> = report.streams.values().map(stream_json).collect();
    let discontinuities: Vec<String> = report
        .discontinuities
        .iter()
        .map(|(pid, n)| format!("\"{pid}\":{n}"))
        .collect();
    println!(
        "{{\"packets\":{},\"null_packets\":{},\"pcrs\":{},\"min_rate_bps\":{},\
         \"max_rate_bps\":{},\"continuity_errors\":{},\"discontinuities\":{{{}}},\
         \"streams\":[{}]}}",
        report.packets,
        report.null_packets,
        report.pcrs,
        report.min_rate_bps,
        report.max_rate_bps,
        report.continuity_errors,
        discontinuities.join(","),
        streams.join(",")
    );
    ExitCode::SUCCESS
}

fn stream_json(es: &EsReport) -> String {
    format!(
        "{{\"pid\":{},\"stream_type\":{},\"units\":{},\"bytes\":{},\
         \"max_wait_ms\":{:.3},\"max_occupancy\":{},\"late_units\":{},\
         \"max_lateness_ms\":{:.3},\"max_transport_buffer\":{}}}",
        es.pid,
        es.stream_type,
        es.units,
        es.bytes,
        es.max_wait as f64 / 27_000.0,
        es.max_occupancy,
        es.late_units,
        es.max_lateness as f64 / 27_000.0,
        es.max_transport_buffer
    )
}
