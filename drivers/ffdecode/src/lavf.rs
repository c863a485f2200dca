//! The receiver of an RTSP or MJPEGRAW input: libavformat opens the URL
//! (its RTSP demuxer, or HTTP multipart / raw Motion JPEG), every call
//! bounded by a socket timeout and an interrupt that sees a stop; the best
//! video and audio streams are fed to the decoder thread. A failed or
//! ended connection is opened again with backoff, its reason shown.
//!
//! RTSP transport: UDP first, and libavformat falls back to TCP
//! (interleaved) by itself when no UDP packet arrives; a URL may name the
//! transport with the query parameter `rtsp_transport=tcp` (or `udp`,
//! `udp_multicast`, `http`), which is taken out of the URL sent to the
//! server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;

use ff::codec::Id;
use ff::format::context::Input;
use ff::{media, Dictionary, Packet, Rational};
use ffmpeg_next as ff;
use makara_capture::monotonic_now;
use makara_media::InputReport;

use crate::access_unit::AccessUnit;
use crate::decode::{codec_name, usable_rate};
use crate::feed::{AudioCodec, Codec, Feed, Streams};
use crate::state::State;
use crate::timing::TICKS_PER_SEC;

/// libavformat's socket timeout: a server that stops answering is
/// noticed within this.
const SOCKET_TIMEOUT_US: &str = "5000000";
/// An open that failed after this long without a status from the server
/// failed on the server's silence (the socket timeout, less a margin).
const SILENT_SERVER_NS: u64 = 4_500_000_000;
/// Opening (connect, describe, set up, probe) is given up after this.
const OPEN_LIMIT_NS: u64 = 10_000_000_000;
/// One read is given up after this.
const READ_LIMIT_NS: u64 = 6_000_000_000;
/// How long libavformat probes the streams.
const PROBE_US: &str = "1000000";
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The video codecs decoded from these inputs.
const VIDEO: [Id; 5] = [
    Id::H264,
    Id::HEVC,
    Id::MPEG2VIDEO,
    Id::MPEG1VIDEO,
    Id::MJPEG,
];

/// Which kind of input, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Rtsp,
    Mjpeg,
}

pub(crate) struct LavfReceiver {
    pub(crate) kind: Kind,
    /// The URL as given (credentials included: it goes to libavformat
    /// only; messages use the state's label).
    pub(crate) url: String,
    pub(crate) feed: SyncSender<Feed>,
    pub(crate) state: Arc<State>,
}

/// The interrupt libavformat polls while it waits: a stop, or the current
/// call's deadline passed.
struct Interrupt {
    stop: Arc<AtomicBool>,
    deadline: Arc<AtomicU64>,
}

impl Interrupt {
    fn set(&self, limit_ns: u64) {
        self.deadline
            .store(monotonic_now().0 + limit_ns, Ordering::Relaxed);
    }

    fn closure(&self) -> impl FnMut() -> bool + Send + 'static {
        let (stop, deadline) = (Arc::clone(&self.stop), Arc::clone(&self.deadline));
        move || stop.load(Ordering::Relaxed) || monotonic_now().0 > deadline.load(Ordering::Relaxed)
    }
}

