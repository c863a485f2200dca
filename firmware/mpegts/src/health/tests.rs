//! Golden packets, built byte by byte, through the analyser.

use makara_media::MonotonicNs;

use super::*;

const MS: u64 = 1_000_000;
const VIDEO: u16 = 0x100;

/// A packet of `pid` with counter `cc`: a payload of 0xAA, or (without
/// one) an adaptation field filling the packet; `pcr` (27 MHz ticks) and
/// `discontinuity` go in the adaptation field.
fn packet(pid: u16, cc: u8, payload: bool, pcr: Option<u64>, discontinuity: bool) -> [u8; 188] {
    let mut p = [0xAAu8; 188];
    let adaptation = pcr.is_some() || discontinuity || !payload;
    let control = match (adaptation, payload) {
        (true, true) => 0x30,
        (true, false) => 0x20,
        _ => 0x10,
    };
    p[..4].copy_from_slice(&[0x47, (pid >> 8) as u8 & 0x1F, pid as u8, control | cc]);
    if adaptation {
        let len = if payload { 7 } else { 183 };
        p[4] = len;
        p[5] = if discontinuity { 0x80 } else { 0 };
        p[6..5 + usize::from(len)].fill(0xFF);
        if let Some(pcr) = pcr {
            p[5] |= 0x10;
            let (base, ext) = (pcr / 300, pcr % 300);
            let bits = (base << 15) | (0x3F << 9) | ext;
            p[6..12].copy_from_slice(&bits.to_be_bytes()[2..]);
        }
    }
    p
}

fn data(pid: u16, cc: u8) -> [u8; 188] {
    packet(pid, cc, true, None, false)
}

fn at(ms: u64) -> MonotonicNs {
    MonotonicNs(ms * MS)
}

fn feed(a: &mut Analyser, packets: &[[u8; 188]], ms: u64) {
    a.packets(packets.iter(), at(ms));
}

#[test]
fn the_golden_pcr_packet_reads_as_one_second() {
    // PID 0x100, adaptation and payload, counter 5; a 7-byte adaptation
    // field with the PCR flag; PCR base 90000 (one second), extension 0.
    let mut golden = [0xAAu8; 188];
    golden[..12].copy_from_slice(&[
        0x47, 0x01, 0x00, 0x35, 0x07, 0x10, 0x00, 0x00, 0xAF, 0xC8, 0x7E, 0x00,
    ]);
    assert_eq!(golden, packet(VIDEO, 5, true, Some(27_000_000), false));
    let mut a = Analyser::new();
    a.packet(&golden, at(1000));
    // The same PCR clock 40 ms on, leaving a millisecond late.
    a.packet(&packet(VIDEO, 6, true, Some(28_080_000), false), at(1041));
    let r = a.report(at(1041));
    assert_eq!((r.pcr_jitter_max_ns, r.pcr_interval_max_ns), (MS, 41 * MS));
    assert_eq!(r.pcr_interval_errors, 1);
    assert_eq!((r.cc_errors, r.packets, r.bytes), (0, 2, 376));
}

#[test]
fn counters_that_follow_on_are_clean_across_the_wrap() {
    let mut a = Analyser::new();
    let run: Vec<_> = (0..40).map(|i| data(VIDEO, i % 16)).collect();
    feed(&mut a, &run, 0);
    assert_eq!(a.report(at(0)).cc_errors, 0);
}

#[test]
fn a_lost_packet_and_a_reordered_one_are_errors() {
    let mut a = Analyser::new();
    feed(&mut a, &[data(VIDEO, 0), data(VIDEO, 1), data(VIDEO, 3)], 0);
    assert_eq!(a.report(at(0)).cc_errors, 1, "2 lost");
    feed(&mut a, &[data(VIDEO, 5), data(VIDEO, 4)], 0);
    assert_eq!(
        a.report(at(0)).cc_errors,
        3,
        "3..5 skips, then 5 -> 4 goes back"
    );
}

#[test]
fn one_duplicate_is_allowed_a_second_is_not() {
    let mut a = Analyser::new();
    feed(&mut a, &[data(VIDEO, 7), data(VIDEO, 7), data(VIDEO, 8)], 0);
    assert_eq!(a.report(at(0)).cc_errors, 0);
    feed(&mut a, &[data(VIDEO, 8), data(VIDEO, 8)], 0);
    assert_eq!(a.report(at(0)).cc_errors, 1, "three packets with counter 8");
}

