//! How fast `FfVideoEncoder` encodes, for docs/benchmarks.md:
//!
//! ```text
//! cargo run --release -p makara-ffvideo --example fps -- hevc 1280 720 150 /dev/shm/in.yuv
//! ```
//!
//! Encodes that many synthetic pictures (a moving gradient, a square and
//! grain, made before the clock starts) at 30 fps with the settings of a
//! live contribution stream: CBR at 4 Mbit/s (720p) or 6 Mbit/s (1080p),
//! a 500 ms VBV, a 2 s GOP, no B-frames, the veryfast preset, zero
//! latency. The time runs from open to the last packet. The pictures are
//! also written to the raw I420 file named last, so the ffmpeg and x265
//! command lines can encode the very same ones.

use std::io::Write;
use std::time::Instant;

use makara_encode::{
    Hardware, Mpeg2Profile, Preset, RateControl, RawPicture, VideoEncoder, VideoSettings,
};
use makara_ffvideo::FfVideoEncoder;
use makara_media::{Clock90k, PixelFormat, VideoCodec, VideoFormat};

fn picture(format: &VideoFormat, n: u32) -> Vec<u8> {
    let (w, h) = (format.width as usize, format.height as usize);
    let mut seed = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    let shift = n as usize * 3;
    let square = (n as usize * 5) % w;
    let mut frame = vec![128u8; format.frame_len()];
    for y in 0..h {
        for x in 0..w {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let inside = x.abs_diff(square) < 64 && y.abs_diff(h / 2) < 64;
            let value = if inside {
                235
            } else {
                ((x + y + shift) & 0xff) as u8
            };
            frame[y * w + x] = value ^ ((seed >> 16) & 0x0f) as u8;
        }
    }
    frame
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [codec, width, height, frames, raw] = &args[..] else {
        eprintln!("usage: fps hevc|av1|mpeg2 WIDTH HEIGHT FRAMES RAW_OUT");
        std::process::exit(2);
    };
    let codec = match codec.as_str() {
        "hevc" => VideoCodec::Hevc,
        "av1" => VideoCodec::Av1,
        "mpeg2" => VideoCodec::Mpeg2,
        other => panic!("unknown codec {other}"),
    };
    let (width, height): (u32, u32) = (width.parse().unwrap(), height.parse().unwrap());
    let frames: u32 = frames.parse().unwrap();
    let input = VideoFormat::new(width, height, PixelFormat::I420, 30, 1).unwrap();
    let kbps = if height >= 1080 { 6000 } else { 4000 };
    let settings = VideoSettings {
        codec,
        hardware: Hardware::Software,
        mpeg2_profile: Mpeg2Profile::Main,
        input,
        rate_control: RateControl::Cbr,
        bitrate_kbps: kbps,
        max_bitrate_kbps: kbps,
        vbv_buffer_ms: 500,
        gop_frames: 60,
        b_frames: 0,
        intra_refresh: false,
        preset: Preset::Veryfast,
        zero_latency: true,
    };
    let pictures: Vec<Vec<u8>> = (0..frames).map(|n| picture(&input, n)).collect();
    let mut file = std::fs::File::create(raw).unwrap();
    for p in &pictures {
        file.write_all(p).unwrap();
    }

    let start = Instant::now();
    let mut encoder = FfVideoEncoder::open(&settings).unwrap();
    let (mut units, mut bytes) = (0u32, 0usize);
    for (n, data) in pictures.iter().enumerate() {
        let pts = Clock90k(90_000 + n as u64 * 3000);
        let raw = RawPicture {
            format: input,
            data,
            pts,
            force_keyframe: false,
        };
        encoder.send_picture(Some(raw)).unwrap();
        while let Some(unit) = encoder.receive().unwrap() {
            units += 1;
            bytes += unit.data.len();
        }
    }
    encoder.send_picture(None).unwrap();
    while let Some(unit) = encoder.receive().unwrap() {
        units += 1;
        bytes += unit.data.len();
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(units, frames);
    println!(
        "{:?} {width}x{height}: {frames} frames in {seconds:.2} s = {:.1} fps, {:.0} kbit/s",
        codec,
        f64::from(frames) / seconds,
        bytes as f64 * 8.0 / (f64::from(frames) / 30.0) / 1000.0
    );
}
