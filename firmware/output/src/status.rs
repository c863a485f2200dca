//! The state every output kind shares with whoever reports on a stream:
//! an [`OutputStatus`], made when the output opens and handed out as an
//! `Arc` by [`crate::TsOutput::status`].
//!
//! The contract, for every kind of output:
//!
//! - An output **delivers** while its `last_error` is `None`. While it
//!   cannot deliver (connecting, waiting for a peer or a client, retrying
//!   after a failure) it sets [`OutputStatus::set_last_error`] to a
//!   sentence saying why, naming what it waits for; once it delivers again
//!   it sets `None`. A stream is `active` only while every output
//!   delivers, and a waiting stream's `lastError` is the first such
//!   sentence.
//! - An output with SRT peers publishes their statistics with
//!   [`OutputStatus::set_links`] (SRT's own peer logic does this); other
//!   kinds leave the links empty.
//! - [`OutputStatus::report`] reads it all as one [`OutputReport`], with
//!   the health of what the output sent.
//!
//! The health needs nothing from an output kind: whoever hands the output
//! its packets (the stream's sender) passes the same packets to
//! [`OutputStatus::took`] once the output took them. They are judged
//! ([`makara_mpegts::health`]) only while the output delivers; when it
//! stops delivering, what it sends next is judged as a new stream
//! (continuity counters and PCR clocks start afresh; the counts go on).
//!
//! Each call holds the lock only to copy or replace a few fields, or to
//! look at the headers of one batch of packets, so the sender thread, the
//! output's own threads and a reader never wait on each other for long.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use makara_media::{MonotonicNs, OutputHealth, OutputReport, SrtLinkStats};
use makara_mpegts::health::{Analyser, HealthReport};

use crate::datagram::TS_PACKET_LEN;

/// One output's state, shared between its threads and the stream's
/// reports.
#[derive(Debug)]
pub struct OutputStatus {
    name: String,
    /// The zero of the analyser's clock.
    opened: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Name, links and error; the health is filled in when read.
    report: OutputReport,
    health: Analyser,
}

impl OutputStatus {
    /// An output that delivers from the start (UDP: every datagram
    /// leaves).
    pub fn new(name: &str) -> OutputStatus {
        OutputStatus::with_error(name, None)
    }

    /// An output that cannot deliver yet, for `why`.
    pub fn waiting(name: &str, why: String) -> OutputStatus {
        OutputStatus::with_error(name, Some(why))
    }

    fn with_error(name: &str, last_error: Option<String>) -> OutputStatus {
        OutputStatus {
            name: name.to_string(),
            opened: Instant::now(),
            inner: Mutex::new(Inner {
                report: OutputReport {
                    name: name.to_string(),
                    last_error,
                    ..OutputReport::default()
                },
                health: Analyser::new(),
            }),
        }
    }

    /// The output's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the output does not deliver (`Some`), or that it does (`None`).
    pub fn set_last_error(&self, last_error: Option<String>) {
        self.lock().set_error(last_error);
    }

    /// The statistics of each connected peer.
    pub fn set_links(&self, links: Vec<SrtLinkStats>) {
        self.lock().report.links = links;
    }

    /// Links and error together, so that no reader sees one without the
    /// other.
    pub(crate) fn set_links_and_error(&self, links: Vec<SrtLinkStats>, last_error: Option<String>) {
        let mut inner = self.lock();
        inner.report.links = links;
        inner.set_error(last_error);
    }

