//! `tsreport FILE`: a recorded transport stream judged by the project's
//! parser against the T-STD's buffers (see `makara_mpegts::tstd`), as
//! one line of JSON for scripts and the integration tests.
//!
//! Per stream: what it used (`max_occupancy`, `max_wait_ms`, ...), and
//! `t_std_ok`, the judgement: true or false for audio and for H.264,
//! HEVC, MPEG-2 and AV1 video whose level the analyser read (then also
//! `codec`, `level`, the buffers' sizes and rates and their peaks), null
//! where it cannot judge.

use std::process::ExitCode;

use makara_mpegts::tstd::{analyse, EsReport, VideoLevel};

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
    let verdict = match es.t_std_ok() {
        Some(ok) => ok.to_string(),
        None => "null".into(),
    };
    format!(
        "{{\"pid\":{},\"stream_type\":{},\"units\":{},\"bytes\":{},\
         \"max_wait_ms\":{:.3},\"max_occupancy\":{},\"late_units\":{},\
         \"max_lateness_ms\":{:.3},\"max_transport_buffer\":{}{},\"t_std_ok\":{}}}",
        es.pid,
        es.stream_type,
        es.units,
        es.bytes,
        es.max_wait as f64 / 27_000.0,
        es.max_occupancy,
        es.late_units,
        es.max_lateness as f64 / 27_000.0,
        es.max_transport_buffer,
        video_json(es),
        verdict
    )
}

/// The video fields: codec, level, buffers and how full they got.
fn video_json(es: &EsReport) -> String {
    let Some(codec) = es.codec else {
        return String::new();
    };
    let mut out = format!(",\"codec\":\"{codec}\"");
    if let Some(level) = es.level {
        out += &format!(",\"level\":\"{}\"", level_text(&level));
    }
    if let (Some(b), Some(u)) = (es.buffers, es.buffer_use) {
        out += &format!(
            ",\"tbs\":{},\"mbs\":{},\"ebs\":{},\"rx_bps\":{},\"rbx_bps\":{},\
             \"max_tb\":{},\"max_mb\":{},\"max_eb\":{},\"eb_underflows\":{}",
            b.tbs, b.mbs, b.ebs, b.rx_bps, b.rbx_bps, u.max_tb, u.max_mb, u.max_eb, u.eb_underflows
        );
    }
    out
}

fn level_text(level: &VideoLevel) -> String {
    match *level {
        VideoLevel::H264 {
            profile_idc,
            level_idc,
        } => {
            format!(
                "profile_idc {profile_idc}, level {}.{}",
                level_idc / 10,
                level_idc % 10
            )
        }
        VideoLevel::Hevc {
            high_tier,
            level_idc,
        } => format!(
            "{} tier, level {}.{}",
            if high_tier { "high" } else { "main" },
            level_idc / 30,
            level_idc % 30 / 3
        ),
        VideoLevel::Mpeg2 {
            profile_and_level,
            vbv_buffer_bits,
        } => {
            format!("profile_and_level {profile_and_level:#04x}, vbv {vbv_buffer_bits} bits")
        }
        VideoLevel::Av1 {
            seq_profile,
            seq_level_idx,
            high_tier,
        } => format!(
            "profile {seq_profile}, level {}.{}, {} tier",
            2 + seq_level_idx / 4,
            seq_level_idx % 4,
            if high_tier { "high" } else { "main" }
        ),
    }
}
