//! The T-STD analyser (`tstd::analyse`, behind `tsreport`) on a fuzzed
//! recording: PCR clock recovery with wraps, the demuxer, and the buffer
//! model. No panic (overflow included: fuzz builds check arithmetic), and
//! a report that agrees with itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_mpegts::packet::PACKET_LEN;
use makara_mpegts::tstd::analyse;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = analyse(data) else {
        return;
    };
    assert_eq!(report.packets, (data.len() / PACKET_LEN) as u64);
    assert!(report.pcrs >= 2 && report.pcrs <= report.packets);
    assert!(report.null_packets <= report.packets);
    assert!(report.min_rate_bps <= report.max_rate_bps);
    for (pid, es) in &report.streams {
        assert_eq!(*pid, es.pid);
        assert!(es.late_units <= es.units, "{es:?}");
        assert!(es.max_lateness == 0 || es.late_units > 0, "{es:?}");
    }
});
