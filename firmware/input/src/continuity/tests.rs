use super::*;

const PAYLOAD: u8 = 0x10;
const ADAPTATION: u8 = 0x20;
const BOTH: u8 = 0x30;

/// Golden header bytes: sync, PID, control (adaptation_field_control in
/// `afc`, the count), then an adaptation field of 1 flags byte when there
/// is one (discontinuity_indicator is its top bit).
fn packet(pid: u16, afc: u8, cc: u8, discontinuity: bool) -> Packet {
    let mut p = [0xFFu8; 188];
    p[0] = 0x47;
    p[1] = (pid >> 8) as u8;
    p[2] = pid as u8;
    p[3] = afc | cc;
    if afc & ADAPTATION != 0 {
        p[4] = if afc == BOTH { 1 } else { 183 };
        p[5] = if discontinuity { 0x80 } else { 0x00 };
    }
    p
}

fn payload(pid: u16, cc: u8) -> Packet {
    packet(pid, PAYLOAD, cc, false)
}

fn errors_of(packets: &[Packet]) -> Vec<bool> {
    let mut checker = ContinuityChecker::new();
    let found: Vec<bool> = packets.iter().map(|p| checker.check(p)).collect();
    assert_eq!(
        checker.errors(),
        found.iter().filter(|e| **e).count() as u64
    );
    found
}

#[test]
fn counting_up_and_wrapping_is_no_error() {
    let packets: Vec<Packet> = (0..40).map(|i| payload(0x100, i % 16)).collect();
    assert!(errors_of(&packets).iter().all(|e| !e));
}

#[test]
fn a_gap_is_one_error_and_the_count_resumes_from_it() {
    let packets = [0, 1, 2, 6, 7, 8].map(|cc| payload(0x100, cc));
    assert_eq!(
        errors_of(&packets),
        [false, false, false, true, false, false]
    );
}

#[test]
fn golden_bytes_of_a_gap() {
    // PID 0x0100, payload only, counts 14, 15, then 1: 0 was lost.
    let mut checker = ContinuityChecker::new();
    for (control, broken) in [(0x1E, false), (0x1F, false), (0x11, true)] {
        let mut p = [0u8; 188];
        p[..4].copy_from_slice(&[0x47, 0x01, 0x00, control]);
        assert_eq!(checker.check(&p), broken, "control {control:#04x}");
    }
    assert_eq!(checker.errors(), 1);
}

#[test]
fn pids_are_counted_apart() {
    let packets = [
        payload(0x100, 0),
        payload(0x101, 9),
        payload(0x100, 1),
        payload(0x101, 10),
        payload(0x101, 12),
    ];
    assert_eq!(errors_of(&packets), [false, false, false, false, true]);
}

#[test]
fn one_duplicate_is_allowed_a_third_copy_is_not() {
    let packets = [3, 4, 4, 5, 5, 5, 6].map(|cc| payload(0x100, cc));
    assert_eq!(
        errors_of(&packets),
        [false, false, false, false, false, true, false]
    );
}

#[test]
fn adaptation_only_packets_repeat_the_count() {
    let packets = [
        payload(0x100, 3),
        packet(0x100, ADAPTATION, 3, false),
        packet(0x100, ADAPTATION, 3, false),
        packet(0x100, BOTH, 4, false),
        packet(0x100, ADAPTATION, 5, false), // should have stayed at 4
        payload(0x100, 6),
    ];
    assert_eq!(
        errors_of(&packets),
        [false, false, false, false, true, false]
    );
}

#[test]
fn a_payload_after_adaptation_only_may_not_repeat() {
    let packets = [
        payload(0x100, 3),
        packet(0x100, ADAPTATION, 3, false),
        payload(0x100, 3),
    ];
    assert_eq!(errors_of(&packets), [false, false, true]);
}

#[test]
fn discontinuity_indicator_allows_any_count() {
    let packets = [
        payload(0x100, 3),
        packet(0x100, BOTH, 11, true),
        payload(0x100, 12),
        packet(0x100, ADAPTATION, 0, true),
        payload(0x100, 1),
    ];
    assert!(errors_of(&packets).iter().all(|e| !e));
}

#[test]
fn null_packets_and_bad_headers_are_ignored() {
    let mut errored = payload(0x100, 9);
    errored[1] |= 0x80; // transport_error_indicator
    let reserved = packet(0x100, 0x00, 9, false);
    let packets = [
        payload(0x1FFF, 0),
        payload(0x100, 0),
        payload(0x1FFF, 7),
        errored,
        reserved,
        payload(0x100, 1),
    ];
    assert!(errors_of(&packets).iter().all(|e| !e));
}

#[test]
fn restart_forgets_counts_not_errors() {
    let mut checker = ContinuityChecker::new();
    assert!(!checker.check(&payload(0x100, 0)));
    assert!(checker.check(&payload(0x100, 5)));
    checker.restart();
    assert!(!checker.check(&payload(0x100, 12)));
    assert_eq!(checker.errors(), 1);
}
