//! `makarad bench encode`, `bench transcode` and `bench capacity`: the
//! media path with this build's real encoders and decoder, as fast as it
//! goes (see `makara_pipeline::bench_encode` and `bench_transcode`).

use makara_config::VideoType;
use makara_encode::Preset;
use makara_pipeline::{
    bench_encode, bench_transcode, BenchSource, Codecs, EncodeBench, EncodeBenchReport, RawLayout,
    TranscodeBench, TsFileOpener,
};
use makara_supervisor::{CodecCapacity, EncoderCapacity, Measured};

use crate::cli::{
    Av1Encoder, BenchAction, BenchArgs, BenchPreset, CapacityArgs, CaptureArgs, EncodeArgs,
    RawPixfmt, TranscodeArgs,
};
use crate::exit::{ExitCode, Failure};
use crate::media;

pub fn run(args: BenchArgs) -> Result<(), Failure> {
    if let Err((why, name)) = args.check() {
        crate::cli::refuse_bench_argument(name, why);
    }
    match args.action {
        BenchAction::Encode(args) => encode(args),
        BenchAction::Transcode(args) => transcode(args),
        BenchAction::Capture(args) => capture(args),
        BenchAction::Capacity(args) => capacity(args),
    }
}

/// The sizes the system API reports capacity for, with the default
/// bitrate of each.
const CAPACITY_SIZES: [(u32, u32, u32); 2] = [(1280, 720, 3000), (1920, 1080, 6000)];
const CAPACITY_FPS: u32 = 30;
const ALL_CODECS: [VideoType; 4] = [
    VideoType::Avc,
    VideoType::Hevc,
    VideoType::Av1,
    VideoType::Mpeg2Video,
];

/// Every codec at every size, one after the other, each with the machine
/// to itself; a codec that cannot run is saved with its reason.
fn capacity(args: CapacityArgs) -> Result<(), Failure> {
    let codecs = if args.codec.is_empty() {
        ALL_CODECS.to_vec()
    } else {
        args.codec
    };
    let encoders = media::codecs();
    let mut measured = Vec::new();
    for codec in codecs {
        for (width, height, bitrate_kbps) in CAPACITY_SIZES {
            let bench = EncodeBench {
                width,
                height,
                fps: CAPACITY_FPS,
                frames: args.seconds * u64::from(CAPACITY_FPS),
                codec,
                preset: Preset::Veryfast,
                bitrate_kbps,
                source: BenchSource::TestPattern,
                output: None,
            };
            let result = match bench_encode(&encoders, &bench) {
                Ok(report) => Measured::Fps(report.fps()),
                Err(e) => Measured::Failed(e.to_string()),
            };
            let entry = CodecCapacity {
                codec,
                width,
                height,
                frame_rate: CAPACITY_FPS,
                result,
            };
            print_capacity(&entry);
            measured.push(entry);
        }
    }
    EncoderCapacity::new(measured)
        .save(&args.data_dir)
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    println!("saved in {}", args.data_dir.display());
    Ok(())
}

fn print_capacity(c: &CodecCapacity) {
    let codec = makara_api::kraken::video_type_word(c.codec);
    let what = format!("{codec} {}x{}p{}", c.width, c.height, c.frame_rate);
    match (&c.result, c.channels()) {
        (Measured::Fps(fps), Some(channels)) => {
            println!("{what}: {fps:.1} fps, {channels} channel(s)")
        }
        (Measured::Failed(why), _) => println!("{what}: failed: {why}"),
        (Measured::Fps(fps), None) => println!("{what}: {fps:.1} fps"),
    }
}

