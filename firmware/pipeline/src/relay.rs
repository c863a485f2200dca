//! Transport streams copied as they are: bypass mode (the input's packets
//! to every output, nothing decoded) and passthru mode's copy of the input
//! to the passthru output. PIDs, PCRs, continuity counters and tables are
//! the input's: packets leave as they arrive, only regrouped into each
//! output's datagrams or messages.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use makara_input::TsInput;
use makara_output::TsOutput;

use crate::codecs::TsPackets;
use crate::keeper::{sleep_unless_stopped, FIRST_BACKOFF, MAX_BACKOFF};
use crate::setup::BypassSetup;
use crate::shared::Shared;
use crate::sink::PacketSink;
use crate::taps::OutputTaps;

/// passthru mode's output, and its taps.
#[derive(Debug)]
pub struct PassthruOutput {
    pub output: TsOutput,
    pub taps: Arc<OutputTaps>,
}

/// How long one wait for packets lasts, so that a stop is seen promptly;
/// an input quiet this long also has its last part-filled datagram sent.
const POLL: Duration = Duration::from_millis(100);
/// How often the input's report is copied into the stream's.
const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// A bypass stream's keeper: relays until stopped; when the input fails
/// for good, opens it again with backoff. `input` was opened by the start.
pub fn keep_bypass(setup: BypassSetup, input: TsInput, mut sink: PacketSink, shared: Arc<Shared>) {
    let mut input = Some(input);
    let mut backoff = FIRST_BACKOFF;
    while !shared.stopping() {
        let opened = match input.take() {
            Some(input) => Ok(input),
            None => TsInput::open(&setup.input).map_err(|e| e.to_string()),
        };
        let result = opened.and_then(|mut input| {
            backoff = FIRST_BACKOFF;
            relay_input(&mut input, &mut sink, &shared)
        });
        match result {
            Ok(()) => break,
            Err(reason) => {
                tracing::warn!(stream = %setup.name, %reason, retry_in = ?backoff, "bypass input failed; retrying");
                shared.set_problem(Some(reason));
                shared.signal.store(false, Ordering::Release);
                sleep_unless_stopped(&shared, backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    if let Err(reason) = sink.finish() {
        tracing::warn!(stream = %setup.name, %reason, "the last packets were not sent");
    }
    shared.active.store(false, Ordering::Relaxed);
}

/// Copies the input's packets to every output until a stop; keeps the
/// stream's input report, and its signal: `waiting`, with the input's
/// reason, while nothing arrives.
fn relay_input(input: &mut TsInput, sink: &mut PacketSink, shared: &Shared) -> Result<(), String> {
    let label = input.label();
    let mut packets = Vec::new();
    let mut unflushed = false;
    let mut reported = None::<Instant>;
    while !shared.stopping() {
        packets.clear();
        input.read(POLL, &mut packets).map_err(|e| e.to_string())?;
        if packets.is_empty() {
            if unflushed {
                sink.finish()?;
                unflushed = false;
            }
        } else {
            sink.send_packets(&packets, shared)?;
            unflushed = true;
        }
        if reported.is_none_or(|at| at.elapsed() >= REPORT_INTERVAL) {
            publish_input(input, &label, shared);
            reported = Some(Instant::now());
        }
    }
    sink.finish()
}

/// The input's report into the stream's, and its signal. The reason is
/// set before the signal drops and cleared before it returns, so a GET
/// never sees `waiting` without one.
fn publish_input(input: &TsInput, label: &str, shared: &Shared) {
    let report = input.report();
    let receiving = report.receiving;
    let reason = report
        .last_error
        .clone()
        .unwrap_or_else(|| format!("no packets from {label}"));
    shared.set_input(Some(report));
    if receiving {
        if !shared.signal.load(Ordering::Relaxed) {
            tracing::info!(input = %label, "packets arrive");
            shared.set_problem(None);
            shared.signal.store(true, Ordering::Release);
        }
    } else {
        if shared.signal.load(Ordering::Relaxed) {
            tracing::warn!(input = %label, "{reason}");
        }
        shared.set_problem(Some(reason));
        shared.signal.store(false, Ordering::Release);
    }
}

/// passthru mode: the input's packets, as the capture copied them to the
/// tap, to the passthru output and its taps until `stopped`. A send that
/// fails is logged (once until one succeeds again); the transcoded stream
/// goes on.
pub fn passthru(
    tapped: &Receiver<TsPackets>,
    output: PassthruOutput,
    stream: &str,
    stopped: &dyn Fn() -> bool,
) {
    let PassthruOutput { mut output, taps } = output;
    let status = output.status();
    let mut failing = false;
    let mut unflushed = false;
    while !stopped() {
        let result = match tapped.recv_timeout(POLL) {
            Ok(batch) => {
                unflushed = true;
                let sent = output.send(batch.iter()).map(drop);
                if sent.is_ok() {
                    status.took(batch.iter(), Instant::now());
                    taps.deliver(batch.as_flattened());
                }
                sent
            }
            Err(RecvTimeoutError::Timeout) if unflushed => {
                unflushed = false;
                output.flush()
            }
            Err(RecvTimeoutError::Timeout) => Ok(()),
            // No capture holds the tap: wait for the next one, or the stop.
            Err(RecvTimeoutError::Disconnected) => {
                thread::sleep(POLL);
                Ok(())
            }
        };
        match result {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                tracing::warn!(stream, "passthru output: {e}");
                failing = true;
            }
            Err(_) => {}
        }
    }
    if let Err(e) = output.flush() {
        tracing::warn!(stream, "passthru output: {e}");
    }
}
