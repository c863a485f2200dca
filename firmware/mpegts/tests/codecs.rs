//! Every video codec the encoders make, from real encoders (FFmpeg's
//! libsvtav1, libx265 and mpeg2video, 2 s of testsrc2 at 320x240, 30 fps,
//! a key frame a second), muxed by our muxer and judged by tools we did
//! not write:
//!
//! - HEVC and MPEG-2 video: ffprobe names the codec and size and counts
//!   60 decoded frames; ffmpeg decodes the whole stream without an error.
//! - AV1: FFmpeg 5.1 has no AV1-in-TS demuxing, but reads the PID as a
//!   data stream and hands out its PES payloads untouched;
//!   tests/integration/av1ts.py, written from AOM's carriage spec alone,
//!   turns them back into low-overhead OBUs, which must be the encoder's
//!   bytes exactly, and which ffprobe (`-f obu`) and libdav1d read and
//!   decode without an error.
//! - All three: the crate's T-STD analyser (`tsreport`) finds every
//!   unit in time, no byte waiting over 1 s, and every buffer of the
//!   codec's T-STD within its size.
//!
//! The tests fail where ffmpeg, ffprobe or python3 is missing: a machine
//! without them cannot judge the muxer.

#[path = "common/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};

use makara_media::{Clock90k, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::av1;
use makara_mpegts::es::{EsDemuxer, EsEvent};
use makara_mpegts::mux::{MuxConfig, Muxer};
use makara_mpegts::tstd::analyse;
use makara_test_support::TestDir;
use tools::{run, FFMPEG, FFPROBE, PYTHON};

const FRAMES: u64 = 60;
const FRAME_TICKS: u64 = 3_000; // 30 fps on the 90 kHz clock
/// The first unit's decoding time: 400 ms after the first slot.
const DELAY: u64 = 36_000;

/// 2 s of testsrc2 through an FFmpeg encoder into a raw elementary
/// stream file.
fn encode(dir: &TestDir, name: &str, codec_args: &[&str]) -> Vec<u8> {
    let file = dir.join(name);
    let mut args = vec![
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30",
        "-t",
        "2",
    ];
    args.extend_from_slice(codec_args);
    args.push(file.to_str().unwrap());
    run(FFMPEG, &args);
    std::fs::read(&file).unwrap()
}

/// The units at 30 fps in decode order (no reordering: PTS = DTS).
fn units(access_units: Vec<(Vec<u8>, bool)>) -> Vec<EncodedVideo> {
    access_units
        .into_iter()
        .enumerate()
        .map(|(n, (data, keyframe))| {
            let t = Clock90k(DELAY + n as u64 * FRAME_TICKS);
            EncodedVideo {
                data,
                pts: t,
                dts: t,
                keyframe,
            }
        })
        .collect()
}

/// Muxes the units as the pipeline does (each handed over at its
/// capture time, the muxer run on a 2 ms tick) at 2 Mbit/s, constant
/// rate, and writes the stream.
fn mux(dir: &TestDir, codec: VideoCodec, units: &[EncodedVideo]) -> PathBuf {
    let config = MuxConfig {
        video: Some((0x100, codec)),
        audio: None,
        video_buffer_bytes: Some(250_000),
        ..MuxConfig::new(2_000_000)
    };
    let mut muxer = Muxer::new(config.validate().unwrap(), Pcr27M(0));
    let mut out = Vec::new();
    let mut now = 0;
    let mut next = 0;
    let tick = 27_000 * 2;
    while next < units.len() || muxer.queued_bytes() > 0 {
        while next < units.len() && (units[next].dts.0 - DELAY) * 300 <= now {
            muxer.push_video(&units[next]);
            next += 1;
        }
        muxer.fill_until(Pcr27M(now), &mut out);
        now += tick;
    }
    // PCRs after the last unit, so the analyser's clock covers it.
    muxer.fill_until(Pcr27M(now + 27_000_000 / 5), &mut out);
    assert_eq!(muxer.counters().rejected_units, 0);
    assert_eq!(muxer.counters().video.dropped_units, 0);
    let ts: Vec<u8> = out.into_iter().flat_map(|(_, p)| p).collect();
    dir.write("muxed.ts", ts)
}

/// ffprobe's word on the video stream: codec, width, height, frames
/// decoded.
fn probe(file: &Path, format: Option<&str>) -> Vec<String> {
    let mut args = vec!["-v", "error"];
    if let Some(format) = format {
        args.extend(["-f", format]);
    }
    args.extend([
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=codec_name,width,height,nb_read_frames",
        "-of",
        "csv=p=0",
        file.to_str().unwrap(),
    ]);
    // A transport stream's stream is listed under its program too: the
    // first listing is the one.
    let (out, _) = run(FFPROBE, &args);
    let line = out
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    // (mpeg2video's listing ends in an empty field.)
    line.split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

/// ffmpeg decodes the file to nothing; any error it reports fails.
fn decodes_cleanly(file: &Path, input_args: &[&str]) {
    let mut args = vec!["-v", "error"];
    args.extend_from_slice(input_args);
    args.extend(["-i", file.to_str().unwrap(), "-f", "null", "-"]);
    let (_, stderr) = run(FFMPEG, &args);
    assert!(stderr.trim().is_empty(), "ffmpeg reported: {stderr}");
}

/// The crate's T-STD judgement of the stream's video.
fn judge_t_std(ts: &Path) {
    let report = analyse(&std::fs::read(ts).unwrap()).unwrap();
    let video = &report.streams[&0x100];
    assert_eq!(video.units, FRAMES, "{video:?}");
    assert_eq!(video.late_units, 0, "{video:?}");
    assert!(video.max_wait <= 27_000_000, "{video:?}");
    assert_eq!(report.continuity_errors, 0);
    assert!(video.level.is_some(), "the level is read: {video:?}");
    assert_eq!(video.t_std_ok(), Some(true), "{video:?}");
}

/// Our ES demuxer (the RTMP and RTSP outputs' reader) gives back every
/// unit as it was pushed, with the key flags judged from the data.
fn demuxes_back(ts: &Path, units: &[EncodedVideo]) {
    let mut demuxer = EsDemuxer::new();
    demuxer.push(&std::fs::read(ts).unwrap());
    demuxer.finish();
    let mut got = Vec::new();
    while let Some(event) = demuxer.poll() {
        match event {
            EsEvent::Video(unit) => got.push(unit),
            EsEvent::Problem(p) => panic!("{p}"),
            _ => {}
        }
    }
    assert_eq!(got.len(), units.len());
    for (unit, sent) in got.iter().zip(units) {
        assert!(unit.data == sent.data, "unit at {:?} differs", sent.dts);
        assert_eq!((unit.key, unit.pts), (sent.keyframe, sent.pts));
    }
}

/// Splits an Annex B or MPEG-2 video stream before each start code that
/// `starts_unit` says begins an access unit.
fn split_at(es: &[u8], starts_unit: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    let codes: Vec<usize> = (0..es.len().saturating_sub(3))
        .filter(|&i| es[i..i + 3] == [0, 0, 1] && starts_unit(&es[i + 3..]))
        .collect();
    codes
        .iter()
        .zip(codes.iter().skip(1).chain([&es.len()]))
        .map(|(&a, &b)| es[a..b].to_vec())
        .collect()
}

#[test]
fn hevc_from_libx265_reads_back_in_ffprobe_and_keeps_the_t_std() {
    let dir = TestDir::new("mpegts-codecs-hevc");
    let es = encode(
        &dir,
        "in.hevc",
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "aud=1:bframes=0:keyint=30:log-level=error",
            "-f",
            "hevc",
        ],
    );
    // Access units begin at their access unit delimiter (type 35).
    let aus = split_at(&es, |nal| {
        nal.first().is_some_and(|b| (b >> 1) & 0x3F == 35)
    });
    let aus = aus
        .into_iter()
        .map(|au| {
            let key = au
                .windows(4)
                .any(|w| w[..3] == [0, 0, 1] && (16..=23).contains(&((w[3] >> 1) & 0x3F)));
            (au, key)
        })
        .collect();
    let units = units(aus);
    assert_eq!(units.len() as u64, FRAMES);
    let ts = mux(&dir, VideoCodec::Hevc, &units);
    assert_eq!(probe(&ts, None), ["hevc", "320", "240", "60"]);
    decodes_cleanly(&ts, &[]);
    judge_t_std(&ts);
}

#[test]
fn mpeg2_video_reads_back_in_ffprobe_and_keeps_the_t_std() {
    let dir = TestDir::new("mpegts-codecs-mpeg2");
    let es = encode(
        &dir,
        "in.m2v",
        &[
            "-c:v",
            "mpeg2video",
            "-b:v",
            "800k",
            "-bf",
            "0",
            "-g",
            "30",
            "-f",
            "mpeg2video",
        ],
    );
    // A picture's unit begins at the sequence header (B3) or GOP header
    // (B8) before it, else at its picture start code (00).
    let mut aus: Vec<Vec<u8>> = Vec::new();
    let mut headers_pending = false;
    for piece in split_at(&es, |code| matches!(code.first(), Some(0xB3 | 0xB8 | 0x00))) {
        let starts_header = matches!(piece[3], 0xB3 | 0xB8);
        match aus.last_mut() {
            Some(last) if headers_pending || (!starts_header && piece[3] != 0x00) => {
                last.extend(&piece)
            }
            _ => aus.push(piece.clone()),
        }
        headers_pending = starts_header;
    }
    let aus = aus
        .into_iter()
        .map(|au| {
            let key = au[3] == 0xB3;
            (au, key)
        })
        .collect();
    let units = units(aus);
    assert_eq!(units.len() as u64, FRAMES);
    let ts = mux(&dir, VideoCodec::Mpeg2, &units);
    demuxes_back(&ts, &units);
    assert_eq!(probe(&ts, None), ["mpeg2video", "320", "240", "60"]);
    decodes_cleanly(&ts, &[]);
    judge_t_std(&ts);
}

#[test]
fn av1_from_libsvtav1_comes_back_byte_for_byte_and_decodes() {
    let dir = TestDir::new("mpegts-codecs-av1");
    let obu = encode(
        &dir,
        "in.obu",
        &["-c:v", "libsvtav1", "-g", "30", "-f", "obu"],
    );
    // Temporal units begin at their temporal delimiter.
    let mut tus: Vec<Vec<u8>> = Vec::new();
    for unit in av1::obu::obus(&obu) {
        let unit = unit.expect("the encoder writes well-formed OBUs");
        if unit.obu_type == av1::obu::obu_type::TEMPORAL_DELIMITER || tus.is_empty() {
            tus.push(Vec::new());
        }
        tus.last_mut().unwrap().extend_from_slice(unit.bytes);
    }
    let tus: Vec<(Vec<u8>, bool)> = tus
        .into_iter()
        .map(|tu| {
            let key = av1::frame::is_key_temporal_unit(&tu);
            (tu, key)
        })
        .collect();
    assert_eq!(
        tus.iter().filter(|t| t.1).count(),
        2,
        "a key frame a second"
    );
    let units = units(tus);
    assert_eq!(units.len() as u64, FRAMES);
    let ts = mux(&dir, VideoCodec::Av1, &units);
    demuxes_back(&ts, &units);

    // ffprobe sees the PID, as data (no AV1-in-TS support in 5.1).
    let (streams, _) = run(
        FFPROBE,
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
            ts.to_str().unwrap(),
        ],
    );
    assert_eq!(streams.lines().next(), Some("data"), "{streams}");
    let payloads = dir.join("av1.data");
    run(
        FFMPEG,
        &[
            "-v",
            "error",
            "-y",
            "-i",
            ts.to_str().unwrap(),
            "-map",
            "0:d",
            "-c",
            "copy",
            "-f",
            "data",
            payloads.to_str().unwrap(),
        ],
    );
    let back = dir.join("back.obu");
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/integration/av1ts.py");
    let (summary, _) = run(
        PYTHON,
        &[
            oracle.to_str().unwrap(),
            payloads.to_str().unwrap(),
            back.to_str().unwrap(),
        ],
    );
    assert!(
        summary.contains(&format!("\"temporal_units\": {FRAMES}")),
        "{summary}"
    );
    assert!(
        std::fs::read(&back).unwrap() == obu,
        "the encoder's OBUs come back unchanged"
    );
    assert_eq!(probe(&back, Some("obu")), ["av1", "320", "240", "60"]);
    decodes_cleanly(&back, &["-c:v", "libdav1d", "-f", "obu"]);
    judge_t_std(&ts);
}
