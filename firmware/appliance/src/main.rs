//! `makarad`, the appliance's supervisor binary.

#![forbid(unsafe_code)]

mod bench;
mod cli;
mod console;
mod demo;
mod exit;
mod keys;
mod media;
mod serve;
mod v4l2;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::ApiKey(args) => keys::api_key(args),
        Command::Api(args) => keys::api_switch(args),
        Command::Bench(args) => bench::run(args),
        Command::Console(args) => console::run(args),
        Command::V4l2(args) => v4l2::run(args),
    };
    match result {
        Ok(()) => ExitCode::Ok.into(),
        Err(e) => {
            eprintln!("makarad: {}", exit::chain(&*e.error));
            e.code.into()
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
