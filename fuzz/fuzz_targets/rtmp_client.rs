//! The RTMP publisher (`makara_rtmp`) on fuzzed server bytes: the first
//! byte seeds the sizes of the reads the rest is cut into (1 to 600
//! bytes); the rest is what a server says after the handshake, fed to a
//! `Publisher`, and also, whole, to the AMF0 decoder, the handshake
//! reader, and the H.264 and HEVC taggers as an access unit. Checked: no
//! panic, hang or runaway memory; a publisher that failed stays failed
//! only by its caller's choice (it keeps answering); what it sends back
//! is bounded by what it was sent (acknowledgements, pings and a few
//! commands only).

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_rtmp::flv::{VideoCodec, VideoFrame, VideoTagger};
use makara_rtmp::{amf0, nal, ClientHandshake, PublishTarget, Publisher};

fuzz_target!(|data: &[u8]| {
    let [seed, server @ ..] = data else {
        return;
    };
    let mut publisher = Publisher::new(PublishTarget {
        app: "live".into(),
        tc_url: "rtmp://127.0.0.1:1935/live".into(),
        stream_key: "key".into(),
    });
    let opening = publisher.take_output().len();
    let mut answered = 0;
    let mut state = u32::from(*seed) | 1;
    let mut rest = server;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = (1 + (state >> 16) as usize % 600).min(rest.len());
        let (read, tail) = rest.split_at(len);
        if publisher.receive(read).is_err() {
            break;
        }
        answered += publisher.take_output().len();
        rest = tail;
    }
    // Each answer (an acknowledgement, a ping response, a window, the
    // commands after connect and createStream) is owed to some input.
    assert!(
        answered <= 600 + 4 * server.len(),
        "{answered} bytes answered {opening}"
    );

    let _ = amf0::decode_all(server);
    let handshake = ClientHandshake::new(0, &[1, 2, 3]);
    let _ = handshake.receive(server, 0);
    let _ = nal::h264_picture_size(server);
    let _ = nal::hevc_sps(server);
    for codec in [VideoCodec::H264, VideoCodec::Hevc] {
        let mut tagger = VideoTagger::new(codec);
        let frame = VideoFrame {
            annex_b: server,
            key: seed & 1 == 1,
            composition_ms: i32::from(*seed) - 128,
        };
        if let Ok(tags) = tagger.tags(&frame) {
            let total: usize = tags.iter().map(Vec::len).sum();
            assert!(total <= 2 * server.len() + 64);
        }
    }
});
