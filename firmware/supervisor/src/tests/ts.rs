//! Transport streams for the recording tests, made with makara-mpegts's
//! own muxer: H.264-labelled video at 25 frames a second, a keyframe
//! every second (the payload is filler: nothing here decodes it).

use makara_media::{Clock90k, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::mux::{MuxConfig, Muxer};

const FRAME_TICKS_90K: u64 = 3_600;

/// `seconds` of stream whose clock starts at `start_secs`, as one byte
/// string of whole packets.
pub(crate) fn stream(start_secs: u64, seconds: u64) -> Vec<u8> {
    let config = MuxConfig {
        video: Some((0x100, VideoCodec::H264)),
        audio: None,
        ..MuxConfig::new(1_000_000)
    };
    let start = start_secs * 90_000;
    let mut muxer = Muxer::new(config.validate().expect("mux config"), Pcr27M(start * 300));
    let frames = seconds * 25;
    let mut out = Vec::new();
    for n in 0..frames {
        let t = start + n * FRAME_TICKS_90K;
        muxer.fill_until(Pcr27M(t * 300), &mut out);
        let due = Clock90k(t + 18_000);
        let keyframe = n % 25 == 0;
        let mut data = vec![0, 0, 0, 1, 0x09, 0xF0];
        data.resize(if keyframe { 6_000 } else { 1_500 }, n as u8);
        muxer.push_video(&EncodedVideo {
            data,
            pts: due,
            dts: due,
            keyframe,
        });
    }
    muxer.fill_until(Pcr27M((start + frames * FRAME_TICKS_90K) * 300), &mut out);
    out.into_iter().flat_map(|(_, p)| p).collect()
}
