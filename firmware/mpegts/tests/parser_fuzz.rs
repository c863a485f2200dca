//! Fuzz-style tests: the parsers take whatever bytes they are given (random,
//! truncated, corrupted, shuffled) and answer with values or errors, never
//! a panic. Deterministic seeds, so any failure reproduces.

#[path = "common/prng.rs"]
mod prng;

use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::crc32_mpeg2;
use makara_mpegts::demux::Demuxer;
use makara_mpegts::klv::MetadataAuCellRepr;
use makara_mpegts::mux::{MuxConfig, Muxer};
use makara_mpegts::packet::{AdaptationRepr, TsHeaderRepr, TsPacket, PACKET_LEN};
use makara_mpegts::pes::PesHeaderRepr;
use makara_mpegts::pmt::{descriptors, PmtRepr};
use makara_mpegts::psi::{PatRepr, PsiSection};
use prng::Prng;

/// Reads every field a checked packet offers.
fn touch_packet(bytes: &[u8]) {
    if let Ok(p) = TsPacket::new_checked(bytes) {
        let _ = (
            p.pid(),
            p.payload_unit_start(),
            p.transport_error(),
            p.continuity_counter(),
        );
        let _ = (
            p.discontinuity(),
            p.random_access(),
            p.pcr(),
            p.payload().len(),
        );
        let _ = TsHeaderRepr::parse(&p);
    }
}

/// Runs every section and PES parser over `bytes`.
fn touch_parsers(bytes: &[u8]) {
    if let Ok(section) = PsiSection::new_checked(bytes) {
        let _ = (
            section.version(),
            section.section_number(),
            section.body().len(),
        );
        let _ = PatRepr::parse(&section);
        if let Ok(pmt) = PmtRepr::parse(&section) {
            let _ = descriptors(&pmt.program_info).count();
        }
    }
    let _ = PesHeaderRepr::parse(bytes);
    let _ = MetadataAuCellRepr::parse(bytes);
    let _ = descriptors(bytes).count();
}

/// A valid stream with every kind of stream and packet in it.
fn sample_stream(rng: &mut Prng) -> Vec<[u8; PACKET_LEN]> {
    let config = MuxConfig {
        video: Some((0x100, VideoCodec::Hevc)),
        audio: Some((0x101, AudioCodec::Mp2)),
        klv_pid: Some(0x102),
        ..MuxConfig::new(8_000_000)
    };
    let mut muxer = Muxer::new(config.validate().unwrap(), Pcr27M(0));
    let mut out = Vec::new();
    for n in 0..40u64 {
        let len = rng.range(1, 20_000) as usize;
        let (pts, dts) = (
            Clock90k(9_000 + n * 3_600 + 3_600),
            Clock90k(9_000 + n * 3_600),
        );
        muxer.push_video(&EncodedVideo {
            data: rng.bytes(len),
            pts,
            dts,
            keyframe: n % 10 == 0,
        });
        muxer.push_audio(&EncodedAudio {
            data: rng.bytes(300),
            pts: dts,
        });
        muxer.push_klv(&rng.bytes(100), pts);
        muxer.fill_until(Pcr27M((n + 1) * 3_600 * 300), &mut out);
    }
    out.into_iter().map(|(_, p)| p).collect()
}

fn drain(demuxer: &mut Demuxer) -> usize {
    std::iter::from_fn(|| demuxer.poll()).count()
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Prng::new(0xF00D);
    let mut demuxer = Demuxer::new();
    for _ in 0..50_000 {
        let len = if rng.chance(70) {
            PACKET_LEN
        } else {
            rng.below(400) as usize
        };
        let mut bytes = rng.bytes(len);
        if let Some(first) = bytes.first_mut().filter(|_| rng.chance(80)) {
            *first = 0x47; // get past the sync check most of the time
        }
        touch_packet(&bytes);
        touch_parsers(&bytes);
        if rng.chance(50) && bytes.len() > 3 {
            bytes[..3].copy_from_slice(&[0, 0, 1]); // past the PES start code
            touch_parsers(&bytes);
        }
        demuxer.push(&bytes);
        drain(&mut demuxer);
    }
    demuxer.finish();
    drain(&mut demuxer);
}

/// Random sections with a correct CRC, so the table parsers see them.
#[test]
fn random_sections_with_good_crcs_never_panic() {
    let mut rng = Prng::new(0xC0FFEE);
    let mut tables = 0;
    for _ in 0..50_000 {
        let len = rng.range(8, 200) as usize;
        let mut section = rng.bytes(len);
        section[0] = [0x00, 0x02, 0x42][rng.below(3) as usize];
        let section_length = (len + 4 - 3) as u16;
        section[1] = 0x80 | (section_length >> 8) as u8 | (section[1] & 0x70);
        section[2] = section_length as u8;
        let crc = crc32_mpeg2(&section);
        section.extend_from_slice(&crc.to_be_bytes());
        touch_parsers(&section);
        let parsed = PsiSection::new_checked(&section[..]).unwrap();
        tables += usize::from(PmtRepr::parse(&parsed).is_ok() || PatRepr::parse(&parsed).is_ok());

        // The same section through the demuxer, as a PMT split over packets.
        let mut demuxer = Demuxer::new();
        let pat = [
            0, 0x00, 0xB0, 0x0D, 0, 1, 0xC1, 0, 0, 0, 1, 0xF0, 0, 0x2A, 0xB1, 0x04, 0xB2,
        ];
        demuxer.push(&packet(0, true, 0, &pat));
        let mut payload = vec![0];
        payload.extend_from_slice(&section);
        for (i, chunk) in payload.chunks(rng.range(1, 184) as usize).enumerate() {
            demuxer.push(&packet(0x1000, i == 0, i as u8, chunk));
        }
        drain(&mut demuxer);
    }
    assert!(
        tables > 1_000,
        "only {tables} random sections reached a table parser"
    );
}

fn packet(pid: u16, start: bool, cc: u8, payload: &[u8]) -> [u8; PACKET_LEN] {
    let header = TsHeaderRepr {
        pid,
        payload_unit_start: start,
        continuity_counter: cc & 0x0F,
        adaptation: AdaptationRepr::default(),
    };
    let mut bytes = [0u8; PACKET_LEN];
    header.emit(payload, &mut bytes);
    bytes
}

#[test]
fn corrupted_streams_never_panic() {
    let mut rng = Prng::new(0xBAD5EED);
    let stream = sample_stream(&mut rng);
    assert!(stream.len() > 500);
    for _ in 0..400 {
        let mut demuxer = Demuxer::new();
        let from = rng.below(stream.len() as u64 / 2) as usize;
        for packet in &stream[from..from + 200] {
            let mut bytes = packet.to_vec();
            match rng.below(10) {
                0 => {
                    let bit = rng.below(PACKET_LEN as u64 * 8) as usize;
                    bytes[bit / 8] ^= 0x80 >> (bit % 8);
                }
                1 => bytes.truncate(rng.below(PACKET_LEN as u64) as usize),
                2 => {
                    let at = rng.range(4, PACKET_LEN as u64 - 1) as usize;
                    bytes[at..].copy_from_slice(&rng.bytes(PACKET_LEN - at));
                }
                3 => continue,                        // lost
                4 => demuxer.push(&bytes),            // duplicated
                5 => bytes[4] = rng.below(256) as u8, // adaptation_field_length
                _ => {}
            }
            touch_packet(&bytes);
            demuxer.push(&bytes);
            drain(&mut demuxer);
        }
        demuxer.finish();
        drain(&mut demuxer);
    }
}
