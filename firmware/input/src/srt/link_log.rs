//! What an SRT input reports in any mode: its label, how many links it
//! has had, and what is wrong now, each problem logged once.

use std::fmt::Arguments;

#[derive(Debug)]
pub struct LinkLog {
    /// The input's label, for its report.
    pub label: String,
    /// "SRT caller to 127.0.0.1:9000": how log lines and problems start.
    pub who: String,
    connections: u64,
    problem: Option<String>,
}

impl LinkLog {
    pub fn new(label: String, who: String) -> LinkLog {
        LinkLog {
            label,
            who,
            connections: 0,
            problem: None,
        }
    }

    pub fn connections(&self) -> u64 {
        self.connections
    }

    pub fn problem(&self) -> Option<String> {
        self.problem.clone()
    }

    /// A link is up: it is counted and ends the problem.
    pub fn connected(&mut self, what: Arguments) {
        tracing::info!("{}: {what}", self.who);
        self.connections += 1;
        self.problem = None;
    }

    /// What is wrong now; logged unless it is the problem already shown
    /// (a peer that stays away fails every attempt the same way).
    pub fn trouble(&mut self, why: Arguments) {
        let problem = format!("{}: {why}", self.who);
        if self.problem.as_ref() != Some(&problem) {
            tracing::warn!("{problem}");
        }
        self.problem = Some(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_counts_and_clears_the_problem() {
        let mut log = LinkLog::new(
            "srt://:9000 (listener)".into(),
            "SRT listener on :9000".into(),
        );
        log.trouble(format_args!(
            "caller 127.0.0.1:5000 left; waiting for a caller"
        ));
        assert_eq!(
            log.problem().as_deref(),
            Some("SRT listener on :9000: caller 127.0.0.1:5000 left; waiting for a caller")
        );
        log.connected(format_args!("caller 127.0.0.1:5001 connected"));
        assert_eq!((log.connections(), log.problem()), (1, None));
    }
}
