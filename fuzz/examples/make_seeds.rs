//! Writes the generated seeds of fuzz/corpus: transport streams from our
//! muxer (ts_demux, ts_tstd), the sections, PES header and metadata cell
//! cut from one of them (ts_sections), and requests signed with the
//! tests' own OAuth signer, which is written apart from the verifier
//! (oauth_verify). The Kraken bodies come from fuzz/kraken_seeds.py.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example make_seeds -- fuzz/corpus
//!
//! Deterministic: the same files every run.

use std::path::{Path, PathBuf};

use makara_api::oauth::{
    percent_encode, sign, signature_base_string, NonceCache, RequestParts, DEFAULT_WINDOW_SECS,
};
use makara_fuzz::{
    request_with_headers, verify_as_fuzz_consumer, OAUTH_KEY, OAUTH_NOW, OAUTH_SECRET,
};
use makara_media::{AudioCodec, Clock90k, EncodedAudio, EncodedVideo, Pcr27M, VideoCodec};
use makara_mpegts::mux::{DvbName, MuxConfig, Muxer};
use makara_mpegts::packet::{TsPacket, PACKET_LEN};
use makara_mpegts::pes::PesHeaderRepr;
use makara_mpegts::psi::section_len;
use makara_mpegts::tstd::analyse;
use makara_test_support::oauth::Signer;

const HOST: &str = "127.0.0.1:8443";

const VIDEO_PID: u16 = 0x100;
const AUDIO_PID: u16 = 0x101;
const KLV_PID: u16 = 0x102;
const PMT_PID: u16 = 0x1000;
const SDT_PID: u16 = 0x11;

fn main() {
    let corpus = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let streams = [
        ("h264-aac-cbr", stream(StreamKind::H264AacCbr)),
        (
            "hevc-mp2-klv-vbr-restart",
            stream(StreamKind::HevcMp2KlvVbr),
        ),
        ("audio-only", stream(StreamKind::AudioOnly)),
    ];
    for (name, packets) in &streams {
        let bytes = packets.concat();
        let report = analyse(&bytes).expect("the analyser finds two PCRs");
        assert!(!report.streams.is_empty(), "{name}: the PMT names streams");
        write(&corpus, "ts_demux", name, &bytes);
        write(&corpus, "ts_tstd", name, &bytes);
    }
    let av1 = av1_stream().concat();
    assert!(!analyse(&av1).expect("two PCRs").streams.is_empty());
    write(&corpus, "ts_demux", "av1", &av1);
    write(&corpus, "es_demux", "av1", &[&[0x01][..], &av1].concat());
    for (name, bytes) in pieces(&streams[1].1) {
        write(&corpus, "ts_sections", name, &bytes);
    }
    for (name, request) in oauth_requests() {
        let verified = verifies(request.as_bytes());
        assert_eq!(
            verified,
            !name.contains("unknown-key"),
            "{name}: {verified}"
        );
        write(&corpus, "oauth_verify", name, request.as_bytes());
    }
}

/// Whether the oauth_verify target would accept `data`: the signed seeds
/// must, so that the fuzzer starts on the accepting path.
fn verifies(data: &[u8]) -> bool {
    let request = request_with_headers(data).expect("a seed reads as a request");
    let nonces = NonceCache::new(DEFAULT_WINDOW_SECS);
    verify_as_fuzz_consumer(&request.oauth_parts(), &nonces).is_ok()
}

