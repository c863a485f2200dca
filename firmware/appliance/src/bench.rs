//! `makarad bench encode`: the media path with this build's real encoders,
//! as fast as it goes (see `makara_pipeline::bench_encode`).

use makara_encode::Preset;
use makara_pipeline::{bench_encode, BenchSource, EncodeBench, RawLayout};

use crate::cli::{
    BenchAction, BenchArgs, BenchCodec, BenchPreset, CaptureArgs, EncodeArgs, RawPixfmt,
};
use crate::exit::{ExitCode, Failure};
use crate::media;

pub fn run(args: BenchArgs) -> Result<(), Failure> {
    match args.action {
        BenchAction::Encode(args) => encode(args),
        BenchAction::Capture(args) => capture(args),
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

fn encode(args: EncodeArgs) -> Result<(), Failure> {
    let BenchCodec::Avc = args.codec;
    let bench = EncodeBench {
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
    let report =
        bench_encode(&media::codecs(), &bench).map_err(|e| Failure::new(ExitCode::Failed, e))?;
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
    Ok(())
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
