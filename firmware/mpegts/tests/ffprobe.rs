//! Interoperability: ffprobe and ffmpeg, an independent demuxer and
//! decoders, read what the muxer writes. The elementary streams are real
//! (see `common/synth.rs`), so "recognised" means decoded, not just listed.
//! The tests fail where ffprobe or ffmpeg is missing: the scripts install
//! ffmpeg, so a machine without them cannot judge the muxer.

#[path = "common/synth.rs"]
mod synth;
#[path = "common/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};

use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::mux::{MuxConfig, Muxer};
use makara_test_support::TestDir;
use tools::{FFMPEG, FFPROBE};

const FRAME_TICKS: u64 = 3_600; // 25 frame/s
/// DTS of the first unit: the decoder's buffer delay after the first PCR.
const DELAY: u64 = 18_000; // 200 ms

struct Unit {
    dts: u64,
    push: Box<dyn Fn(&mut Muxer)>,
}

/// Writes `seconds` of H.264, the given audio and (optionally) one KLV
/// unit per second to a .ts file in `dir`; returns the path and the KLV.
fn write_stream(
    dir: &TestDir,
    name: &str,
    seconds: u64,
    audio: AudioCodec,
    klv: bool,
) -> (PathBuf, Vec<u8>) {
    let config = MuxConfig {
        video: Some((0x100, VideoCodec::H264)),
        audio: Some((0x101, audio)),
        klv_pid: klv.then_some(0x102),
        ..MuxConfig::new(1_000_000)
    };
    let mut units = Vec::new();
    for n in 0..seconds * 25 {
        let dts = DELAY + n * FRAME_TICKS;
        let au = EncodedVideo {
            data: synth::h264_access_unit(n, 25, n as u8),
            pts: Clock90k(dts),
            dts: Clock90k(dts),
            keyframe: n % 25 == 0,
        };
        units.push(Unit {
            dts,
            push: Box::new(move |m: &mut Muxer| m.push_video(&au)),
        });
    }
    let (frame, step) = match audio {
        AudioCodec::Mp2 => (synth::mp2_silent_frame(), synth::MP2_FRAME_TICKS),
        AudioCodec::AacAdts => (synth::adts_silent_frame(), synth::AAC_FRAME_TICKS),
    };
    for n in 0..seconds * 90_000 / step {
        let frames = EncodedAudio {
            data: frame.clone(),
            pts: Clock90k(DELAY + n * step),
        };
        units.push(Unit {
            dts: frames.pts.0,
            push: Box::new(move |m: &mut Muxer| m.push_audio(&frames)),
        });
    }
    let mut all_klv = Vec::new();
    for n in 0..if klv { seconds } else { 0 } {
        // A KLV unit: a 16-byte universal key, a BER length, a value.
        let mut unit = vec![0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01];
        unit.extend_from_slice(&[0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00, 4]);
        unit.extend_from_slice(&(n as u32).to_be_bytes());
        all_klv.extend_from_slice(&unit);
        let pts = Clock90k(DELAY + n * 90_000);
        units.push(Unit {
            dts: pts.0,
            push: Box::new(move |m: &mut Muxer| m.push_klv(&unit, pts)),
        });
    }
    units.sort_by_key(|u| u.dts);

    let mut muxer = Muxer::new(config.validate().unwrap(), Pcr27M(0));
    let mut file = Vec::new();
    let mut out = Vec::new();
    let mut pending = units.into_iter().peekable();
    let mut now = 0;
    while pending.peek().is_some() || muxer.queued_bytes() > 0 {
        now += 10 * 27_000;
        // Units arrive 100 ms before their DTS, as from a live encoder.
        while let Some(unit) = pending.next_if(|u| u.dts * 300 <= now + 100 * 27_000) {
            (unit.push)(&mut muxer);
        }
        muxer.fill_until(Pcr27M(now), &mut out);
        file.extend(out.drain(..).flat_map(|(_, packet)| packet));
    }
    let counters = muxer.counters();
    assert_eq!(
        (counters.video.late_units, counters.audio.late_units),
        (0, 0)
    );
    let path = dir.write(format!("{name}.ts"), file);
    (path, all_klv)
}

