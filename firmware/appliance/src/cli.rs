//! The command line. Acceptance tests rely on it: extend it, don't change it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "makarad",
    version,
    about = "Makara video encoder appliance supervisor"
)]
pub struct Cli {
    /// Log filter, e.g. `info`, `debug`, `makara_api=debug`.
    #[arg(long, global = true, default_value = "info")]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance: supervisor and HTTPS API.
    Serve(ServeArgs),
    /// Manage the OAuth consumer keys of the API.
    #[command(name = "api-key")]
    ApiKey(ApiKeyArgs),
    /// Switch the API on or off.
    Api(ApiArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the configuration, keys and certificate live.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Address and port of the HTTPS API.
    #[arg(long, default_value = "0.0.0.0:443")]
    pub listen: SocketAddr,
    /// On an empty configuration, add and start the demo preset.
    #[arg(long)]
    pub demo: bool,
    /// PEM certificate chain to serve instead of the generated one.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    #[command(subcommand)]
    pub action: ApiKeyAction,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// Create a consumer key and secret, and enable the API.
    Create(DataDir),
    /// List the consumer keys (not their secrets).
    List(DataDir),
    /// Revoke a consumer key.
    Revoke {
        /// The consumer key to revoke.
        key: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    #[command(subcommand)]
    pub action: ApiAction,
}

#[derive(Debug, Subcommand)]
pub enum ApiAction {
    /// Accept API requests.
    Enable(DataDir),
    /// Refuse every API request with 403.
    Disable(DataDir),
}

#[derive(Debug, Args)]
pub struct DataDir {
    /// The appliance's data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
}