/// Frames straight from the device into its pool and back: the capture
/// path alone, as the encoder would see it.
fn capture(args: CaptureArgs) -> Result<(), Failure> {
    use makara_capture::CaptureDevices;
    let devices = makara_v4l2::V4l2Devices::new();
    for p in devices.ports() {
        let current = p.current.as_ref().map_or("-", |m| m.id.as_str());
        println!(
            "port {}: {} {} ({:?}), now {current}, {} modes",
            p.number,
            p.device,
            p.name,
            p.kind,
            p.modes.len()
        );
        for (i, m) in p.modes.iter().enumerate() {
            println!("  mode {i}: {}", m.id);
        }
    }
    let Some(port) = args.port else { return Ok(()) };
    let fail = |e: String| Failure::new(ExitCode::Failed, e);
    let mut capture = devices
        .open(port, args.mode)
        .map_err(|e| fail(e.to_string()))?;
    let format = capture.format();
    let started = std::time::Instant::now();
    let (mut frames, mut lost, mut last) = (0u64, 0u64, None::<u64>);
    let mut first_at = None;
    let (mut first_pts, mut last_pts) = (None, 0u64);
    while started.elapsed().as_secs() < args.seconds {
        let Some(frame) = capture
            .next_frame(std::time::Duration::from_millis(200))
            .map_err(|e| fail(e.to_string()))?
        else {
            continue;
        };
        first_at.get_or_insert_with(std::time::Instant::now);
        first_pts.get_or_insert(frame.pts().0);
        last_pts = frame.pts().0;
        if let Some(prev) = last {
            lost += frame.sequence().saturating_sub(prev + 1);
        }
        last = Some(frame.sequence());
        frames += 1;
    }
    let span = first_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let stats = capture.pool().stats();
    println!(
        "format: {}x{} {:?} {}/{} fps",
        format.width, format.height, format.pixel_format, format.fps_num, format.fps_den
    );
    println!("frames: {frames} lost: {lost} seconds: {span:.2}");
    // As v4l2-ctl counts: frames over the span of their capture stamps.
    let stamped = last_pts.saturating_sub(first_pts.unwrap_or(last_pts)) as f64 / 1e9;
    let rate = |span: f64| {
        if span > 0.0 {
            frames.saturating_sub(1) as f64 / span
        } else {
            0.0
        }
    };
    println!("fps: {:.1}", rate(stamped));
    // As the encoder sees them: frames per second of this process's clock.
    println!("delivered_fps: {:.1}", rate(span));
    println!(
        "copies_per_frame: {:.2}",
        stats.bytes_copied as f64 / (format.frame_len() as f64 * frames.max(1) as f64)
    );
    println!(
        "dmabuf_slots: {} of {}",
        capture.dmabuf_slots(),
        stats.slots
    );
    Ok(())
}

/// The encoders of a bench run: this build's, with AV1 through rav1e
/// when --av1-encoder asks for it (the CLI took it with --codec av1 only).
fn bench_codecs(av1: Option<Av1Encoder>) -> Codecs {
    match av1 {
        Some(Av1Encoder::Rav1e) => media::rav1e_codecs(),
        Some(Av1Encoder::SvtAv1) | None => media::codecs(),
    }
}

fn encode(args: EncodeArgs) -> Result<(), Failure> {
    let codecs = bench_codecs(args.av1_encoder);
    let bench = EncodeBench {
        codec: args.codec,
        width: args.width,
        height: args.height,
        fps: args.fps,
        frames: args.frames,
        preset: preset(args.preset),
        bitrate_kbps: args.bitrate,
        source: match args.raw {
            Some(path) => BenchSource::Raw {
                path,
                layout: match args.pixfmt {
                    RawPixfmt::I420 => RawLayout::I420,
                    RawPixfmt::Yuyv => RawLayout::Yuyv,
                    RawPixfmt::Uyvy => RawLayout::Uyvy,
                },
            },
            None => BenchSource::TestPattern,
        },
        output: args.output,
    };
    let report = bench_encode(&codecs, &bench).map_err(|e| Failure::new(ExitCode::Failed, e))?;
    print_report(&report);
    Ok(())
}

fn transcode(args: TranscodeArgs) -> Result<(), Failure> {
    let codecs = bench_codecs(args.av1_encoder);
    let bench = transcode_bench(args)?;
    let open_file: TsFileOpener = Box::new(|path, origin, stop, waiting| {
        Ok(makara_ffdecode::open_ts_file(path, origin, stop, waiting)?)
    });
    let report = bench_transcode(codecs, open_file, &bench)
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    print_report(&report);
    Ok(())
}