/// ffprobe's report on `file`, which must come without complaint. With
/// -count_frames it decodes every frame to count them.
fn probe(file: &Path) -> String {
    let file = file.to_str().unwrap();
    let args = [
        "-v",
        "error",
        "-count_frames",
        "-show_streams",
        "-show_format",
    ];
    let (stdout, stderr) = tools::run(FFPROBE, &[&args[..], &[file]].concat());
    assert!(stderr.is_empty(), "ffprobe: {stderr}");
    stdout
}

/// Runs `ffmpeg -v error -i file ARGS`, which must succeed silently.
fn ffmpeg(file: &Path, args: &[&str]) {
    let head = ["-v", "error", "-i", file.to_str().unwrap()];
    let (_, stderr) = tools::run(FFMPEG, &[&head[..], args].concat());
    assert!(stderr.is_empty(), "ffmpeg: {stderr}");
}

/// The `key=value` lines of each `[STREAM]` block of ffprobe's output.
fn streams(probe: &str) -> Vec<Vec<&str>> {
    probe
        .split("[STREAM]")
        .skip(1)
        .map(|block| block.lines().take_while(|l| *l != "[/STREAM]").collect())
        .collect()
}

/// Fails the test, naming the tool, unless ffprobe and ffmpeg are there.
fn require_tools() {
    tools::require(FFPROBE);
    tools::require(FFMPEG);
}

#[test]
fn ffprobe_recognises_h264_mp2_and_klv() {
    require_tools();
    let dir = TestDir::new("mpegts-ffprobe");
    let (path, klv) = write_stream(&dir, "mp2", 10, AudioCodec::Mp2, true);
    let probe = probe(&path);
    let s = streams(&probe);
    assert_eq!(s.len(), 3, "{probe}");
    let video = [
        "id=0x100",
        "codec_name=h264",
        "profile=Constrained Baseline",
        "width=16",
    ];
    for line in video.into_iter().chain(["height=16", "nb_read_frames=250"]) {
        assert!(s[0].contains(&line), "{line} in {:?}", s[0]);
    }
    // 10 s of 24 ms frames, the last one cut off.
    for line in [
        "id=0x101",
        "codec_name=mp2",
        "sample_rate=48000",
        "channels=1",
        "nb_read_frames=416",
    ] {
        assert!(s[1].contains(&line), "{line} in {:?}", s[1]);
    }
    for line in ["id=0x102", "codec_type=data", "codec_name=klv"] {
        assert!(s[2].contains(&line), "{line} in {:?}", s[2]);
    }
    assert!(probe.contains("format_name=mpegts") && probe.contains("nb_programs=1"));

    // Every frame decodes without a complaint, and the KLV comes out byte
    // for byte (ffmpeg strips the metadata AU cell header itself).
    ffmpeg(&path, &["-map", "0:v", "-map", "0:a", "-f", "null", "-"]);
    let data = path.with_extension("klv");
    ffmpeg(
        &path,
        &[
            "-map",
            "0:d",
            "-c",
            "copy",
            "-f",
            "data",
            "-y",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(&data).unwrap(), klv);
}

#[test]
fn ffprobe_recognises_h264_and_aac() {
    require_tools();
    let dir = TestDir::new("mpegts-ffprobe");
    let (path, _) = write_stream(&dir, "aac", 2, AudioCodec::AacAdts, false);
    let probe = probe(&path);
    let s = streams(&probe);
    assert_eq!(s.len(), 2, "{probe}");
    assert!(s[0].contains(&"codec_name=h264") && s[0].contains(&"nb_read_frames=50"));
    let audio = [
        "codec_name=aac",
        "profile=LC",
        "sample_rate=48000",
        "channels=1",
    ];
    for line in audio.into_iter().chain(["nb_read_frames=93"]) {
        assert!(s[1].contains(&line), "{line} in {:?}", s[1]);
    }
    ffmpeg(&path, &["-f", "null", "-"]);
}
