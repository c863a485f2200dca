//! `makarad bench encode`: the media path with this build's real encoders,
//! as fast as it goes (see `makara_pipeline::bench_encode`).

use makara_encode::Preset;
use makara_pipeline::{bench_encode, BenchSource, EncodeBench, RawLayout};

use crate::cli::{BenchAction, BenchArgs, BenchCodec, BenchPreset, EncodeArgs, RawPixfmt};
use crate::exit::{ExitCode, Failure};
use crate::media;

pub fn run(args: BenchArgs) -> Result<(), Failure> {
    match args.action {
        BenchAction::Encode(args) => encode(args),
    }
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
