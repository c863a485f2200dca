//! The elementary-stream demuxer (`es::EsDemuxer`) on fuzzed packets.
//! The first byte chooses the options (bit 0: end video units at
//! stuffing) and how the rest is pushed (bits 1-3: packets per push, 1-8;
//! bit 4: a short tail on every push, cut from the next packet); the rest
//! is the transport stream. Every event is polled after every push, then
//! the stream finished.
//!
//! Beyond "no panic": units are bounded, come only for the program's
//! followed and supported codecs, a unit's key flag is what its data says
//! (NAL units, MPEG-2 start codes, AV1 OBUs), an AV1 unit is low-overhead
//! OBUs behind a temporal delimiter, audio timestamps stay on the 33-bit
//! clock, and every problem has a message. And closed captions
//! (`captions`): every video unit takes one picture's worth, cut from the
//! unit's own bytes, and a unit that carried none gives them back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use makara_media::Captions;
use makara_mpegts::av1::obu::{obu_type, obus};
use makara_mpegts::captions;
use makara_mpegts::demux::MAX_PES_LEN;
use makara_mpegts::es::{AudioCodec, EsDemuxer, EsEvent, EsOptions, Program, VideoCodec};
use makara_mpegts::packet::PACKET_LEN;

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let options = EsOptions {
        end_video_at_stuffing: control & 1 != 0,
    };
    let per_push = PACKET_LEN * (1 + usize::from((control >> 1) & 0x07));
    let cut = if control & 0x10 != 0 { 100 } else { 0 };
    let mut demuxer = EsDemuxer::with_options(options);
    let mut program = None;
    let mut at = 0;
    while at < stream.len() {
        let end = (at + per_push + cut).min(stream.len());
        demuxer.push(&stream[at..end]);
        drain(&mut demuxer, &mut program);
        at = end;
    }
    demuxer.finish();
    drain(&mut demuxer, &mut program);
});

fn drain(demuxer: &mut EsDemuxer, program: &mut Option<Program>) {
    while let Some(event) = demuxer.poll() {
        match event {
            EsEvent::Program(p) => *program = Some(p),
            EsEvent::ParameterSets(sets) => {
                let video = program
                    .as_ref()
                    .and_then(|p| p.video)
                    .expect("a video track");
                assert_eq!(sets.codec, video.codec);
            }
            EsEvent::Video(unit) => {
                let video = program
                    .as_ref()
                    .and_then(|p| p.video)
                    .expect("a video track");
                assert_eq!(unit.codec, video.codec);
                assert!(unit.codec.is_supported());
                // AV1 units gain a delimiter and obu_size fields.
                assert!(unit.data.len() <= 2 * MAX_PES_LEN);
                assert_eq!(unit.key, unit.has_key_picture());
                if unit.codec == VideoCodec::Av1 {
                    let parsed: Vec<_> = obus(&unit.data).collect();
                    assert!(parsed.iter().all(Result::is_ok), "{parsed:?}");
                    let first = parsed[0].as_ref().map(|o| o.obu_type);
                    assert_eq!(first, Ok(obu_type::TEMPORAL_DELIMITER));
                }
                let _ = (unit.has_recovery_point(), unit.composition_offset());
                captions_round_trip(unit.codec, &unit.data);
                assert!(unit.pts.0 < 1 << 33 && unit.dts.0 < 1 << 33);
            }
            EsEvent::Audio(frame) => {
                let audio = program
                    .as_ref()
                    .and_then(|p| p.audio)
                    .expect("an audio track");
                assert_eq!(audio.codec, AudioCodec::AacAdts);
                assert_eq!(frame.codec, AudioCodec::AacAdts);
                assert!(frame.data.len() < 1 << 13, "an ADTS frame is under 8 KiB");
                assert!(frame.pts.0 < 1 << 33);
                assert!(frame.config.sample_rate > 0);
            }
            EsEvent::Problem(problem) => assert!(!problem.to_string().is_empty()),
        }
    }
}

/// Captions made of the unit's first bytes go into it, and come back out
/// of a unit that carried none before.
fn captions_round_trip(codec: VideoCodec, data: &[u8]) {
    let media_codec = match codec {
        VideoCodec::H264 => makara_media::VideoCodec::H264,
        VideoCodec::Hevc => makara_media::VideoCodec::Hevc,
        VideoCodec::Mpeg2 => makara_media::VideoCodec::Mpeg2,
        VideoCodec::Av1 => makara_media::VideoCodec::Av1,
    };
    let added = Captions::from_cc_data(&data[..data.len().min(30)]);
    let before = captions::find(media_codec, data);
    let Ok(with) = captions::insert(media_codec, data, &added) else {
        return;
    };
    assert!(with.len() <= data.len() + 16 + 3 * Captions::MAX_TRIPLETS);
    let found = captions::find(media_codec, &with);
    if before.is_empty() {
        assert_eq!(found, added);
    }
}