impl LavfReceiver {
    pub(crate) fn run(self) {
        let interrupt = Interrupt {
            stop: Arc::clone(&self.state.stop),
            deadline: Arc::new(AtomicU64::new(u64::MAX)),
        };
        let mut backoff = FIRST_BACKOFF;
        let mut report = InputReport::default();
        while !self.state.stopped() {
            let why = match self.open(&interrupt) {
                Ok(input) => {
                    backoff = FIRST_BACKOFF;
                    self.receive(input, &interrupt, &mut report)
                }
                Err(why) => why,
            };
            if self.state.stopped() {
                return;
            }
            tracing::warn!(input = %self.state.label, "{why}; trying again in {backoff:?}");
            report.receiving = false;
            report.last_error = Some(why);
            self.state.set_transport(report.clone());
            self.pause(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn pause(&self, total: Duration) {
        let step = Duration::from_millis(50);
        let mut slept = Duration::ZERO;
        while slept < total && !self.state.stopped() {
            std::thread::sleep(step);
            slept += step;
        }
    }

    /// Connects and probes; the reason when it cannot.
    fn open(&self, interrupt: &Interrupt) -> Result<Input, String> {
        let (url, transport) = split_transport(&self.url);
        let mut options = Dictionary::new();
        options.set("timeout", SOCKET_TIMEOUT_US);
        options.set("analyzeduration", PROBE_US);
        if let Some(transport) = transport {
            options.set("rtsp_transport", &transport);
        }
        interrupt.set(OPEN_LIMIT_NS);
        let started = monotonic_now();
        let opened = ff::format::input_with_interrupt_and_dictionary(
            url.as_str(),
            interrupt.closure(),
            options,
        );
        opened.map_err(|e| {
            // A server that takes the connection and never answers makes
            // the demuxer fail on the reply it did not get ("invalid
            // data"): what the operator needs to hear is the silence.
            let waited = monotonic_now().0.saturating_sub(started.0);
            if waited >= SILENT_SERVER_NS && http_status(&e).is_none() {
                self.no_answer("cannot open", waited)
            } else {
                self.describe(&e, "cannot open")
            }
        })
    }

    /// "RTSP rtsp://cam/live: cannot open: no answer from the server
    /// within 5 s".
    fn no_answer(&self, doing: &str, waited_ns: u64) -> String {
        format!(
            "{} {}: {doing}: no answer from the server within {} s",
            self.kind_name(),
            self.state.label,
            waited_ns / 1_000_000_000
        )
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Rtsp => "RTSP",
            Kind::Mjpeg => "MJPEG",
        }
    }

    /// Feeds the decoder until the connection fails or ends; why it did.
    fn receive(&self, mut input: Input, interrupt: &Interrupt, report: &mut InputReport) -> String {
        let (streams, video, audio) = match self.streams(&input) {
            Ok(found) => found,
            Err(why) => {
                let _ = self.feed.send(Feed::Streams(Streams {
                    video: Err(why.clone()),
                    audio: None,
                    frame_rate: None,
                    metadata: false,
                }));
                return format!("{}: {why}", self.state.label);
            }
        };
        if self.feed.send(Feed::Streams(streams)).is_err() {
            return "stopped".into();
        }
        report.last_error = None;
        let video_base = input.stream(video).map(|s| s.time_base());
        let audio_base = audio.and_then(|a| input.stream(a)).map(|s| s.time_base());
        let mut packet = Packet::empty();
        loop {
            interrupt.set(READ_LIMIT_NS);
            if let Err(e) = packet.read(&mut input) {
                return match e {
                    ff::Error::Eof => format!("{}: the server ended the stream", self.state.label),
                    e => self.describe(&e, "lost"),
                };
            }
            let size = packet.size();
            report.packets += 1;
            report.bytes += size as u64;
            report.receiving = true;
            self.state.set_transport(report.clone());
            let Some(data) = packet.data() else { continue };
            let index = packet.stream();
            let feed = if index == video {
                let now = ticks_now();
                let pts = packet
                    .pts()
                    .and_then(|t| ticks(t, video_base))
                    .or(Some(now));
                let dts = packet.dts().and_then(|t| ticks(t, video_base));
                Feed::Video(AccessUnit {
                    data: data.to_vec(),
                    pts,
                    dts: dts.or(pts),
                })
            } else if Some(index) == audio {
                Feed::Audio {
                    data: data.to_vec(),
                    pts: packet.pts().and_then(|t| ticks(t, audio_base)),
                }
            } else {
                continue;
            };
            if self.feed.send(feed).is_err() {
                return "stopped".into();
            }
        }
    }

    /// The input's best video stream (which must be one decoded here) and
    /// best audio stream, as the decoder thread takes them.
    fn streams(&self, input: &Input) -> Result<(Streams, usize, Option<usize>), String> {
        let what = match self.kind {
            Kind::Rtsp => "the RTSP session",
            Kind::Mjpeg => "the MJPEG input",
        };
        let video = input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| format!("{what} has no video stream"))?;
        let params = video.parameters();
        let id = params.id();
        if !VIDEO.contains(&id) {
            return Err(format!(
                "the input's video is {}, which this appliance does not decode (it decodes \
                 H.264, HEVC, MPEG-2 video and Motion JPEG)",
                codec_name(id)
            ));
        }
        let rate = usable_rate(video.avg_frame_rate()).or_else(|| usable_rate(video.rate()));
        let audio = input.streams().best(media::Type::Audio);
        let streams = Streams {
            video: Ok(Codec {
                id,
                params: Some(params.clone()),
            }),
            audio: audio.as_ref().map(|a| {
                AudioCodec::Known(Codec {
                    id: a.parameters().id(),
                    params: Some(a.parameters().clone()),
                })
            }),
            frame_rate: rate,
            metadata: false,
        };
        Ok((streams, video.index(), audio.map(|a| a.index())))
    }

    /// A libavformat error as the operator reads it: "RTSP
    /// rtsp://cam/live: 404 Not Found".
    fn describe(&self, e: &ff::Error, doing: &str) -> String {
        let kind = self.kind_name();
        let label = &self.state.label;
        if let Some(status) = http_status(e) {
            return format!("{kind} {label}: {status}");
        }
        match e {
            ff::Error::Exit => format!("{kind} {label}: {doing}: no answer in time"),
            ff::Error::ProtocolNotFound => {
                format!("{kind} {label}: {doing}: {}", missing_protocol(&self.url))
            }
            ff::Error::Other { errno } if *errno == ff::util::error::ECONNREFUSED => {
                format!("{kind} {label}: {doing}: connection refused")
            }
            other => format!("{kind} {label}: {doing}: {other}"),
        }
    }
}

/// The status an RTSP or HTTP server answered with, for the errors that
/// are one.
fn http_status(e: &ff::Error) -> Option<&'static str> {
    Some(match e {
        ff::Error::HttpBadRequest => "400 Bad Request",
        ff::Error::HttpUnauthorized => {
            "401 Unauthorized (the URL needs a user name and password the server accepts)"
        }
        ff::Error::HttpForbidden => "403 Forbidden",
        ff::Error::HttpNotFound => "404 Not Found",
        ff::Error::HttpOther4xx => "a 4xx error status",
        ff::Error::HttpServerError => "a 5xx server error",
        _ => return None,
    })
}

