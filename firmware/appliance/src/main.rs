//! `makarad`, the appliance's supervisor binary.

#![forbid(unsafe_code)]

mod bench;
mod board;
mod cli;
mod console;
mod control;
mod demo;
mod exit;
mod front_panel;
mod keys;
mod leds;
mod logging;
mod media;
mod network;
mod onvif;
mod operator;
mod rtsp_login;
mod serve;
mod users;
mod v4l2;
mod watchdog;

use std::io::Write;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logging::init(&logging::LogSettings {
        filter: &cli.log_level,
        file: cli.log_file.as_deref(),
        max_bytes: cli.log_file_kib * 1024,
    });
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::ApiKey(args) => keys::api_key(args),
        Command::Api(args) => keys::api_switch(args),
        Command::User(args) => users::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Console(args) => console::run(args),
        Command::V4l2(args) => v4l2::run(args),
    };
    match result {
        Ok(()) => ExitCode::Ok.into(),
        Err(e) => {
            report_failure(&exit::chain(&*e.error));
            e.code.into()
        }
    }
}

/// On stderr, where a caller looks, and in the log file if there is one.
/// A failure to write either changes nothing: the exit code still tells.
fn report_failure(text: &str) {
    let _ = writeln!(std::io::stderr(), "makarad: {text}");
    if logging::to_file() {
        tracing::error!("{text}");
    }
}
