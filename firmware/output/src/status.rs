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
//! - [`OutputStatus::report`] reads it all as one [`OutputReport`].
//!
//! Each call holds the lock only to copy or replace a few fields, so the
//! sender thread, the output's own threads and a reader never wait on each
//! other for long.

use std::sync::{Mutex, MutexGuard};

use makara_media::{OutputReport, SrtLinkStats};

/// One output's state, shared between its threads and the stream's
/// reports.
#[derive(Debug)]
pub struct OutputStatus {
    name: String,
    report: Mutex<OutputReport>,
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
            report: Mutex::new(OutputReport {
                name: name.to_string(),
                last_error,
                ..OutputReport::default()
            }),
        }
    }

    /// The output's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the output does not deliver (`Some`), or that it does (`None`).
    pub fn set_last_error(&self, last_error: Option<String>) {
        lock(&self.report).last_error = last_error;
    }

    /// The statistics of each connected peer.
    pub fn set_links(&self, links: Vec<SrtLinkStats>) {
        lock(&self.report).links = links;
    }

    /// Links and error together, so that no reader sees one without the
    /// other.
    pub(crate) fn set_links_and_error(&self, links: Vec<SrtLinkStats>, last_error: Option<String>) {
        let mut report = lock(&self.report);
        report.links = links;
        report.last_error = last_error;
    }

    /// Everything the output reports, now.
    pub fn report(&self) -> OutputReport {
        lock(&self.report).clone()
    }

    /// The output delivers the stream: no `last_error`.
    pub fn delivering(&self) -> bool {
        lock(&self.report).last_error.is_none()
    }

    /// Why the output does not deliver; `None` while it does.
    pub fn waiting_reason(&self) -> Option<String> {
        lock(&self.report).last_error.clone()
    }
}

/// The report is plain data: a thread that panicked holding it left it
/// whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
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
}
