//! The access state as the rest of the firmware sees it.

use crate::Credentials;

/// Whether the API is on, and who may use it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessState {
    pub enabled: bool,
    /// In order of creation.
    pub keys: Vec<Credentials>,
}

impl AccessState {
    /// The secret for `consumer_key`, if that key exists. Consumer keys are
    /// public identifiers sent in every request, so a plain comparison is
    /// fine here; comparing signatures must be constant-time.
    pub fn secret_for(&self, consumer_key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|c| c.consumer_key == consumer_key)
            .map(|c| c.consumer_secret.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_for_finds_the_matching_key() {
        let state = AccessState {
            enabled: true,
            keys: vec![
                Credentials {
                    consumer_key: "k1".into(),
                    consumer_secret: "s1".into(),
                    created_unix: 1,
                },
                Credentials {
                    consumer_key: "k2".into(),
                    consumer_secret: "s2".into(),
                    created_unix: 2,
                },
            ],
        };
        assert_eq!(state.secret_for("k2"), Some("s2"));
        assert_eq!(state.secret_for("k1"), Some("s1"));
        assert_eq!(state.secret_for("k3"), None);
        assert_eq!(state.secret_for(""), None);
    }
}
