//! `makarad serve --onvif-port`: the ONVIF device service beside the API,
//! and WS-Discovery with `--onvif-discovery`. Both stop when the API does;
//! discovery says Bye first.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use makara_api::discovery::{Announce, Discovery};
use makara_api::onvif::{self, Onvif};
use makara_api::App;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::ServeArgs;
use crate::exit::{ExitCode, Failure};

/// How long stopping waits for the ONVIF tasks (discovery's Bye).
const STOP_WAIT: Duration = Duration::from_secs(2);

/// Starts what the arguments ask for; nothing without `--onvif-port`.
pub async fn start(
    args: &ServeArgs,
    app: &Arc<App>,
    stop: &watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, Failure> {
    let Some(port) = args.onvif_port else {
        return Ok(Vec::new());
    };
    let address = SocketAddr::new(args.listen.ip(), port);
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        Failure::new(
            ExitCode::Network,
            format!("cannot listen for ONVIF on {address}: {e}"),
        )
    })?;
    let service = Arc::new(Onvif::new(Arc::clone(app)));
    let mut tasks = Vec::new();
    if args.onvif_discovery {
        let facts = service
            .facts()
            .await
            .map_err(|f| Failure::new(ExitCode::Failed, f.reason().to_owned()))?;
        let announce = Announce {
            onvif: address,
            server_id: app.server_id.clone(),
            scopes: onvif::scopes(&facts),
        };
        let discovery = Discovery::bind(app.supervisor.clone(), announce)
            .map_err(|e| Failure::new(ExitCode::Network, e))?;
        tasks.push(tokio::spawn(discovery.run(stop.clone())));
    }
    let router = onvif::router(service);
    tasks.push(tokio::spawn(makara_api::server::serve_plain(
        listener,
        router,
        stopped(stop.clone()),
    )));
    tracing::info!(
        "ONVIF device service ready at http://{address}{}{}",
        onvif::DEVICE_PATH,
        if args.onvif_discovery {
            " (WS-Discovery on)"
        } else {
            ""
        }
    );
    Ok(tasks)
}

/// Waits for the ONVIF tasks to end after a stop, within a bound.
pub async fn finish(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        if tokio::time::timeout(STOP_WAIT, task).await.is_err() {
            tracing::warn!("an ONVIF task did not stop in time");
        }
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}
