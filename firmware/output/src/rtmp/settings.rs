//! An RTMP output's settings, resolved from its configuration.

use std::time::Duration;

use makara_config::{OutputConfig, OutputKind, RetryPolicy, RtmpUrl};
use makara_rtmp::PublishTarget;

use crate::udp::OutputError;

/// An RTMP push as its thread runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtmpSettings {
    /// The output's name, as reports and logs say it.
    pub name: String,
    pub url: RtmpUrl,
    pub retry: RetryPolicy,
    /// The output's `tos` and `ttl`, on every packet of the connection.
    pub marking: Marking,
}

/// How the connection's packets are marked: IPv4 TOS (DSCP), and TTL
/// or IPv6 hop limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marking {
    pub tos: u8,
    pub ttl: u8,
}

impl RtmpSettings {
    pub fn from_output(output: &OutputConfig) -> Result<RtmpSettings, OutputError> {
        let OutputKind::Rtmp { url } = &output.kind else {
            return Err(OutputError::NotRtmp(output.name.clone()));
        };
        Ok(RtmpSettings {
            name: output.name.clone(),
            url: url.clone(),
            retry: output.retry,
            marking: Marking {
                tos: output.tos,
                ttl: output.ttl,
            },
        })
    }

    /// The server and application without the stream key (the CDN's
    /// secret): how every message names the output's destination.
    pub fn destination(&self) -> String {
        self.url.redacted()
    }

    pub fn target(&self) -> PublishTarget {
        PublishTarget {
            app: self.url.app().to_string(),
            tc_url: self.url.tc_url(),
            stream_key: self.url.stream_key().to_string(),
        }
    }

    /// The wait before the retry that follows `failures` failed attempts
    /// in a row: 1 s, doubling, at most `retryDelayMax`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doubled = 1u64 << failures.saturating_sub(1).min(20);
        Duration::from_secs(doubled.min(u64::from(self.retry.delay_max_s.max(1))))
    }

    /// Whether `failures` attempts in a row use up the retry limit.
    pub fn gives_up_after(&self, failures: u32) -> bool {
        self.retry.limit != 0 && failures >= self.retry.limit
    }
}

#[cfg(test)]
mod tests {
    use makara_config::{OutputRequest, OutputType};

    use super::*;

    fn settings(url: &str, limit: Option<i64>, delay_max: Option<i64>) -> RtmpSettings {
        let config = OutputRequest {
            url: Some(url.into()),
            stream_type: Some(OutputType::Rtmp),
            retry_limit: limit,
            retry_delay_max: delay_max,
            ..OutputRequest::default()
        }
        .validate()
        .unwrap();
        RtmpSettings::from_output(&config).unwrap()
    }

    #[test]
    fn the_destination_leaves_the_stream_key_out() {
        let s = settings("rtmp://cdn.example:1936/pp/secret", None, None);
        assert_eq!(s.destination(), "rtmp://cdn.example:1936/pp");
        let target = s.target();
        assert_eq!(target.app, "pp");
        assert_eq!(target.stream_key, "secret");
        assert_eq!(target.tc_url, "rtmp://cdn.example:1936/pp");
    }

    #[test]
    fn backoff_doubles_from_one_second_to_the_cap() {
        let s = settings("rtmp://h/app/key", Some(3), Some(5));
        let waits: Vec<u64> = (1..=5).map(|n| s.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert!(!s.gives_up_after(2));
        assert!(s.gives_up_after(3));
        let forever = settings("rtmp://h/app/key", None, None);
        assert!(!forever.gives_up_after(1000));
        assert_eq!(forever.backoff(40).as_secs(), 30);
    }
}
