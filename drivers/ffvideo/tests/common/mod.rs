//! Encoding a synthetic picture and judging the result with FFmpeg's own
//! tools (ffprobe, ffmpeg's `trace_headers` bitstream filter).

#![allow(dead_code)] // each test binary uses part of it

use std::path::Path;
use std::process::Command;

use makara_encode::{
    Hardware, Mpeg2Profile, Preset, RateControl, RawPicture, VideoEncoder, VideoSettings,
};
use makara_ffvideo::FfVideoEncoder;
use makara_media::{Clock90k, EncodedVideo, PixelFormat, VideoCodec, VideoFormat};

pub const FPS: u32 = 30;
/// Two seconds at 30 fps.
pub const FRAMES: u32 = 60;
pub const GOP: u32 = 15;

pub fn settings(codec: VideoCodec) -> VideoSettings {
    VideoSettings {
        codec,
        hardware: Hardware::Software,
        mpeg2_profile: Mpeg2Profile::Main,
        input: VideoFormat::new(320, 240, PixelFormat::I420, FPS, 1).unwrap(),
        rate_control: RateControl::Cbr,
        bitrate_kbps: 600,
        max_bitrate_kbps: 600,
        vbv_buffer_ms: 500,
        gop_frames: GOP,
        b_frames: 0,
        intra_refresh: false,
        preset: Preset::Veryfast,
        zero_latency: true,
    }
}

/// 90 kHz ticks of frame `n`, starting one second in (room for any
/// reorder delay).
pub fn pts(n: u32) -> Clock90k {
    Clock90k(90_000 + u64::from(n) * 90_000 / u64::from(FPS))
}

/// A diagonal gradient moving right and down, a square crossing it, and
/// grain from a small LCG, so that the rate control has real work.
pub fn picture(format: &VideoFormat, n: u32) -> Vec<u8> {
    let (w, h) = (format.width as usize, format.height as usize);
    let mut seed = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut grain = move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ((seed >> 16) & 0x0f) as u8
    };
    let shift = n as usize * 3;
    let square = (n as usize * 5) % w;
    let mut frame = vec![0u8; format.frame_len()];
    for y in 0..h {
        for x in 0..w {
            let inside = x.abs_diff(square) < 24 && y.abs_diff(h / 2) < 24;
            let value = if inside {
                235
            } else {
                ((x + y + shift) & 0xff) as u8
            };
            frame[y * w + x] = value ^ grain();
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    for y in 0..ch {
        for x in 0..cw {
            frame[w * h + y * cw + x] = ((x * 2 + shift) & 0xff) as u8;
            frame[w * h + cw * ch + y * cw + x] = ((y * 2 + shift) & 0xff) as u8;
        }
    }
    frame
}

/// Every access unit of `frames` pictures, flushed at the end.
pub fn encode(encoder: &mut FfVideoEncoder, frames: u32) -> Vec<EncodedVideo> {
    encode_forcing(encoder, frames, None)
}

/// As [`encode`], asking for a keyframe at picture `forced`.
pub fn encode_forcing(
    encoder: &mut FfVideoEncoder,
    frames: u32,
    forced: Option<u32>,
) -> Vec<EncodedVideo> {
    let format = encoder.settings().input;
    encode_pictures(encoder, format, frames, forced)
}

/// Every access unit of `frames` pictures of `format` through any
/// encoder, asking for a keyframe at picture `forced`, flushed at the end.
pub fn encode_pictures(
    encoder: &mut dyn VideoEncoder,
    format: VideoFormat,
    frames: u32,
    forced: Option<u32>,
) -> Vec<EncodedVideo> {
    let mut units = Vec::new();
    for n in 0..frames {
        let data = picture(&format, n);
        encoder
            .send_picture(Some(RawPicture {
                format,
                data: &data,
                pts: pts(n),
                force_keyframe: forced == Some(n),
            }))
            .unwrap();
        while let Some(unit) = encoder.receive().unwrap() {
            units.push(unit);
        }
    }
    encoder.send_picture(None).unwrap();
    while let Some(unit) = encoder.receive().unwrap() {
        units.push(unit);
    }
    units
}

pub fn write(path: &Path, units: &[EncodedVideo]) {
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.data.clone()).collect();
    std::fs::write(path, bytes).unwrap();
}

