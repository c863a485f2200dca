//! The SAP announcements of a run: every UDP output with `transmitSap on`
//! is announced when the run starts and every
//! [`ANNOUNCE_INTERVAL`](makara_output::sap::ANNOUNCE_INTERVAL) after, and
//! its deletion is sent when the run ends. A thread of its own, so the
//! sender's pacing never waits on it.

use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::SystemTime;

use makara_output::sap::{SapAnnouncer, ANNOUNCE_INTERVAL};
use makara_output::{OutputSettings, UdpSettings};

use crate::setup::Setup;

/// Announces while it lives; dropping it sends the deletions and waits for
/// them to leave.
pub struct Announcements {
    /// Dropped to wake the thread for the deletions.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts announcing the outputs of `setup` that transmit SAP. An output
/// whose announcer cannot open is logged and left unannounced: the stream
/// itself does not depend on it.
pub fn announce(setup: &Setup) -> Announcements {
    let idle = Announcements {
        stop: None,
        thread: None,
    };
    let started = SystemTime::now();
    let announcers: Vec<SapAnnouncer> = setup
        .outputs
        .iter()
        .filter_map(|output| match output {
            OutputSettings::Udp(udp) => open(setup, udp, started),
            // SDP describes RTP and UDP sessions; an SRT output is
            // found through its peer, not announced.
            OutputSettings::Srt(_) => None,
            // An RTMP push goes to its server; nothing to announce.
            OutputSettings::Rtmp(_) => None,
            // An RTSP output is served to the clients that ask for it.
            OutputSettings::Rtsp(_) => None,
        })
        .collect();
    if announcers.is_empty() {
        return idle;
    }
    let (stop, stopped) = channel();
    let stream = setup.name.clone();
    match thread::Builder::new()
        .name("sap".into())
        .spawn(move || run(&stream, &announcers, &stopped))
    {
        Ok(thread) => Announcements {
            stop: Some(stop),
            thread: Some(thread),
        },
        Err(error) => {
            tracing::warn!(stream = %setup.name, %error, "no SAP thread");
            idle
        }
    }
}

fn open(setup: &Setup, output: &UdpSettings, started: SystemTime) -> Option<SapAnnouncer> {
    match SapAnnouncer::open(output, &setup.name, setup.mux_rate_bps, started) {
        Ok(announcer) => announcer,
        Err(error) => {
            tracing::warn!(stream = %setup.name, output = %output.destination, %error,
                "cannot announce the output with SAP");
            None
        }
    }
}

fn run(stream: &str, announcers: &[SapAnnouncer], stopped: &Receiver<()>) {
    loop {
        for announcer in announcers {
            if let Err(error) = announcer.announce() {
                tracing::warn!(stream, to = %announcer.destination(), %error, "SAP announcement not sent");
            }
        }
        if stopped.recv_timeout(ANNOUNCE_INTERVAL) != Err(RecvTimeoutError::Timeout) {
            break;
        }
    }
    for announcer in announcers {
        if let Err(error) = announcer.delete() {
            tracing::warn!(stream, to = %announcer.destination(), %error, "SAP deletion not sent");
        }
    }
}

impl Drop for Announcements {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the SAP thread panicked");
            }
        }
    }
}