#[test]
fn packets_without_payload_do_not_advance_the_counter() {
    let mut a = Analyser::new();
    let pcr_only = packet(VIDEO, 2, false, Some(0), false);
    feed(&mut a, &[data(VIDEO, 2), pcr_only, data(VIDEO, 3)], 0);
    assert_eq!(a.report(at(0)).cc_errors, 0);
}

#[test]
fn the_discontinuity_indicator_and_an_interruption_restart_the_count() {
    let mut a = Analyser::new();
    let fresh = packet(VIDEO, 9, true, None, true);
    feed(&mut a, &[data(VIDEO, 0), fresh, data(VIDEO, 10)], 0);
    assert_eq!(a.report(at(0)).cc_errors, 0);
    a.interrupted();
    feed(&mut a, &[data(VIDEO, 3), data(VIDEO, 4)], 10);
    assert_eq!(a.report(at(10)).cc_errors, 0);
}

#[test]
fn pids_are_counted_apart_and_null_packets_not_at_all() {
    let mut a = Analyser::new();
    feed(
        &mut a,
        &[
            data(VIDEO, 0),
            data(0x101, 9),
            data(NULL_PID, 4),
            data(VIDEO, 1),
            data(NULL_PID, 4),
            data(0x101, 10),
        ],
        0,
    );
    let r = a.report(at(0));
    assert_eq!((r.cc_errors, r.packets), (0, 6));
}

/// PCRs on `pid` every `step` ms from `from` ms, `count` of them, each
/// leaving `late(i)` ms after its time; the PCR clock starts at 0 at
/// `from`.
fn pcrs(a: &mut Analyser, from: u64, step: u64, count: u64, late: impl Fn(u64) -> u64) {
    for i in 0..count {
        let pcr = i * step * 27_000;
        let p = packet(VIDEO, (i % 16) as u8, true, Some(pcr), false);
        a.packet(&p, at(from + i * step + late(i)));
    }
}

#[test]
fn a_steady_pcr_has_no_jitter() {
    let mut a = Analyser::new();
    pcrs(&mut a, 5000, 20, 200, |_| 0);
    let r = a.report(at(9000));
    assert_eq!((r.pcr_jitter_max_ns, r.pcr_jitter_max_ns_overall), (0, 0));
    assert_eq!((r.pcr_interval_max_ns, r.pcr_interval_errors), (20 * MS, 0));
}

#[test]
fn a_late_pcr_is_jitter_for_a_window_and_in_the_overall_maximum() {
    let mut a = Analyser::new();
    // 100 PCRs 20 ms apart from t = 5 s; the 50th leaves 3 ms late.
    pcrs(&mut a, 5000, 20, 100, |i| if i == 50 { 3 } else { 0 });
    let r = a.report(at(7000));
    assert_eq!(
        (r.pcr_jitter_max_ns, r.pcr_jitter_max_ns_overall),
        (3 * MS, 3 * MS)
    );
    assert_eq!(r.pcr_interval_max_ns, 23 * MS);
    // A window later, only the overall maximum remembers it.
    let r = a.report(at(7000 + WINDOW_SECS * 1000));
    assert_eq!(
        (r.pcr_jitter_max_ns, r.pcr_jitter_max_ns_overall),
        (0, 3 * MS)
    );
    assert_eq!(
        (r.pcr_interval_max_ns, r.pcr_interval_max_ns_overall),
        (0, 23 * MS)
    );
}

#[test]
fn an_early_pcr_makes_the_others_late() {
    let mut a = Analyser::new();
    // Every PCR 2 ms late but the 10th: the 10th is the reference.
    pcrs(&mut a, 1000, 20, 30, |i| if i == 10 { 0 } else { 2 });
    assert_eq!(a.report(at(1600)).pcr_jitter_max_ns, 2 * MS);
}

#[test]
fn pcr_intervals_over_40_ms_are_errors() {
    let mut a = Analyser::new();
    for (i, ms) in [0u64, 30, 80, 120, 170].into_iter().enumerate() {
        let p = packet(VIDEO, i as u8, true, Some(ms * 27_000), false);
        a.packet(&p, at(1000 + ms));
    }
    let r = a.report(at(1200));
    assert_eq!((r.pcr_interval_errors, r.pcr_interval_max_ns), (2, 50 * MS));
    assert_eq!(r.pcr_jitter_max_ns, 0);
}