/// The run `args` ask for: all the file's pictures unless --frames says
/// fewer.
fn transcode_bench(args: TranscodeArgs) -> Result<TranscodeBench, Failure> {
    let fail = |e: String| Failure::new(ExitCode::Failed, e);
    let pictures =
        makara_ffdecode::ts_file_pictures(&args.input).map_err(|e| fail(e.to_string()))?;
    let input = args.input.display();
    let frames = match args.frames {
        _ if pictures == 0 => {
            return Err(fail(format!(
                "{input}: no H.264, HEVC or MPEG-2 pictures in its first program"
            )))
        }
        Some(n) if n > pictures => {
            return Err(fail(format!(
                "{input} has {pictures} pictures, fewer than --frames {n}"
            )))
        }
        Some(n) => n,
        None => pictures,
    };
    Ok(TranscodeBench {
        input: args.input,
        width: args.width,
        height: args.height,
        frames,
        codec: args.codec,
        preset: preset(args.preset),
        bitrate_kbps: args.bitrate,
        output: args.output,
    })
}

fn print_report(report: &EncodeBenchReport) {
    println!("fps: {:.1}", report.fps());
    println!("copies_per_frame: {:.2}", report.copies_per_frame());
    println!("frames: {}", report.frames);
    println!("wall_s: {:.3}", report.wall.as_secs_f64());
    println!("access_units: {}", report.encoded);
    println!("video_kbps: {:.0}", report.video_kbps());
    println!("ts_packets: {}", report.mux.packets);
    println!(
        "mux_late_units: {} mux_dropped_units: {} ring_dropped: {}",
        report.mux.video.late_units, report.mux.video.dropped_units, report.ring_dropped
    );
}

fn preset(p: BenchPreset) -> Preset {
    match p {
        BenchPreset::Ultrafast => Preset::Ultrafast,
        BenchPreset::Superfast => Preset::Superfast,
        BenchPreset::Veryfast => Preset::Veryfast,
        BenchPreset::Faster => Preset::Faster,
        BenchPreset::Fast => Preset::Fast,
        BenchPreset::Medium => Preset::Medium,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::{Command, Stdio};

    use makara_test_support::TestDir;

    use super::*;

    fn run(program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program} is required for this test: {e}"));
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// 40 pictures of 320x240 H.264 at 25 fps, with B-frames, in a TS.
    fn input(dir: &TestDir) -> std::path::PathBuf {
        let path = dir.join("in.ts");
        let arg = path.to_str().unwrap();
        run(
            "ffmpeg",
            &[
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25",
                "-frames:v",
                "40",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-bf",
                "2",
                "-g",
                "25",
                "-pix_fmt",
                "yuv420p",
                "-f",
                "mpegts",
                arg,
            ],
        );
        path
    }

    fn args(input: &Path, frames: Option<u64>, output: &Path) -> TranscodeArgs {
        TranscodeArgs {
            codec: VideoType::Avc,
            av1_encoder: None,
            input: input.to_path_buf(),
            width: 160,
            height: 120,
            frames,
            preset: BenchPreset::Ultrafast,
            bitrate: 1000,
            output: Some(output.to_path_buf()),
        }
    }

    #[test]
    fn a_transcoded_file_is_h264_of_the_asked_size_with_every_picture() {
        let dir = TestDir::new("bench-transcode");
        let input = input(&dir);
        let output = dir.join("out.ts");
        transcode(args(&input, None, &output)).unwrap();
        let probe = run(
            "ffprobe",
            &[
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name,width,height,nb_read_frames",
                "-of",
                "csv=p=0",
                output.to_str().unwrap(),
            ],
        );
        // ffprobe lists the stream under its program and on its own.
        let streams: Vec<&str> = probe.lines().filter(|l| !l.is_empty()).collect();
        assert!(!streams.is_empty(), "{probe}");
        assert!(streams.iter().all(|s| *s == "h264,160,120,40"), "{probe}");
    }

    #[test]
    fn more_frames_than_the_file_has_or_no_pictures_are_refused() {
        let dir = TestDir::new("bench-transcode");
        let input = input(&dir);
        let output = dir.join("out.ts");
        let e = transcode(args(&input, Some(41), &output))
            .unwrap_err()
            .error;
        assert!(
            e.to_string()
                .contains("has 40 pictures, fewer than --frames 41"),
            "{e}"
        );
        let empty = dir.write("empty.ts", Vec::new());
        let e = transcode(args(&empty, None, &output)).unwrap_err().error;
        assert!(
            e.to_string().contains("no H.264, HEVC or MPEG-2 pictures"),
            "{e}"
        );
    }
}