/// `t` in `base` units as 90 kHz ticks.
fn ticks(t: i64, base: Option<Rational>) -> Option<i64> {
    let base = base?;
    let (num, den) = (i128::from(base.numerator()), i128::from(base.denominator()));
    (den != 0).then(|| (i128::from(t) * num * i128::from(TICKS_PER_SEC) / den) as i64)
}

/// Now in 90 kHz ticks: the time of a picture that came without one
/// (Motion JPEG over HTTP has none).
fn ticks_now() -> i64 {
    (u128::from(monotonic_now().0) * TICKS_PER_SEC as u128 / 1_000_000_000) as i64
}

/// The URL without our `rtsp_transport=` query parameter, and its value.
pub(crate) fn split_transport(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut transport = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("rtsp_transport=") {
            Some(value) => {
                transport = Some(value.to_string());
                false
            }
            None => true,
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, transport)
}

/// Why libavformat has no protocol for `url`: the appliance image's small
/// FFmpeg is built without TLS (docs/image.md), so its `https://` inputs
/// land here; Debian's full FFmpeg opens them.
fn missing_protocol(url: &str) -> String {
    let scheme = url.split_once("://").map_or(url, |(scheme, _)| scheme);
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "rtsps" => format!(
            "this firmware's FFmpeg is built without TLS and cannot open {scheme}:// URLs \
             (use the server's plain http:// or rtsp:// URL)"
        ),
        _ => format!("this firmware's FFmpeg cannot open {scheme}:// URLs"),
    }
}

/// The URL without its user name and password, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_parameter_is_ours_and_taken_out() {
        assert_eq!(
            split_transport("rtsp://cam/live?rtsp_transport=tcp"),
            ("rtsp://cam/live".into(), Some("tcp".into()))
        );
        assert_eq!(
            split_transport("rtsp://cam/live?a=1&rtsp_transport=udp&b=2"),
            ("rtsp://cam/live?a=1&b=2".into(), Some("udp".into()))
        );
        assert_eq!(
            split_transport("rtsp://cam/live"),
            ("rtsp://cam/live".into(), None)
        );
    }

    #[test]
    fn messages_never_show_credentials() {
        assert_eq!(
            redact("rtsp://admin:secret@cam:554/live"),
            "rtsp://cam:554/live"
        );
        assert_eq!(redact("http://cam/a@b"), "http://cam/a@b");
        assert_eq!(redact("rtsp://cam/live"), "rtsp://cam/live");
    }

    #[test]
    fn a_missing_protocol_says_which_and_why() {
        assert_eq!(
            missing_protocol("https://cam/video.mjpg"),
            "this firmware's FFmpeg is built without TLS and cannot open https:// URLs \
             (use the server's plain http:// or rtsp:// URL)"
        );
        assert_eq!(
            missing_protocol("gopher://x"),
            "this firmware's FFmpeg cannot open gopher:// URLs"
        );
    }

    #[test]
    fn timestamps_become_90khz_ticks() {
        assert_eq!(ticks(1_000, Some(Rational::new(1, 1_000))), Some(90_000));
        assert_eq!(ticks(90_000, Some(Rational::new(1, 90_000))), Some(90_000));
        assert_eq!(ticks(5, None), None);
    }
}
