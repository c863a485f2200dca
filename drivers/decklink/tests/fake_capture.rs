//! The fake driver captures the way the SDK documents: a small C++ client
//! (`tests/fake/capture_client.cpp`) written against the vendored headers
//! dlopens the fake, captures for a fraction of a second and prints what
//! it saw, which these tests check. The shim's own capture tests can then
//! rely on the fake.

mod common;

use std::collections::HashMap;
use std::process::Command;

/// What one run of the client printed, by key.
#[derive(Debug)]
struct Report(HashMap<String, String>);

impl Report {
    fn text(&self, key: &str) -> &str {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in {:?}", self.0))
    }

    fn int(&self, key: &str) -> i64 {
        self.text(key).parse().unwrap()
    }

    fn float(&self, key: &str) -> f64 {
        self.text(key).parse().unwrap()
    }
}

/// Runs the client on the fake with `args` and the environment `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Report {
    let output = Command::new(common::capture_client())
        .arg(common::two_devices())
        .args(args)
        .env_remove("MAKARA_FAKE_DECKLINK_NO_SIGNAL")
        .env_remove("MAKARA_FAKE_DECKLINK_FORMAT_CHANGE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "capture_client {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    Report(
        stdout
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// Frames are never early: at most one per frame time of the run (as the
/// client measured it around StartStreams and StopStreams), plus the
/// first at the start and one of slack; and some must have come.
fn assert_real_time(report: &Report, rate: f64) {
    let frames = report.int("frames");
    let seconds = report.int("elapsed_ms") as f64 / 1000.0;
    let most = (rate * seconds).floor() as i64 + 2;
    assert!(
        (3..=most).contains(&frames),
        "{frames} frames, at most {most}"
    );
}

/// Every frame with a signal had a packet with exactly its samples.
fn assert_exact_audio(report: &Report) {
    assert_eq!(report.int("audio_missing"), 0);
    assert_eq!(report.int("audio_time_mismatches"), 0);
    assert!(report.int("audio_samples") > 0);
    assert_eq!(
        report.int("audio_samples"),
        report.int("expected_audio_samples")
    );
}

/// The counts a clean run must have: pictures that move, timecodes that
/// count the frames, and every reference given back.
fn assert_clean(report: &Report) {
    assert_eq!(report.int("static_frames"), 0, "the bars move every frame");
    assert_eq!(report.int("row_bytes_mismatches"), 0);
    assert_eq!(report.int("timecode_mismatches"), 0);
    assert_eq!(report.int("other_timecode_formats"), 0);
    assert_eq!(report.int("stream_time_mismatches"), 0);
    assert_eq!(report.int("frames_after_stop"), 0);
    assert_eq!(report.int("callback_refs"), 1, "the callback is released");
    assert_eq!(report.int("live_objects"), 0, "every object is released");
}

fn assert_tone(report: &Report, channel: u32, hz: f64) {
    let heard = report.float(&format!("ch{channel}_hz"));
    assert!(
        (heard - hz).abs() < hz * 0.02,
        "channel {channel}: {heard} Hz, not {hz}"
    );
}

#[test]
fn ntsc_comes_in_real_time_with_exact_1001_audio_and_timecode() {
    let report = run(&["mode=NTSC", "ms=600"], &[]);
    assert_real_time(&report, 30000.0 / 1001.0);
    assert_clean(&report);
    assert_exact_audio(&report);
    assert_eq!(
        report.text("audio_counts"),
        "1601,1602",
        "1601.6 samples a frame"
    );
    assert_eq!(report.int("timecodes"), report.int("frames"));
    assert_eq!(report.int("no_signal"), 0);
    assert_eq!((report.int("width"), report.int("height")), (720, 486));
    assert_eq!(report.int("row_bytes"), 720 * 2);
    assert_tone(&report, 0, 1000.0);
    assert_tone(&report, 1, 1000.0);
    let peak = report.float("peak_dbfs");
    assert!((peak + 20.0).abs() < 0.5, "peak {peak} dBFS");
}

#[test]
fn v210_rows_are_padded_to_48_pixel_blocks() {
    let pal = run(&["mode=PAL", "format=v210", "ms=300"], &[]);
    assert_clean(&pal);
    assert_eq!(pal.int("row_bytes"), 15 * 128, "720 pixels: 15 blocks");
    let hd = run(&["mode=720p50", "format=v210", "ms=300"], &[]);
    assert_clean(&hd);
    assert_eq!(hd.int("row_bytes"), 27 * 128, "1280 pixels: 27 blocks");
    assert_real_time(&hd, 50.0);
}

#[test]
fn sixteen_channels_of_16_bit_sound_are_told_apart_by_their_tones() {
    let report = run(&["mode=PAL", "bits=16", "channels=16", "ms=400"], &[]);
    assert_clean(&report);
    assert_exact_audio(&report);
    assert_eq!(report.text("audio_counts"), "1920");
    assert_tone(&report, 0, 1000.0);
    assert_tone(&report, 1, 1000.0);
    for channel in 2..16 {
        assert_tone(&report, channel, 1000.0 + 100.0 * f64::from(channel));
    }
}

#[test]
fn a_no_signal_episode_gives_black_frames_without_sound_or_timecode() {
    let report = run(
        &["mode=PAL", "ms=600"],
        &[("MAKARA_FAKE_DECKLINK_NO_SIGNAL", "3:4")],
    );
    assert_clean(&report);
    assert_real_time(&report, 25.0);
    assert_eq!(report.int("no_signal"), 4);
    assert_eq!(report.int("no_signal_not_black"), 0);
    assert_eq!(report.int("audio_on_no_signal"), 0);
    assert_eq!(report.int("audio_packets"), report.int("frames") - 4);
    assert_eq!(report.int("timecodes"), report.int("frames") - 4);
    assert_exact_audio(&report);
}

#[test]
fn a_format_change_is_reported_once_and_followed_in_the_new_mode() {
    let report = run(
        &["mode=NTSC", "detect=1", "ms=600"],
        &[("MAKARA_FAKE_DECKLINK_FORMAT_CHANGE", "5:PAL")],
    );
    assert_clean(&report);
    assert_eq!(report.int("format_changes"), 1);
    assert_eq!(report.text("changed_to"), "PAL");
    // Display mode and field dominance (NTSC is lower field first, PAL
    // upper); both Rec. 601.
    assert_eq!(report.int("change_events"), 0b011);
    assert!(report.int("frames_after_change") > 0);
    assert_eq!(report.int("wrong_size_after_change"), 0);
    assert_eq!((report.int("width"), report.int("height")), (720, 576));
    assert_eq!(
        report.int("frames") - report.int("frames_after_change"),
        5,
        "frames 0..4 in NTSC"
    );
    assert_exact_audio(&report);
}

#[test]
fn without_a_new_enable_no_frame_follows_a_format_change() {
    let report = run(
        &["mode=NTSC", "detect=1", "reenable=0", "ms=400"],
        &[("MAKARA_FAKE_DECKLINK_FORMAT_CHANGE", "5:PAL")],
    );
    assert_clean(&report);
    assert_eq!(report.int("format_changes"), 1);
    assert_eq!(report.int("frames"), 5);
}

#[test]
fn without_format_detection_the_change_does_not_happen() {
    let report = run(
        &["mode=NTSC", "ms=400"],
        &[("MAKARA_FAKE_DECKLINK_FORMAT_CHANGE", "5:PAL")],
    );
    assert_clean(&report);
    assert_eq!(report.int("format_changes"), 0);
    assert_eq!(report.int("height"), 486);
    assert!(report.int("frames") > 5);
}

#[test]
fn streams_stopped_from_inside_the_callback_deliver_nothing_more() {
    let report = run(&["mode=PAL", "stop_after=4", "ms=400"], &[]);
    assert_clean(&report);
    assert_eq!(report.int("frames"), 4);
}

#[test]
fn the_input_refuses_what_the_card_cannot_do() {
    let report = run(&["errors"], &[]);
    for check in [
        "start_without_video_fails",
        "bad_pixel_format_rejected",
        "unknown_mode_rejected",
        "bad_flags_rejected",
        "bad_channels_rejected",
        "bad_sample_type_rejected",
        "detection_accepted",
        "start_without_callback_fails",
        "supports_pal_v210",
        "does_not_support_unknown_mode",
        "allocator_refused_while_enabled",
        "preview_accepted",
        "one_input_per_device",
        "reference_clock",
        "malformed_script_rejected",
        "callback_held",
        "callback_released",
        "allocator_set_while_disabled",
        "allocator_unset_by_null",
        "commit_and_decommit_once_per_enable",
        "no_allocation_without_streams",
        "failed_commit_fails_enable",
        "release_decommits",
    ] {
        assert_eq!(report.int(check), 1, "{check}");
    }
    assert_eq!(report.int("live_objects"), 0);
}

/// What a run with the client's allocator must show whatever it holds:
/// every frame in one of its buffers of exactly rowBytes * height, every
/// buffer given back once by the end (none it did not give, none while the
/// client kept its frame, pictures of kept frames untouched), allocations
/// only between one Commit and one Decommit, and the allocator released.
fn assert_own_buffers(report: &Report) {
    assert_eq!(report.int("frames_in_own_buffers"), report.int("frames"));
    assert_eq!(report.int("frames_in_other_buffers"), 0);
    assert_eq!(report.int("buffer_size_mismatches"), 0);
    assert_eq!(report.int("allocations"), report.int("frames"));
    assert_eq!(report.int("releases"), report.int("allocations"));
    assert_eq!(report.int("outstanding"), 0);
    assert_eq!(report.int("unknown_releases"), 0);
    assert_eq!(report.int("released_while_held"), 0);
    assert_eq!(report.int("kept_frames_changed"), 0);
    assert_eq!((report.int("commits"), report.int("decommits")), (1, 1));
    assert_eq!(report.int("commits_while_committed"), 0);
    assert_eq!(report.int("decommits_while_decommitted"), 0);
    assert_eq!(report.int("uncommitted_allocations"), 0);
    assert_eq!(report.int("pool_refs"), 1, "the allocator is released");
}

#[test]
fn with_an_allocator_frames_are_captured_into_the_clients_buffers() {
    let report = run(&["mode=PAL", "pool=4", "ms=400"], &[]);
    assert_clean(&report);
    assert_real_time(&report, 25.0);
    assert_exact_audio(&report);
    assert_own_buffers(&report);
    assert_eq!(report.text("sizes"), "829440", "UYVY 720x576: 1440 * 576");
    assert_eq!(report.int("refusals"), 0);
    assert_eq!(report.int("dropped_frames"), 0);
    assert_eq!(
        report.int("max_outstanding"),
        1,
        "each frame released on return"
    );
    let v210 = run(&["mode=PAL", "format=v210", "pool=4", "ms=300"], &[]);
    assert_clean(&v210);
    assert_own_buffers(&v210);
    assert_eq!(v210.text("sizes"), (15 * 128 * 576).to_string());
}

#[test]
fn kept_frames_keep_their_buffers_until_released_even_after_the_input() {
    // Each frame released from the callback three frames later; the last
    // three by the main thread once the input itself is released.
    let report = run(&["mode=PAL", "pool=8", "hold=3", "ms=400"], &[]);
    assert_clean(&report);
    assert_own_buffers(&report);
    assert_eq!(
        report.int("max_outstanding"),
        4,
        "three kept and the one arriving"
    );
    assert_eq!(report.int("kept_after_input"), 3);
    assert_eq!(
        report.int("live_objects_while_kept"),
        3,
        "only the kept frames outlive the input"
    );
    assert_eq!(
        report.int("releases_after_decommit"),
        3,
        "their buffers come back after DisableVideoInput"
    );
    // Released by the main thread while frames keep coming.
    let report = run(&["mode=PAL", "pool=8", "hold_ms=50", "ms=400"], &[]);
    assert_clean(&report);
    assert_own_buffers(&report);
}

#[test]
fn an_allocator_out_of_buffers_makes_the_card_drop_frames_and_go_on() {
    // Two buffers, each frame kept 100 ms at 25 frames a second: every
    // few frames no buffer is free.
    let report = run(&["mode=PAL", "pool=2", "hold_ms=100", "ms=600"], &[]);
    assert_own_buffers(&report);
    assert_eq!(report.int("max_outstanding"), 2);
    let refusals = report.int("refusals");
    assert!(refusals > 0, "the pool ran dry");
    assert_eq!(
        report.int("dropped_frames"),
        refusals,
        "one drop per refusal"
    );
    assert!(
        report.int("frames_after_refusal") > 0,
        "frames still come after a drop"
    );
    // Dropped frames are gaps in stream time and timecode (the client
    // numbers frames across the gaps, so assert_clean checks the
    // timecodes); drops after the last frame leave no gap.
    let skipped = report.int("skipped");
    assert!((1..=refusals).contains(&skipped), "{skipped} skipped");
    assert_clean(&report);
    assert_exact_audio(&report);
}

#[test]
fn with_an_allocator_a_format_change_asks_for_buffers_of_the_new_size() {
    let report = run(
        &["mode=NTSC", "detect=1", "pool=4", "hold=2", "ms=600"],
        &[("MAKARA_FAKE_DECKLINK_FORMAT_CHANGE", "5:PAL")],
    );
    assert_clean(&report);
    assert_own_buffers(&report);
    assert_eq!(report.int("format_changes"), 1);
    assert!(report.int("frames_after_change") > 0);
    assert_eq!(report.int("wrong_size_after_change"), 0);
    assert_eq!(
        report.text("sizes"),
        "699840,829440",
        "720x486 then 720x576, UYVY"
    );
    assert_eq!(report.int("refusals"), 0);
}
