//! The streams in the saved configuration, read-only, for `status`.
//!
//! The supervisor keeps its document (`DATA_DIR/config.{a,b}`) private, so
//! this reads the same slots through `makara-store` and picks out only
//! what `status` shows: stream names, whether each was last started or
//! stopped, and how many inputs, outputs and transcoders there are. It
//! reads the TOML as a plain table, so fields it does not know are no
//! concern, and it never writes or locks anything: a running
//! `makarad serve` owns the document.

use std::path::Path;

use makara_store::{LoadError, Slots};
use thiserror::Error;
use toml::{Table, Value};

/// The document's slot name, as `makara-supervisor` saves it.
const SLOT_NAME: &str = "config";

/// What `status` shows of the saved configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    pub streams: Vec<SavedStream>,
    pub inputs: usize,
    pub outputs: usize,
    pub transcoders: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedStream {
    pub name: String,
    /// The last command was a start (it is in the running set), so it
    /// starts again at boot.
    pub started: bool,
    pub auto_start: bool,
}

/// Why the saved configuration could not be read.
#[derive(Debug, Error)]
pub enum ReadSavedError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("the configuration is not UTF-8")]
    NotUtf8,
    #[error("the configuration is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
}

/// The saved configuration in `data_dir`; an empty one if nothing was
/// saved yet.
pub fn read(data_dir: &Path) -> Result<Saved, ReadSavedError> {
    match Slots::new(data_dir, SLOT_NAME).load()? {
        None => Ok(Saved::default()),
        Some(loaded) => {
            let text = std::str::from_utf8(&loaded.payload).map_err(|_| ReadSavedError::NotUtf8)?;
            Ok(decode(&toml::from_str::<Table>(text)?))
        }
    }
}

/// Picks the parts `status` shows out of the document; missing parts read
/// as empty, as they do for the supervisor.
fn decode(document: &Table) -> Saved {
    let current = document.get("current").and_then(Value::as_table);
    let rows = |kind: &str| -> Vec<&Table> {
        let array = current.and_then(|c| c.get(kind)).and_then(Value::as_array);
        array
            .map(|a| a.iter().filter_map(Value::as_table).collect())
            .unwrap_or_default()
    };
    let running: Vec<&str> = document
        .get("running")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let streams = rows("streams")
        .into_iter()
        .map(|row| {
            let id = row.get("id").and_then(Value::as_str).unwrap_or_default();
            let value = row.get("value").and_then(Value::as_table);
            let field = |name: &str| value.and_then(|v| v.get(name));
            SavedStream {
                name: field("name")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_owned(),
                started: running.contains(&id),
                auto_start: field("auto_start")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }
        })
        .collect();
    Saved {
        streams,
        inputs: rows("inputs").len(),
        outputs: rows("outputs").len(),
        transcoders: rows("transcoders").len(),
    }
}

#[cfg(test)]
mod tests {
    use makara_test_support::TestDir;

    use super::*;

    /// The shape `makara-supervisor` saves (trimmed from a real
    /// `makarad serve --demo` document, plus a second, stopped stream).
    const DOCUMENT: &str = r#"
format = 1
running = ["f1c64a45-4f12-4e7f-b239-02c424c4840e"]
presets = []

[[current.inputs]]
id = "2cb5de09-3e89-47fd-bda8-354bd47239a9"
[current.inputs.value]
name = "Demo test pattern"

[[current.outputs]]
id = "efca5eb0-f649-4a48-80d4-e3794aff6ab2"
[current.outputs.value]
name = "Demo UDP 127.0.0.1:5000"

[[current.outputs]]
id = "0fca5eb0-f649-4a48-80d4-e3794aff6ab2"
[current.outputs.value]
name = "second"

[[current.streams]]
id = "f1c64a45-4f12-4e7f-b239-02c424c4840e"
[current.streams.value]
name = "Demo"
auto_start = true
mode = "Transcoder"

[[current.streams]]
id = "a1c64a45-4f12-4e7f-b239-02c424c4840e"
[current.streams.value]
name = "Spare"
auto_start = false
"#;

    #[test]
    fn names_states_and_counts_come_from_the_document() {
        let saved = decode(&toml::from_str(DOCUMENT).unwrap());
        assert_eq!(saved.inputs, 1);
        assert_eq!(saved.outputs, 2);
        assert_eq!(saved.transcoders, 0);
        assert_eq!(
            saved.streams,
            vec![
                SavedStream {
                    name: "Demo".into(),
                    started: true,
                    auto_start: true
                },
                SavedStream {
                    name: "Spare".into(),
                    started: false,
                    auto_start: false
                },
            ]
        );
    }

    #[test]
    fn an_empty_document_has_nothing() {
        assert_eq!(decode(&Table::new()), Saved::default());
    }

    #[test]
    fn a_fresh_data_dir_has_an_empty_configuration() {
        let dir = TestDir::new("console-streams-fresh");
        assert_eq!(read(&dir.path().join("absent")).unwrap(), Saved::default());
        assert_eq!(read(dir.path()).unwrap(), Saved::default());
    }

    #[test]
    fn the_saved_slots_are_read() {
        let dir = TestDir::new("console-streams-saved");
        Slots::new(dir.path(), SLOT_NAME)
            .save(DOCUMENT.as_bytes())
            .unwrap();
        let saved = read(dir.path()).unwrap();
        assert_eq!(saved.streams.len(), 2);
        assert_eq!(saved.outputs, 2);
    }

    #[test]
    fn a_damaged_document_is_an_error_not_a_panic() {
        let dir = TestDir::new("console-streams-bad");
        Slots::new(dir.path(), SLOT_NAME)
            .save(b"current = [not toml")
            .unwrap();
        assert!(matches!(read(dir.path()), Err(ReadSavedError::Toml(_))));
    }
}
