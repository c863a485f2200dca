//! `apibench`: a closed-loop HTTPS load generator for the Kraken API, and one
//! signed request for scripts (`apibench request`). Used by `scripts/bench-api`.

#![forbid(unsafe_code)]

mod bench;
mod client;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use client::{Endpoint, Error};

/// Benchmarks a Kraken API URL: each client sends freshly OAuth-signed GETs
/// back to back on one keep-alive HTTPS connection. `request` sends one
/// signed request, prints the body and fails unless the status is 2xx.
#[derive(Parser)]
#[command(name = "apibench")]
struct Args {
    /// `request` for a single request.
    #[arg(value_parser = ["request"])]
    command: Option<String>,
    /// `https://HOST:PORT/PATH` (no query).
    #[arg(long)]
    url: String,
    /// OAuth consumer key.
    #[arg(long)]
    key: String,
    /// OAuth consumer secret.
    #[arg(long)]
    secret: String,
    /// PEM file of the certificate(s) to trust.
    #[arg(long)]
    ca: PathBuf,
    /// Concurrent clients.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    clients: u16,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0, conflicts_with = "requests")]
    duration_secs: f64,
    /// Measure this many requests instead of a duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    requests: Option<u64>,
    /// Unmeasured seconds first.
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    /// Sign with `oauth_timestamp` this far in the past (600 s is accepted) so
    /// the server's replay cache (100 000 nonces) forgets each one sooner.
    #[arg(long, default_value_t = 0)]
    timestamp_skew_secs: u64,
    /// Method of `request`.
    #[arg(long, default_value = "GET")]
    method: String,
    /// File sent as the XML body of `request`.
    #[arg(long)]
    body: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(ok) => ExitCode::from(u8::from(!ok)),
        Err(e) => {
            eprintln!("apibench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs what `args` asks; `Ok(false)` when a request failed.
async fn run(args: Args) -> Result<bool, Error> {
    let endpoint = Endpoint::new(&args)?;
    if args.command.is_none() {
        let secs = |s: f64| Duration::try_from_secs_f64(s).map_err(|e| format!("{s} s: {e}"));
        let (duration, warmup) = (secs(args.duration_secs)?, secs(args.warmup_secs)?);
        let clients = usize::from(args.clients);
        return bench::run(endpoint, clients, duration, args.requests, warmup).await;
    }
    let body = match &args.body {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => String::new(),
    };
    let mut sender = endpoint.connect().await?;
    let (status, data) = endpoint.send(&mut sender, &args.method, body).await?;
    println!("{}", String::from_utf8_lossy(&data).trim_end());
    if !status.is_success() {
        eprintln!("apibench: {} {} answered {status}", args.method, args.url);
    }
    Ok(status.is_success())
}