fn write(corpus: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus.join(target);
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a seed");
    println!("{} ({} bytes)", path.display(), bytes.len());
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StreamKind {
    H264AacCbr,
    HevcMp2KlvVbr,
    AudioOnly,
}

/// A fifth of a second of a small stream: every table, several
/// PCRs, whole and split PES packets.
fn stream(kind: StreamKind) -> Vec<[u8; PACKET_LEN]> {
    let config = match kind {
        StreamKind::H264AacCbr => MuxConfig {
            service_provider: DvbName::new("makara"),
            service_name: DvbName::new("fuzz seed"),
            ..MuxConfig::new(400_000)
        },
        StreamKind::HevcMp2KlvVbr => MuxConfig {
            video: Some((VIDEO_PID, VideoCodec::Hevc)),
            audio: Some((AUDIO_PID, AudioCodec::Mp2)),
            klv_pid: Some(KLV_PID),
            variable_rate: true,
            restart: true,
            service_name: DvbName::new("klv"),
            ..MuxConfig::new(600_000)
        },
        StreamKind::AudioOnly => MuxConfig {
            video: None,
            ..MuxConfig::new(400_000)
        },
    };
    assert_eq!(config.pmt_pid, PMT_PID);
    let mut muxer = Muxer::new(config.validate().expect("a valid mux config"), Pcr27M(0));
    let mut out = Vec::new();
    let mut noise = Noise(0x5EED);
    for frame in 0..6u64 {
        let dts = Clock90k(9_000 + frame * 3_000);
        if kind != StreamKind::AudioOnly {
            let mut data = vec![0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x65];
            data.extend(noise.bytes(if frame % 5 == 0 { 900 } else { 150 }));
            muxer.push_video(&EncodedVideo {
                data,
                pts: Clock90k(dts.0 + 3_000),
                dts,
                keyframe: frame % 5 == 0,
            });
        }
        let mut frame_bytes = vec![0xFF, 0xF1, 0x50, 0x80];
        frame_bytes.extend(noise.bytes(60));
        muxer.push_audio(&EncodedAudio {
            data: frame_bytes,
            pts: dts,
        });
        if kind == StreamKind::HevcMp2KlvVbr {
            muxer.push_klv(&noise.bytes(20), dts);
        }
        muxer.fill_until(Pcr27M((frame + 1) * 3_000 * 300), &mut out);
    }
    out.into_iter().map(|(_, packet)| packet).collect()
}

/// A fifth of a second of AV1 alone: key temporal units (delimiter,
/// sequence header, frame) and inter ones, with zeros to escape in the
/// frame data. The sequence header is HEADER_A of the mpegts crate's
/// descriptor tests (profile 0, level 4.0, 320x240).
fn av1_stream() -> Vec<[u8; PACKET_LEN]> {
    const SEQUENCE_OBU: [u8; 16] = [
        0x0A, 0x0E, 0x00, 0x00, 0x00, 0x46, 0x1E, 0x7F, 0xDE, 0x61, 0x3C, 0xC8, 0x08, 0x08, 0x0A,
        0x20,
    ];
    let config = MuxConfig {
        video: Some((VIDEO_PID, VideoCodec::Av1)),
        audio: None,
        ..MuxConfig::new(400_000)
    };
    let mut muxer = Muxer::new(config.validate().expect("a valid mux config"), Pcr27M(0));
    let mut out = Vec::new();
    let mut noise = Noise(0xA1);
    for frame in 0..6u64 {
        let key = frame % 3 == 0;
        let mut data = vec![0x12, 0x00];
        if key {
            data.extend_from_slice(&SEQUENCE_OBU);
        }
        let mut body = vec![if key { 0x10 } else { 0x30 }, 0, 0, 1, 0, 0, 3];
        body.extend(noise.bytes(if key { 300 } else { 80 }));
        data.push(0x32);
        data.extend_from_slice(&[(body.len() as u8) | 0x80, (body.len() >> 7) as u8]);
        data.extend_from_slice(&body);
        let dts = Clock90k(9_000 + frame * 3_000);
        muxer.push_video(&EncodedVideo {
            data,
            pts: dts,
            dts,
            keyframe: key,
        });
        muxer.fill_until(Pcr27M((frame + 1) * 3_000 * 300), &mut out);
    }
    assert_eq!(muxer.counters().rejected_units, 0);
    out.into_iter().map(|(_, packet)| packet).collect()
}

/// The first PAT, PMT and SDT sections, the first video PES header and
/// the first metadata AU cell in `packets`, each as its own seed.
fn pieces(packets: &[[u8; PACKET_LEN]]) -> Vec<(&'static str, Vec<u8>)> {
    let mut found: Vec<(&'static str, Vec<u8>)> = Vec::new();
    for bytes in packets {
        let packet = TsPacket::new_checked(&bytes[..]).expect("the muxer writes valid packets");
        if !packet.payload_unit_start() {
            continue;
        }
        let payload = packet.payload();
        let name = match packet.pid() {
            0 => "pat-section",
            PMT_PID => "pmt-section",
            SDT_PID => "sdt-section",
            VIDEO_PID => "video-pes-header",
            KLV_PID => "metadata-au-cell",
            _ => continue,
        };
        if found.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let piece = match packet.pid() {
            VIDEO_PID => payload[..payload.len().min(40)].to_vec(),
            KLV_PID => {
                let (_, at) = PesHeaderRepr::parse(payload).expect("the muxer writes PES headers");
                payload[at..].to_vec()
            }
            _ => {
                let section = &payload[1 + usize::from(payload[0])..];
                let len = section_len(section).expect("a section header");
                section[..len].to_vec()
            }
        };
        found.push((name, piece));
    }
    assert_eq!(found.len(), 5, "every piece is in the stream");
    found
}

/// Requests as clients send them: signed in the header by the tests'
/// signer (plain, folded, with a body beside it), and in the query and
/// a form body with the API's own signing functions.
fn oauth_requests() -> Vec<(&'static str, String)> {
    let signer = Signer::new(OAUTH_KEY, OAUTH_SECRET);
    let uri = |path: &str| format!("https://{HOST}{path}");
    let header = |method: &str, path: &str, nonce: &str| {
        signer.authorization(method, &uri(path), nonce, OAUTH_NOW)
    };
    let get = header("GET", "/apis/kraken/inputs", "a1b2c3d4");
    let folded = header("GET", "/apis/servers", "folded").replace(", ", ",\n    ");
    let post = header("POST", "/apis/kraken/streams", "0f9e8d7c6b5a");
    vec![
        (
            "header-get",
            format!("GET /apis/kraken/inputs\nHost: {HOST}\nAuthorization: {get}\n\n"),
        ),
        (
            "header-folded",
            format!("GET /apis/servers\nHost: {HOST}\nAuthorization: {folded}\n\n"),
        ),
        (
            "header-post-xml-body",
            format!(
                "POST /apis/kraken/streams\nHost: {HOST}\nContent-Type: application/xml\n\
                 Authorization: {post}\n\n<stream><state>start</state></stream>"
            ),
        ),
        (
            "header-realm-unknown-key",
            format!(
                "DELETE /apis/kraken/outputs/output-1\nHost: {HOST}\nAuthorization: \
                 OAuth realm=\"makara\", oauth_consumer_key=\"other\", oauth_nonce=\"n\", \
                 oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"{OAUTH_NOW}\", \
                 oauth_version=\"1.0\", oauth_signature=\"AAAA\"\n\n"
            ),
        ),
        (
            "query",
            signed_elsewhere("GET", "/apis/kraken/system", None),
        ),
        (
            "form-body",
            signed_elsewhere(
                "PUT",
                "/apis/kraken/transcoders/t-1",
                Some("name=a+b&x=%2F"),
            ),
        ),
    ]
}

/// A request whose OAuth parameters travel in the query (no `form`) or
/// in a form-encoded body beside `form`'s own fields.
fn signed_elsewhere(method: &str, path: &str, form: Option<&str>) -> String {
    let oauth = format!(
        "oauth_consumer_key={OAUTH_KEY}&oauth_nonce=q{}&oauth_signature_method=HMAC-SHA1\
         &oauth_timestamp={OAUTH_NOW}&oauth_version=1.0",
        method.len()
    );
    let (query, body) = match form {
        None => (Some(oauth.clone()), String::new()),
        Some(fields) => (None, format!("{fields}&{oauth}")),
    };
    let content_type = form.map(|_| "application/x-www-form-urlencoded");
    let parts = RequestParts {
        method,
        scheme: "https",
        host: HOST,
        path,
        query: query.as_deref(),
        authorization: None,
        content_type,
        body: body.as_bytes(),
    };
    let base = signature_base_string(&parts).expect("a well-formed request");
    let signature = format!(
        "&oauth_signature={}",
        percent_encode(&sign(&base, OAUTH_SECRET, ""))
    );
    match (query, content_type) {
        (Some(query), _) => format!("{method} {path}?{query}{signature}\nHost: {HOST}\n\n"),
        (None, Some(ct)) => {
            format!("{method} {path}\nHost: {HOST}\nContent-Type: {ct}\n\n{body}{signature}")
        }
        (None, None) => unreachable!("a form body has a content type"),
    }
}

/// A small deterministic byte source (xorshift), for payloads.
struct Noise(u64);

impl Noise {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}
