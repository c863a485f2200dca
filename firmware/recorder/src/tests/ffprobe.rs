//! An independent reader's view: ffprobe and ffmpeg (required; the
//! scripts install them) read a recording of a real H.264 stream, joined
//! mid-GOP, as H.264 whose first picture is a keyframe, that decodes
//! without an error, and lasts as long as the recorder says.

use std::fs;
use std::path::Path;
use std::process::Command;

use makara_test_support::TestDir;

use super::*;

const FFMPEG: &str = "/usr/bin/ffmpeg";
const FFPROBE: &str = "/usr/bin/ffprobe";

fn run(program: &str, args: &[&str]) -> (String, String) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed for this test (scripts/test installs it): {e}")
        });
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        text(&output.stderr)
    );
    (text(&output.stdout), text(&output.stderr))
}

/// 10 s of H.264 (2 s GOPs, B-frames) and AAC, muxed by ffmpeg.
fn source(dir: &TestDir) -> Vec<u8> {
    let path = dir.join("source.ts");
    let path_text = path.to_str().unwrap();
    run(
        FFMPEG,
        &[
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=1000:sample_rate=48000",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "50",
            "-bf",
            "2",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "mpegts",
            path_text,
        ],
    );
    fs::read(&path).unwrap()
}

fn probe(path: &Path, entries: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "-v",
        "error",
        "-show_entries",
        entries,
        "-of",
        "default=nw=1",
    ];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    run(FFPROBE, &args).0
}

fn value<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    let line = text.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
    line.unwrap_or_else(|| panic!("no {key} in {text}"))
}

#[test]
fn ffprobe_reads_a_recording_as_h264_that_lasts_as_long_as_recorded() {
    let dir = TestDir::new("recorder-ffprobe");
    let stream = source(&dir);
    let packets: Vec<[u8; PACKET_LEN]> = stream
        .chunks_exact(PACKET_LEN)
        .map(|p| p.try_into().unwrap())
        .collect();
    let (recorder, _) = open(&dir.join("recordings"), test_limits());
    let recording = recorder.start(new_recording(1)).unwrap();
    // Join 3 s in: mid-GOP.
    feed(
        &recording.sink(0).unwrap(),
        &packets[packets.len() * 3 / 10..],
    );
    let asset = recording.stop().unwrap();
    assert_eq!(asset.dropped_packets, 0);
    // 7 s left, less the wait for the keyframe at 4 s.
    assert!(
        asset.duration_secs > 5.0 && asset.duration_secs < 6.5,
        "{asset:?}"
    );

    let track = recorder.track_path(&asset.id, 0).unwrap();
    let format = probe(&track, "format=duration:stream=codec_name", &[]);
    assert!(
        format.contains("codec_name=h264") && format.contains("codec_name=aac"),
        "{format}"
    );
    let probed: f64 = value(&format, "duration").parse().unwrap();
    assert!(
        (probed - asset.duration_secs).abs() <= 1.0,
        "ffprobe {probed} s, {asset:?}"
    );

    let first = probe(
        &track,
        "frame=key_frame,pict_type",
        &["-select_streams", "v", "-read_intervals", "%+#1"],
    );
    assert_eq!(
        (value(&first, "key_frame"), value(&first, "pict_type")),
        ("1", "I")
    );
    let (_, errors) = run(
        FFMPEG,
        &[
            "-v",
            "error",
            "-i",
            track.to_str().unwrap(),
            "-f",
            "null",
            "-",
        ],
    );
    assert_eq!(errors, "", "decoding the recording");
}