fn run(program: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {:?}", out.status);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// ffprobe's `key=value` lines for `entries` of the first video stream.
pub fn probe(path: &Path, entries: &str) -> Vec<(String, String)> {
    let file = path.to_str().unwrap();
    let (out, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            entries,
            "-of",
            "default=nw=1",
            file,
        ],
    );
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn stream_field(path: &Path, field: &str) -> String {
    let entries = format!("stream={field}");
    probe(path, &entries)
        .into_iter()
        .find(|(k, _)| k == field)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("ffprobe gave no {field}"))
}

/// The decoded pictures' types in presentation order, e.g. "IPPB…", and
/// the indices of the keyframes.
pub fn frames(path: &Path) -> (String, Vec<usize>) {
    let lines = probe(path, "frame=key_frame,pict_type");
    let types: String = lines
        .iter()
        .filter(|(k, _)| k == "pict_type")
        .map(|(_, v)| v.as_str())
        .collect();
    let keys = lines
        .iter()
        .filter(|(k, _)| k == "key_frame")
        .enumerate()
        .filter(|(_, (_, v))| v == "1")
        .map(|(i, _)| i)
        .collect();
    (types, keys)
}

/// One packet as FFmpeg's `trace_headers` filter reads it: whether its
/// demuxer called it a key frame, and what is in it in trace_headers'
/// words: the syntax structures' names ("Sequence Header") and each
/// syntax element as "name = value" ("obu_type = 2").
#[derive(Debug)]
pub struct Traced {
    pub key: bool,
    pub units: Vec<String>,
}

pub fn trace(path: &Path) -> Vec<Traced> {
    let file = path.to_str().unwrap();
    let (_, log) = run(
        "ffmpeg",
        &[
            "-hide_banner",
            "-nostats",
            "-i",
            file,
            "-c",
            "copy",
            "-bsf:v",
            "trace_headers",
            "-f",
            "null",
            "-",
        ],
    );
    let mut packets: Vec<Traced> = Vec::new();
    // A packet's line comes first, then the structures in it; those
    // logged before the first packet come from the stream's extradata.
    for line in log.lines().filter(|l| l.contains("[trace_headers")) {
        let text = line.split_once("] ").map_or("", |(_, t)| t).trim();
        if let Some(packet) = text.strip_prefix("Packet: ") {
            packets.push(Traced {
                key: packet.contains("key frame"),
                units: Vec::new(),
            });
            continue;
        }
        let Some(current) = packets.last_mut() else {
            continue;
        };
        // A syntax element: "<bit position> <name> <bits> = <value>".
        let mut words = text.split_whitespace();
        match (words.next(), words.next(), text.rsplit_once(" = ")) {
            (Some(position), Some(name), Some((_, value)))
                if position.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                current.units.push(format!("{name} = {value}"));
            }
            _ => current.units.push(text.to_string()),
        }
    }
    packets
}

/// What `ffmpeg -v error` says while decoding the whole file: nothing,
/// for a stream it reads without complaint.
pub fn decode_errors(path: &Path) -> String {
    let file = path.to_str().unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i", file, "-f", "null", "-"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

/// The average bitrate of `units` in kbit/s over `frames` pictures.
pub fn kbps(units: &[EncodedVideo], frames: u32) -> f64 {
    let bits: usize = units.iter().map(|u| u.data.len() * 8).sum();
    bits as f64 / (f64::from(frames) / f64::from(FPS)) / 1000.0
}

pub fn expected_keys(frames: u32, gop: u32) -> Vec<usize> {
    (0..frames as usize).step_by(gop as usize).collect()
}

/// The options x265 says it encoded with, from the user-data SEI it
/// writes into its first access unit ("… - options: cpuid=… keyint=15 …").
pub fn x265_options(first_unit: &[u8]) -> Vec<String> {
    let marker = b"options: ";
    let start = first_unit
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("x265's options SEI")
        + marker.len();
    let text: Vec<u8> = first_unit[start..]
        .iter()
        .take_while(|b| (0x20..0x7f).contains(*b))
        .copied()
        .collect();
    String::from_utf8(text)
        .unwrap()
        .split(' ')
        .map(str::to_string)
        .collect()
}
