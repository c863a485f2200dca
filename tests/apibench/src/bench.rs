//! The closed loop: each client sends its next request as soon as the last
//! one's response is read, on its own keep-alive connection.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;
use hyper::StatusCode;

use crate::client::{Endpoint, Error};

/// Failures beyond this many are counted but not printed.
const MAX_PRINTED_FAILURES: u32 = 10;

struct Shared {
    endpoint: Endpoint,
    /// Requests started before this are warmup.
    measure_from: Instant,
    /// No request starts after this (duration mode).
    end: Option<Instant>,
    /// Requests still to measure (`u64::MAX` in duration mode).
    remaining: AtomicU64,
    printed: AtomicU32,
}

impl Shared {
    fn print_failure(&self, failure: &str, measured: bool) {
        if self.printed.fetch_add(1, Relaxed) < MAX_PRINTED_FAILURES {
            let phase = if measured { "" } else { " (warmup)" };
            let failure: Vec<&str> = failure.split_whitespace().collect();
            eprintln!("apibench: error{phase}: {}", failure.join(" "));
        }
    }
}

/// What one client saw during the measured phase.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    last_done: Option<Instant>,
}

/// Runs the benchmark (for `duration` unless `requests` is given) and
/// prints the report; `Ok(false)` if any request failed.
pub async fn run(
    endpoint: Endpoint,
    clients: usize,
    duration: Duration,
    requests: Option<u64>,
    warmup: Duration,
) -> Result<bool, Error> {
    // Handshakes happen before the clock starts: only requests are timed.
    let mut senders = Vec::with_capacity(clients);
    for _ in 0..clients {
        senders.push(endpoint.connect().await?);
    }
    let measure_from = Instant::now() + warmup;
    let shared = Arc::new(Shared {
        endpoint,
        measure_from,
        end: requests.is_none().then(|| measure_from + duration),
        remaining: AtomicU64::new(requests.unwrap_or(u64::MAX)),
        printed: AtomicU32::new(0),
    });
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|sender| tokio::spawn(client(Arc::clone(&shared), sender)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await?;
        total.latencies.extend(tally.latencies);
        total.errors += tally.errors;
        total.last_done = total.last_done.max(tally.last_done);
    }
    let elapsed = total.last_done.map_or(Duration::ZERO, |t| t - measure_from);
    Ok(report(clients, total, elapsed))
}

async fn client(shared: Arc<Shared>, mut sender: SendRequest<String>) -> Tally {
    let mut tally = Tally::default();
    loop {
        let started = Instant::now();
        let measured = started >= shared.measure_from;
        let remaining = &shared.remaining;
        let out_of_requests = || remaining.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
        if shared.end.is_some_and(|end| started >= end) || (measured && out_of_requests().is_err())
        {
            break;
        }
        let result = shared
            .endpoint
            .send(&mut sender, "GET", String::new())
            .await;
        let failure = match result {
            Ok((StatusCode::OK, _)) => None,
            Ok((status, body)) => Some(format!("{status}: {}", String::from_utf8_lossy(&body))),
            Err(e) => Some(format!("request failed: {e}")),
        };
        if measured {
            let done = Instant::now();
            tally.latencies.push(done - started);
            tally.last_done = Some(done);
            tally.errors += u64::from(failure.is_some());
        }
        let Some(failure) = failure else { continue };
        shared.print_failure(&failure, measured);
        if sender.is_closed() {
            match shared.endpoint.connect().await {
                Ok(s) => sender = s,
                Err(e) => {
                    shared.print_failure(&format!("reconnect failed: {e}"), measured);
                    tally.errors += 1;
                    break;
                }
            }
        }
    }
    tally
}

/// Prints `key: value` lines and a JSON line; true if there was no error.
fn report(clients: usize, mut tally: Tally, elapsed: Duration) -> bool {
    tally.latencies.sort_unstable();
    let n = tally.latencies.len();
    // Nearest-rank percentile, in milliseconds.
    let ms = |p: f64| -> f64 {
        let rank = (p / 100.0 * n as f64).ceil() as usize;
        tally
            .latencies
            .get(rank.clamp(1, n.max(1)) - 1)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let secs = elapsed.as_secs_f64();
    let rps = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let fields = [
        ("clients", clients.to_string()),
        ("requests", n.to_string()),
        ("errors", tally.errors.to_string()),
        ("duration_secs", format!("{secs:.3}")),
        ("requests_per_sec", format!("{rps:.1}")),
        ("p50_ms", format!("{:.3}", ms(50.0))),
        ("p90_ms", format!("{:.3}", ms(90.0))),
        ("p99_ms", format!("{:.3}", ms(99.0))),
        ("max_ms", format!("{:.3}", ms(100.0))),
    ];
    let json: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    fields
        .iter()
        .for_each(|(key, value)| println!("{key}: {value}"));
    println!("{{{}}}", json.join(","));
    tally.errors == 0 && n > 0
}