#[test]
fn a_pcr_that_jumps_or_wraps_is_not_jitter() {
    let mut a = Analyser::new();
    let wrap = (1u64 << 33) * 300;
    // Just before the wrap, across it, then a jump of an hour (a new
    // clock), then back by a second (another).
    let values = [
        wrap - 27_000 * 20,
        0,
        27_000 * 20,
        27_000 * 3_600_000,
        27_000 * 3_599_000,
    ];
    for (i, pcr) in values.into_iter().enumerate() {
        let p = packet(VIDEO, i as u8, true, Some(pcr), false);
        a.packet(&p, at(1000 + 20 * i as u64));
    }
    let r = a.report(at(1100));
    assert_eq!((r.pcr_jitter_max_ns_overall, r.pcr_interval_errors), (0, 0));
}

#[test]
fn the_discontinuity_indicator_starts_a_new_pcr_clock() {
    let mut a = Analyser::new();
    a.packet(&packet(VIDEO, 0, true, Some(27_000_000), false), at(1000));
    a.packet(&packet(VIDEO, 1, true, Some(5_400_000), true), at(1020));
    a.packet(&packet(VIDEO, 2, true, Some(5_940_000), false), at(1040));
    assert_eq!(a.report(at(1040)).pcr_jitter_max_ns_overall, 0);
}

#[test]
fn pcrs_of_several_pids_are_judged_each_on_its_own_clock() {
    let mut a = Analyser::new();
    for i in 0..10u64 {
        // PID 0x100's clock starts at 0, 0x200's an hour in; both steady.
        let one = packet(VIDEO, i as u8, true, Some(i * 540_000), false);
        let two = packet(
            0x200,
            i as u8,
            true,
            Some(97_200_000_000 + i * 540_000),
            false,
        );
        a.packets([one, two].iter(), at(1000 + 20 * i));
    }
    let r = a.report(at(1200));
    assert_eq!((r.pcr_jitter_max_ns, r.cc_errors), (0, 0));
}

#[test]
fn the_bitrate_is_over_the_last_whole_second() {
    let mut a = Analyser::new();
    assert_eq!(a.report(at(0)).since_last_packet_ns, None);
    // 100 packets every 10 ms for 3 s: 1.504 Mbit/s.
    for tick in 0..300 {
        // Counters run on across batches: 100 % 16 == 4.
        let start = (tick * 100 % 16) as u8;
        let batch: Vec<_> = (0..100u8).map(|i| data(VIDEO, (start + i) % 16)).collect();
        feed(&mut a, &batch, 10_000 + tick * 10);
    }
    let r = a.report(at(12_995));
    assert_eq!(r.bitrate_bps, 100 * 188 * 8 * 100);
    assert_eq!(r.since_last_packet_ns, Some(5 * MS));
    assert_eq!((r.packets, r.bytes, r.cc_errors), (30_000, 30_000 * 188, 0));
    // Half a second after the last packet, half the rate; two seconds
    // after, none.
    assert_eq!(a.report(at(13_500)).bitrate_bps, 100 * 188 * 8 * 50);
    assert_eq!(a.report(at(15_000)).bitrate_bps, 0);
}

#[test]
fn before_a_second_has_passed_the_rate_is_over_the_time_since_the_first_packet() {
    let mut a = Analyser::new();
    feed(&mut a, &[data(VIDEO, 0), data(VIDEO, 1)], 1000);
    assert_eq!(a.report(at(1050)).bitrate_bps, 0, "no whole slot yet");
    assert_eq!(a.report(at(1100)).bitrate_bps, 2 * 188 * 8 * 10);
}

#[test]
fn garbage_and_transport_errors_are_counted_as_bytes_only() {
    let mut a = Analyser::new();
    let mut errored = data(VIDEO, 9);
    errored[1] |= 0x80;
    let garbage = [0u8; 188];
    feed(
        &mut a,
        &[data(VIDEO, 0), errored, garbage, data(VIDEO, 1)],
        0,
    );
    let r = a.report(at(0));
    assert_eq!((r.packets, r.cc_errors), (4, 0));
}
