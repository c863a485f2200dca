//! Changing the box's network, from the serial console and the front
//! panel: `network.conf` written through `makara_board::netconf` (checked,
//! atomic), then the image's apply command run (`/etc/makara/network
//! apply`, `image/network`), so a change takes effect at once and persists.

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use makara_board::netconf::{NetConfError, Network, NetworkConf};

use crate::console::programs::CommandLine;

/// Where the image keeps the file (its data disk's root, not makarad's
/// data directory).
pub const DEFAULT_CONF: &str = "/data/network.conf";
/// The image's apply command.
pub const DEFAULT_APPLY: &str = "/etc/makara/network apply";
/// How long the apply command may take (DHCP waits 3 s in the foreground).
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of the apply command's error output is kept.
const MAX_ERROR_BYTES: u64 = 2048;

/// The file and the command that applies it.
#[derive(Debug, Clone)]
pub struct NetworkPlace {
    /// `network.conf`.
    pub conf: PathBuf,
    /// Run after each change.
    pub apply: CommandLine,
}

/// Why a change did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Refused, or the file could not be written: nothing changed.
    #[error(transparent)]
    Conf(#[from] NetConfError),
    /// Saved, but applying failed: it takes effect at the next boot.
    #[error("saved, but `{command}` failed: {why}; it takes effect at the next boot")]
    Apply { command: String, why: String },
}

impl NetworkPlace {
    /// The configuration as the file has it.
    pub fn read(&self) -> Result<NetworkConf, NetConfError> {
        NetworkConf::read(&self.conf)
    }

    /// Saves `network` (with `dns` for a static configuration; `None`
    /// keeps the file's) and applies it. Switching to DHCP drops the name
    /// servers: the lease brings its own.
    pub fn change(&self, network: Network, dns: Option<Vec<Ipv4Addr>>) -> Result<(), ChangeError> {
        let mut conf = self.read()?;
        conf.network = network;
        match (network, dns) {
            (Network::Dhcp, _) => conf.dns.clear(),
            (Network::Static(_), Some(dns)) => conf.dns = dns,
            (Network::Static(_), None) => {}
        }
        conf.write(&self.conf)?;
        tracing::info!(network = %network, dns = ?conf.dns, "network changed; applying");
        self.apply().map_err(|why| ChangeError::Apply {
            command: self.apply.to_string(),
            why,
        })
    }

    fn apply(&self) -> Result<(), String> {
        let mut child = self
            .apply
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run it: {e}"))?;
        let stderr = child.stderr.take();
        let reader = thread::spawn(move || {
            let mut text = String::new();
            if let Some(stderr) = stderr {
                let _ = stderr.take(MAX_ERROR_BYTES).read_to_string(&mut text);
            }
            text
        });
        let status = wait_within(&mut child, APPLY_TIMEOUT);
        let said = reader.join().unwrap_or_default();
        let said = said.trim();
        match status {
            Some(status) if status.success() => Ok(()),
            Some(status) if said.is_empty() => Err(format!("it ended with {status}")),
            Some(_) => Err(said.to_owned()),
            None => Err(format!(
                "it took over {} s and was stopped",
                APPLY_TIMEOUT.as_secs()
            )),
        }
    }
}

/// The child's exit status, or `None` (and the child killed) if it takes
/// longer than `limit`.
fn wait_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use makara_board::netconf::StaticNetwork;
    use makara_test_support::TestDir;

    use super::*;

    fn place(dir: &TestDir, script: &str) -> NetworkPlace {
        let apply = dir.path().join("apply");
        fs::write(&apply, format!("#!/bin/sh\n{script}\n")).unwrap();
        fs::set_permissions(&apply, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        NetworkPlace {
            conf: dir.path().join("network.conf"),
            apply: CommandLine::parse(&apply.display().to_string()).unwrap(),
        }
    }

    fn fixed() -> Network {
        Network::Static(StaticNetwork {
            address: Ipv4Addr::new(10, 0, 2, 20),
            prefix: 24,
            gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
        })
    }

    #[test]
    fn a_change_is_saved_then_applied() {
        let dir = TestDir::new("network");
        let applied = dir.path().join("applied");
        let place = place(
            &dir,
            &format!(
                "cat {} > {}",
                dir.path().join("network.conf").display(),
                applied.display()
            ),
        );
        place
            .change(fixed(), Some(vec![Ipv4Addr::new(10, 0, 2, 3)]))
            .unwrap();
        let seen = fs::read_to_string(&applied).unwrap();
        assert_eq!(
            seen,
            "MODE=static\nADDRESS=10.0.2.20/24\nGATEWAY=10.0.2.2\nDNS=\"10.0.2.3\"\n"
        );
        place.change(Network::Dhcp, None).unwrap();
        assert_eq!(fs::read_to_string(&applied).unwrap(), "MODE=dhcp\n");
    }

    #[test]
    fn a_failed_apply_says_why_and_keeps_the_file() {
        let dir = TestDir::new("network");
        let place = place(&dir, "echo 'no interface eth0' >&2; exit 1");
        let err = place.change(fixed(), None).unwrap_err().to_string();
        assert!(
            err.contains("failed: no interface eth0; it takes effect at the next boot"),
            "{err}"
        );
        assert_eq!(place.read().unwrap().network, fixed());
    }

    #[test]
    fn a_refused_change_runs_nothing() {
        let dir = TestDir::new("network");
        let ran = dir.path().join("ran");
        let place = place(&dir, &format!("touch {}", ran.display()));
        let broadcast = Network::Static(StaticNetwork {
            address: Ipv4Addr::new(10, 0, 2, 255),
            prefix: 24,
            gateway: None,
        });
        assert!(matches!(
            place.change(broadcast, None),
            Err(ChangeError::Conf(_))
        ));
        assert!(!ran.exists());
        assert!(!place.conf.exists());
    }
}
