//! `makarad api-key …` and `makarad api …`: they change the access file,
//! which a running server re-reads within a second.

use makara_access::AccessStore;

use crate::cli::{ApiAction, ApiArgs, ApiKeyAction, ApiKeyArgs};
use crate::exit::{ExitCode, Failure};

pub fn api_key(args: ApiKeyArgs) -> Result<(), Failure> {
    let fail = |e| Failure::new(ExitCode::Failed, e);
    match args.action {
        ApiKeyAction::Create(dir) => {
            let key = AccessStore::open(&dir.data_dir)
                .create_key()
                .map_err(fail)?;
            println!("consumer_key: {}", key.consumer_key);
            println!("consumer_secret: {}", key.consumer_secret);
        }
        ApiKeyAction::List(dir) => {
            let state = AccessStore::open(&dir.data_dir).load().map_err(fail)?;
            for key in &state.keys {
                println!(
                    "consumer_key: {} created: {}",
                    key.consumer_key, key.created_unix
                );
            }
            if !state.enabled {
                eprintln!("note: the API is disabled (makarad api enable --data-dir …)");
            }
        }
        ApiKeyAction::Revoke { key, dir } => {
            let found = AccessStore::open(&dir.data_dir)
                .revoke(&key)
                .map_err(fail)?;
            if !found {
                return Err(Failure::new(
                    ExitCode::Failed,
                    format!("no consumer key {key}"),
                ));
            }
            println!("revoked: {key}");
        }
    }
    Ok(())
}

pub fn api_switch(args: ApiArgs) -> Result<(), Failure> {
    let (dir, enabled) = match args.action {
        ApiAction::Enable(d) => (d, true),
        ApiAction::Disable(d) => (d, false),
    };
    AccessStore::open(&dir.data_dir)
        .set_enabled(enabled)
        .map_err(|e| Failure::new(ExitCode::Failed, e))?;
    println!("api: {}", if enabled { "enabled" } else { "disabled" });
    Ok(())
}
