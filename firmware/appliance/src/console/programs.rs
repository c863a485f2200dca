//! The programs the console hands over to: the reboot and poweroff
//! commands, and the service shell.

use std::fmt;
use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

/// A program and its arguments, given as one option split at whitespace
/// (no shell quoting): `reboot`, `/bin/sh -l`, `/usr/local/bin/x --now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    program: String,
    args: Vec<String>,
}

impl CommandLine {
    /// The clap value parser: any text with at least one word.
    pub fn parse(text: &str) -> Result<CommandLine, String> {
        let mut words = text.split_whitespace().map(str::to_owned);
        let program = words.next().ok_or("expected a program, e.g. `reboot`")?;
        Ok(CommandLine {
            program,
            args: words.collect(),
        })
    }

    pub fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.args);
        command
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

/// Runs the `reboot` or `poweroff` command (`what`) to its end, shows its
/// output and says whether it worked. Either way the console carries on:
/// on success init ends it soon.
pub fn power(what: &str, command: &CommandLine, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{what}: running `{command}`")?;
    out.flush()?;
    let output = match command.command().stdin(Stdio::null()).output() {
        Ok(output) => output,
        Err(e) => return writeln!(out, "{what} failed: cannot run `{command}`: {e}"),
    };
    out.write_all(&output.stdout)?;
    out.write_all(&output.stderr)?;
    if output.status.success() {
        writeln!(out, "{what}: requested; the appliance goes down now")
    } else {
        let how = ended(output.status);
        writeln!(out, "{what} failed: `{command}` {how}")
    }
}

/// Runs the service shell on the console's own stdin, stdout and stderr
/// and waits for it.
pub fn shell(shell: &CommandLine, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "service shell: changes made here can break the appliance; type exit to return"
    )?;
    out.flush()?;
    match shell.command().status() {
        // A shell exits with the status of its last command: no news.
        Ok(status) if status.code().is_some() => Ok(()),
        Ok(status) => writeln!(out, "the shell {}", ended(status)),
        Err(e) => writeln!(out, "shell failed: cannot run `{shell}`: {e}"),
    }
}

/// "exited with status 1", "was killed by signal 9".
fn ended(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => format!("ended: {status}"),
    }
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    fn line(text: &str) -> CommandLine {
        CommandLine::parse(text).unwrap()
    }

    fn power_output(command: &str) -> String {
        let mut out = Vec::new();
        power("reboot", &line(command), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn command_lines_split_at_whitespace() {
        let parsed = line("  /bin/sh   -l ");
        assert_eq!(parsed.program, "/bin/sh");
        assert_eq!(parsed.args, ["-l"]);
        assert_eq!(parsed.to_string(), "/bin/sh -l");
        assert!(CommandLine::parse("   ").is_err());
    }

    #[test]
    fn a_working_power_command_is_reported_with_its_output() {
        assert_eq!(
            power_output("echo going down"),
            "reboot: running `echo going down`\ngoing down\nreboot: requested; the appliance goes down now\n"
        );
    }

    #[test]
    fn a_failing_power_command_says_how_it_failed() {
        let text = power_output("false");
        assert!(
            text.ends_with("reboot failed: `false` exited with status 1\n"),
            "{text}"
        );
        let text = power_output("/nonexistent/reboot now");
        assert!(
            text.contains("reboot failed: cannot run `/nonexistent/reboot now`: "),
            "{text}"
        );
    }

    fn shell_output(command: &str) -> String {
        let mut out = Vec::new();
        shell(&line(command), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_shell_warns_first_and_its_exit_status_is_no_news() {
        let warning =
            "service shell: changes made here can break the appliance; type exit to return\n";
        assert_eq!(shell_output("true"), warning);
        assert_eq!(shell_output("false"), warning);
    }

    #[test]
    fn a_shell_that_cannot_run_or_is_killed_is_reported() {
        let text = shell_output("/nonexistent/sh -l");
        assert!(
            text.ends_with("shell failed: cannot run `/nonexistent/sh -l`: No such file or directory (os error 2)\n"),
            "{text}"
        );
        let dir = TestDir::new("console-killed-shell");
        let script = dir.path().join("shell");
        std::fs::write(&script, "kill -9 $$\n").unwrap();
        let text = shell_output(&format!("sh {}", script.display()));
        assert!(
            text.ends_with("the shell was killed by signal 9\n"),
            "{text}"
        );
    }
}