    /// Packets the output took at `at` (one look at each header, no copy);
    /// counted only while it delivers.
    pub fn took<'p>(&self, packets: impl Iterator<Item = &'p [u8; TS_PACKET_LEN]>, at: Instant) {
        let at = self.since_opened(at);
        let mut inner = self.lock();
        if inner.report.last_error.is_none() {
            inner.health.packets(packets, at);
        }
    }

    /// Everything the output reports, now.
    pub fn report(&self) -> OutputReport {
        let now = self.since_opened(Instant::now());
        let inner = self.lock();
        let mut report = inner.report.clone();
        report.health = output_health(&inner.health.report(now));
        report
    }

    /// The output delivers the stream: no `last_error`.
    pub fn delivering(&self) -> bool {
        self.lock().report.last_error.is_none()
    }

    /// Why the output does not deliver; `None` while it does.
    pub fn waiting_reason(&self) -> Option<String> {
        self.lock().report.last_error.clone()
    }

    fn since_opened(&self, at: Instant) -> MonotonicNs {
        let ns = at.saturating_duration_since(self.opened).as_nanos();
        MonotonicNs(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// The report is plain data: a thread that panicked holding it left
    /// it whole.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn set_error(&mut self, last_error: Option<String>) {
        if last_error.is_some() && self.report.last_error.is_none() {
            self.health.interrupted();
        }
        self.report.last_error = last_error;
    }
}

fn output_health(h: &HealthReport) -> OutputHealth {
    OutputHealth {
        bytes: h.bytes,
        packets: h.packets,
        bitrate_bps: h.bitrate_bps,
        cc_errors: h.cc_errors,
        pcr_interval_errors: h.pcr_interval_errors,
        pcr_interval_max_ms: ms(h.pcr_interval_max_ns),
        pcr_jitter_max_ms: ms(h.pcr_jitter_max_ns),
        since_last_packet_ms: h.since_last_packet_ns.map(|ns| ns / 1_000_000),
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_output_delivers_while_it_has_no_error() {
        let status = OutputStatus::waiting("to CDN", "rtmp://cdn/app: connecting".into());
        assert!(!status.delivering());
        assert_eq!(
            status.waiting_reason().as_deref(),
            Some("rtmp://cdn/app: connecting")
        );
        status.set_last_error(None);
        assert!(status.delivering());
        let report = status.report();
        assert_eq!((report.name.as_str(), report.last_error), ("to CDN", None));
        assert!(report.links.is_empty());
    }

    #[test]
    fn links_are_reported_as_set() {
        let status = OutputStatus::new("udp");
        assert!(status.delivering());
        status.set_links(vec![SrtLinkStats {
            packets_sent: 7,
            ..SrtLinkStats::default()
        }]);
        assert_eq!(status.report().links[0].packets_sent, 7);
        status.set_links_and_error(Vec::new(), Some("no caller".into()));
        let report = status.report();
        assert!(report.links.is_empty());
        assert_eq!(report.last_error.as_deref(), Some("no caller"));
    }

    fn packet(cc: u8) -> [u8; TS_PACKET_LEN] {
        let mut p = [0xFF; TS_PACKET_LEN];
        p[..4].copy_from_slice(&[0x47, 0x01, 0x00, 0x10 | cc]);
        p
    }

    #[test]
    fn packets_count_only_while_the_output_delivers() {
        let status = OutputStatus::waiting("srt", "no caller".into());
        let at = status.opened;
        status.took([packet(0), packet(1)].iter(), at);
        let health = status.report().health;
        assert_eq!((health.packets, health.since_last_packet_ms), (0, None));

        status.set_last_error(None);
        status.took([packet(5), packet(6)].iter(), at);
        status.set_last_error(Some("caller left".into()));
        status.took([packet(7)].iter(), at);
        status.set_last_error(None);
        // After the break, a new stream: counter 2 is no error.
        status.took([packet(2), packet(3)].iter(), at + Duration::from_millis(5));
        let health = status.report().health;
        assert_eq!((health.packets, health.bytes), (4, 4 * 188));
        assert_eq!(health.cc_errors, 0);
        assert!(health.since_last_packet_ms.is_some());
        status.took([packet(5)].iter(), at + Duration::from_millis(6));
        assert_eq!(status.report().health.cc_errors, 1);
    }
}
