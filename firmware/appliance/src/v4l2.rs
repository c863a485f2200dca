//! `makarad v4l2`: a V4L2 device's controls, listed and set: what a field
//! engineer reaches for (brightness, test-pattern and error-injection
//! controls of vivid) without v4l2-ctl in the image.

use clap::{Args, Subcommand};
use makara_v4l2::service::{settable_controls, Control};
use makara_v4l2::Device;

use crate::exit::{ExitCode, Failure};

#[derive(Debug, Args)]
pub struct V4l2Args {
    #[command(subcommand)]
    pub action: V4l2Action,
}

#[derive(Debug, Subcommand)]
pub enum V4l2Action {
    /// List the integer, boolean and menu controls with their ranges.
    Controls {
        /// The device node.
        #[arg(long, default_value = "/dev/video0")]
        device: String,
    },
    /// Set one control: `NAME=VALUE`, NAME as `controls` lists it.
    Set {
        /// The device node.
        #[arg(long, default_value = "/dev/video0")]
        device: String,
        /// e.g. "Percentage of Dropped Buffers=100".
        assignment: String,
    },
}

pub fn run(args: V4l2Args) -> Result<(), Failure> {
    match args.action {
        V4l2Action::Controls { device } => {
            let device = open(&device)?;
            for c in controls(&device)? {
                let value = c
                    .value(&device)
                    .map_or_else(|e| format!("({e})"), |v| v.to_string());
                println!(
                    "{}: {value} (range {}-{}, default {})",
                    c.name, c.minimum, c.maximum, c.default_value
                );
            }
            Ok(())
        }
        V4l2Action::Set { device, assignment } => {
            let device = open(&device)?;
            let (name, value) = parse_assignment(&assignment)?;
            let all = controls(&device)?;
            let Some(c) = all.iter().find(|c| c.name.eq_ignore_ascii_case(name)) else {
                return Err(usage(format!(
                    "{} has no control '{name}'; it has: {}",
                    device.path(),
                    all.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            if !(c.minimum..=c.maximum).contains(&value) {
                return Err(usage(format!(
                    "{value} is out of range for '{}': {}-{}",
                    c.name, c.minimum, c.maximum
                )));
            }
            c.set(&device, value)
                .map_err(|e| Failure::new(ExitCode::Failed, format!("{}: {e}", device.path())))?;
            println!("{}: {value}", c.name);
            Ok(())
        }
    }
}

fn open(path: &str) -> Result<Device, Failure> {
    Device::open(path).map_err(|e| Failure::new(ExitCode::Failed, format!("{path}: {e}")))
}

fn usage(message: String) -> Failure {
    Failure::new(ExitCode::Failed, message)
}

/// `NAME=VALUE` with an integer value.
fn parse_assignment(text: &str) -> Result<(&str, i32), Failure> {
    let (name, value) = text
        .rsplit_once('=')
        .ok_or_else(|| usage(format!("'{text}' is not NAME=VALUE")))?;
    let value = value
        .trim()
        .parse::<i32>()
        .map_err(|_| usage(format!("'{}' is not an integer value", value.trim())))?;
    Ok((name.trim(), value))
}

/// The controls a value can be set on (integers, booleans, menus).
fn controls(device: &Device) -> Result<Vec<Control>, Failure> {
    settable_controls(device)
        .map_err(|e| Failure::new(ExitCode::Failed, format!("{}: {e}", device.path())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_split_at_the_last_equals_sign() {
        let (n, v) = parse_assignment("Percentage of Dropped Buffers=100").unwrap();
        assert_eq!((n, v), ("Percentage of Dropped Buffers", 100));
        assert!(parse_assignment("Brightness").is_err());
        assert!(parse_assignment("Brightness=high").is_err());
        assert_eq!(parse_assignment("a=b=-3").unwrap(), ("a=b", -3));
    }
}
