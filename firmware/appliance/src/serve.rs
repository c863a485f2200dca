//! `makarad serve`: the supervisor thread plus the HTTPS API.

use std::sync::Arc;

use makara_access::users::{UserStore, UserWatch};
use makara_access::AccessStore;
use makara_api::access::AccessWatch;
use makara_api::hmp::Hmp;
use makara_api::tls::{self, CertKeeper, CertPaths, CertStatus};
use makara_api::App;
use makara_store::DirLock;
use makara_supervisor::{Command, Handle, LocalRecorder, Reply};

use crate::cli::ServeArgs;
use crate::exit::{ExitCode, Failure};
use crate::front_panel::{PanelThread, PanelWork};
use crate::network::NetworkPlace;

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let board = crate::board::choose(args.board.as_deref())?;
    // One supervisor per data directory: two would overwrite each other.
    let _lock = DirLock::try_acquire(&args.data_dir, "makarad")
        .map_err(|e| Failure::new(ExitCode::Busy, e))?;
    // A recorder that cannot open leaves recordings unavailable (each says
    // why); the rest of the appliance serves as ever.
    let recorder = LocalRecorder::open(&args.data_dir.join("recordings"));
    let engine = Box::new(crate::media::engine());
    let limits = crate::board::limits(&board);
    let (supervisor, thread) = Handle::start_on_board(&args.data_dir, engine, recorder, limits)
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    // Dropped on every way out of `run` but a crash: see watchdog.rs.
    let watchdog = start_watchdog(&args, &board, &supervisor);
    let leds = crate::leds::start(&args.leds_root, &board.profile.leds, &supervisor);
    if args.demo {
        crate::demo::install(&supervisor);
    }
    // Without it the console cannot reach the streams, but the API can:
    // serve on.
    let control =
        (args.control_socket.clone()).unwrap_or_else(|| crate::control::socket_in(&args.data_dir));
    let debug = if args.debug_commands {
        tracing::warn!("debug commands are on (--debug-commands): never in production");
        crate::control::DebugCommands::On
    } else {
        crate::control::DebugCommands::Off
    };
    let control = match crate::control::listen(&control, supervisor.clone(), debug) {
        Ok(listening) => Some(listening),
        Err(e) => {
            let path = control.display();
            tracing::error!("control socket {path}: {e}; the console cannot start or stop streams");
            None
        }
    };
    let panel = start_panel(&args, &board, &supervisor);
    let access = AccessWatch::open(AccessStore::open(&args.data_dir))
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    let tls = tls_config(&args)?;
    let server_id = match supervisor.call(Command::Server) {
        Ok(Reply::Server(s)) => s.id,
        _ => makara_board::server_id(),
    };
    let users = Arc::new(
        UserWatch::open(UserStore::open(&args.data_dir))
            .map_err(|e| Failure::new(ExitCode::Failed, e))?,
    );
    crate::rtsp_login::install(args.rtsp_login, &users);
    let hmp = Hmp::new(users, std::time::Duration::from_secs(args.login_idle_secs));
    let app = Arc::new(App::new(supervisor, Arc::new(access), hmp, server_id));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("api")
        .build()
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    runtime.block_on(serve(args, app, tls))?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if let Some(panel) = panel {
        panel.finish();
    }
    // LEDs off; the watchdog disarmed by its magic close; the control
    // socket closed: each holds a handle, and the supervisor halts the
    // streams and ends only once every handle is gone.
    drop(leds);
    drop(watchdog);
    drop(control);
    // With every handle gone the supervisor stops its streams and ends.
    let _ = thread.join();
    let lost = crate::logging::lost_lines();
    if lost > 0 {
        tracing::warn!(lost, "log lines could not be written while serving");
    }
    Ok(())
}

/// The watchdog of `--watchdog` or the board's, fed while the supervisor
/// answers; none when there is none or it cannot be opened (logged).
fn start_watchdog(
    args: &ServeArgs,
    board: &makara_board::Selection,
    supervisor: &Handle,
) -> Option<crate::watchdog::WatchdogThread> {
    match crate::board::watchdog_device(board, args.watchdog.as_ref()) {
        (Some(device), _) => crate::watchdog::start(&device, supervisor),
        (None, by) => {
            tracing::info!("no hardware watchdog ({by})");
            None
        }
    }
}

/// The front panel's thread, on `--panel`'s line or the board's. One that
/// cannot start is logged: the box serves without its panel.
fn start_panel(
    args: &ServeArgs,
    board: &makara_board::Selection,
    supervisor: &Handle,
) -> Option<PanelThread> {
    let profile = board.profile.front_panel.as_deref();
    let line = match crate::front_panel::chosen(args.panel.as_ref(), profile) {
        (Some(line), _) => line,
        (None, by) => {
            tracing::info!("no front panel ({by})");
            return None;
        }
    };
    let work = PanelWork {
        supervisor: supervisor.clone(),
        data_dir: args.data_dir.clone(),
        network: NetworkPlace {
            conf: args.network_conf.clone(),
            apply: args.network_apply.clone(),
        },
    };
    match crate::front_panel::start(line, work) {
        Ok(thread) => Some(thread),
        Err(e) => {
            tracing::error!("front panel: no thread for it: {e}; serving without it");
            None
        }
    }
}

fn tls_config(args: &ServeArgs) -> Result<Arc<CertKeeper>, Failure> {
    let failed = |e| Failure::new(ExitCode::Failed, e);
    let keeper = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => CertKeeper::operators(CertPaths {
            cert: cert.clone(),
            key: key.clone(),
        })
        .map_err(failed)?,
        _ => {
            let paths = CertPaths::in_data_dir(&args.data_dir);
            let host: tls::HostName = Box::new(makara_board::hostname);
            let (keeper, status) = CertKeeper::in_data_dir(paths, host).map_err(failed)?;
            let cert = keeper.paths().cert.display();
            match status {
                CertStatus::Generated(why) => {
                    tracing::info!(%cert, "generated a self-signed certificate: {why}");
                }
                CertStatus::Operator => {
                    tracing::info!(%cert, "using the operator's certificate (never replaced)");
                }
                CertStatus::Current => {}
            }
            keeper
        }
    };
    Ok(Arc::new(keeper))
}

async fn serve(args: ServeArgs, app: Arc<App>, tls: Arc<CertKeeper>) -> Result<(), Failure> {
    let config =
        tls::live_server_config(tls.live()).map_err(|e| Failure::new(ExitCode::Failed, e))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            Failure::new(
                ExitCode::Network,
                format!("cannot listen on {}: {e}", args.listen),
            )
        })?;
    app.access.spawn_poller();
    app.hmp.spawn_users_poller();
    tls.spawn_checks(std::time::Duration::from_secs(args.tls_check_secs));
    let access = app.access.current();
    tracing::info!(
        listen = %args.listen,
        api_enabled = access.enabled,
        keys = access.keys.len(),
        "Kraken API ready at https://{}/apis/kraken/",
        args.listen
    );
    if access.keys.is_empty() {
        tracing::warn!(
            "no API keys yet: run `makarad api-key create --data-dir {}`",
            args.data_dir.display()
        );
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let onvif = crate::onvif::start(&args, &app, &stopping).await?;
    let router = makara_api::router(app);
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    makara_api::server::serve(listener, config, router, shutdown).await;
    tracing::info!("shutting down");
    crate::onvif::finish(onvif).await;
    Ok(())
}

/// SIGTERM (init, systemd) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("signal handlers could not be installed; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
